import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { Decoder, Stream } from '@garmin/fitsdk'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { gatherStatus } from '../../src/status/index.js'
import { renderStatus } from '../../src/status/render.js'
import { DirStore } from '../../src/store/dir.js'
import { S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { dailyGaps, readDatasetState } from '../../src/sync/dataset-state.js'
import { datasetStatuses } from '../../src/sync/dataset-status.js'
import { dailyKey, perActivityKey } from '../../src/sync/datasets.js'
import { addDays } from '../../src/sync/time.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { createTestBucket, mapLimit, testS3Client } from '../helpers/s3.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'
import type { Simulator } from '../sim/server.js'
import {
  DAILY,
  dataCalls,
  NOW,
  PER_ACTIVITY,
  PREFIX,
  prefixOf,
  recentAccount,
  type Served,
  signedInClient,
  sum,
  syncer,
  TODAY,
  unzipOne,
} from './helpers.js'

const decoder = new TextDecoder()
const temp = join(process.cwd(), 'node_modules', '.cache', 'garmin-s3-datasets')

interface Target {
  name: string
  open: () => Promise<{ store: Store; path?: string }>
}

const TARGETS: Target[] = [
  {
    name: 'a local folder',
    open: async () => {
      const path = join(temp, `dir-${process.pid}-${Date.now()}`)
      return { store: new DirStore(path, { durable: false }), path }
    },
  },
  {
    name: 'S3 (moto)',
    open: async () => {
      const endpoint = inject('motoEndpoint')
      const bucket = await createTestBucket(testS3Client(endpoint), 'datasets')
      const store = new S3Store({
        bucket,
        endpoint,
        region: TEST_REGION,
        credentials: TEST_CREDENTIALS,
        pathStyle: true,
      })
      return { store }
    },
  },
]

let sim: Simulator
let firstDay: string
const days = (from: string, to: string) => {
  const out: string[] = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
}

beforeAll(async () => {
  sim = await recentAccount(90, { gapDays: 4 })
  firstDay = sim
    .listAll()
    .map((e) => e.startTimeGMT.slice(0, 10))
    .sort()[0]!
})

afterAll(async () => {
  await sim.close()
  await rm(temp, { recursive: true, force: true })
})

describe.each(TARGETS)('every dataset over 90 days into $name', (target) => {
  it('stores what Garmin served, then re-fetches only the revision window, replacing only what changed', async () => {
    const { store } = await target.open()
    const clock = new FakeClock(NOW)
    const served: Served = new Map()
    const garmin = await signedInClient(sim, clock, served)
    const { sync: syncAll, events } = syncer(garmin, store, clock)
    // The whole account: daily data from the first activity on (the default --since).
    const since = firstDay
    const sync = () => syncAll()
    const activities = sim.listAll().filter((a) => a.startTimeGMT.slice(0, 10) >= since)
    expect(activities.length).toBeGreaterThan(4)
    const dayCount = days(since, TODAY).length
    expect(dayCount).toBeGreaterThanOrEqual(85)

    // First run: the whole account, every dataset.
    const first = await sync()
    expect(first).toMatchObject({ exitCode: 0, partial: false, created: activities.length, failed: 0 })
    for (const spec of PER_ACTIVITY) {
      expect(first.datasets?.[spec.name]).toMatchObject({ created: activities.length, failed: 0 })
      expect(first.datasets?.[spec.name]?.requests).toBe(activities.length)
    }
    for (const spec of DAILY) {
      const counts = first.datasets?.[spec.name]
      // One request per dataset-day.
      expect(counts?.requests).toBe(dayCount)
      expect((counts?.created ?? 0) + (counts?.noData ?? 0)).toBe(dayCount)
    }
    expect(events.some((e) => e.type === 'dataset-progress' && e.dataset === 'sleep')).toBe(true)

    // Every object equals what the simulator served.
    const answer = (prefix: string) => [...served].find(([key]) => key.startsWith(prefix))?.[1]
    await mapLimit(activities, 8, async (a) => {
      const zip = await store.get(perActivityKey(prefixOf(FIT), FIT, a.activityId))
      expect(Buffer.from(zip!.body).equals(answer(`/download-service/files/activity/${a.activityId}`)!)).toBe(
        true,
      )
      const fit = unzipOne(zip!.body)
      expect(fit.name).toBe(`${a.activityId}_ACTIVITY.fit`)
      const fitDecoder = new Decoder(Stream.fromBuffer(fit.data))
      expect(fitDecoder.checkIntegrity()).toBe(true)
      const session = fitDecoder.read().messages.sessionMesgs?.[0]
      expect(session?.startTime).toEqual(new Date(a.beginTimestamp as number))
      for (const name of ['details', 'splits']) {
        const object = await store.get(`${prefixOf(byName(name))}activity_${a.activityId}.json`)
        const body = answer(`/activity-service/activity/${a.activityId}/${name}`)!
        expect(decoder.decode(object!.body)).toBe(JSON.stringify(JSON.parse(body.toString('utf8'))))
      }
    })
    const gaps = new Set(sim.gapDates())
    const byDay = servedDays(served)
    const pairs = DAILY.flatMap((spec) => days(since, TODAY).map((day) => ({ spec, day })))
    await mapLimit(pairs, 16, async ({ spec, day }) => {
      const body = byDay.get(`${spec.garminName} ${day}`)
      const value: unknown = body === undefined ? undefined : JSON.parse(body.toString('utf8'))
      const object = await store.get(dailyKey(prefixOf(spec), spec, day))
      if (spec.isEmpty(value)) {
        expect(object, `${spec.name} ${day}`).toBeUndefined()
      } else {
        expect(gaps.has(day)).toBe(false)
        expect(decoder.decode(object!.body), `${spec.name} ${day}`).toBe(JSON.stringify(value))
      }
    })
    // Activities stay alone in their prefix.
    for await (const info of store.list(PREFIX))
      expect(info.key).toMatch(/^raw-data\/garmin-json\/activity_\d+\.json$/)

    // Second run: only the revision window (datasets x 3 days) plus the activity page.
    sim.resetStats()
    const second = await sync()
    expect(second).toMatchObject({ exitCode: 0, created: 0 })
    const calls = dataCalls(sim.stats())
    expect(calls.activityList).toBe(1)
    expect(sum(calls)).toBe(DAILY.length * 3 + 1)
    for (const spec of DAILY) {
      const c = second.datasets![spec.name]!
      expect(c.created + c.updated).toBe(0)
      expect(c.unchanged + c.noData).toBe(3)
    }
    // What status can show per dataset: counts, newest day, no gaps left to fetch.
    const statuses = await datasetStatuses(store, PREFIX)
    expect(statuses.map((st) => st.dataset)).toEqual([...PER_ACTIVITY, ...DAILY].map((d) => d.name))
    for (const st of statuses) {
      let objects = 0
      for await (const _ of store.list(st.prefix)) objects++
      expect(st.stored, st.dataset).toBe(objects)
      if (st.kind === 'per-activity') expect(st).toMatchObject({ missing: 0, gone: 0 })
      else expect(st).toMatchObject({ from: since, through: TODAY, pending: [] })
    }
    expect(statuses.find((st) => st.dataset === 'sleep')?.newest).toBe(
      days(since, TODAY)
        .filter((d) => !gaps.has(d))
        .at(-1),
    )
    // `garmin-s3 status` reports the same per-dataset figures (one extra GET for the dataset cursors).
    const tokenStore = {
      location: 'memory',
      load: async () => undefined,
      save: async () => {},
      clear: async () => {},
    }
    const report = await gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store, tokenStore, aws: { skip: 'not checked in this test' } },
    )
    expect(report.datasets).toEqual(statuses)
    expect(renderStatus(report, { color: false }).join('\n')).toMatch(
      /sleep\s+\d+ days, newest \d{4}-\d\d-\d\d/,
    )
    const state = await readDatasetState(store, PREFIX)
    for (const spec of DAILY) {
      const section = state.datasets[prefixOf(spec)]
      expect(section?.kind).toBe('daily')
      if (section?.kind === 'daily') expect(dailyGaps(section).pending).toBe(0)
    }

    // Garmin revises one recent day: only that object is replaced.
    const sleep = DAILY.find((d) => d.name === 'sleep')!
    const window = days(addDays(TODAY, -2), TODAY).filter((d) => !gaps.has(d))
    const [revised, untouched] = window
    const untouchedKey = dailyKey(prefixOf(sleep), sleep, untouched!)
    const etagBefore = (await store.head(untouchedKey))!.etag
    const mtimeBefore = target.name === 'a local folder' ? await modified(store, untouchedKey) : 0
    sim.reviseDaily('sleep', revised!)
    const third = await sync()
    expect(third.datasets?.sleep).toMatchObject({ updated: 1, created: 0, failed: 0 })
    for (const spec of DAILY.filter((d) => d.name !== 'sleep'))
      expect(third.datasets?.[spec.name]?.updated).toBe(0)
    const replaced = await store.get(dailyKey(prefixOf(sleep), sleep, revised!))
    expect(JSON.parse(decoder.decode(replaced!.body)).simRevision).toBeGreaterThan(0)
    const revisedBody = servedDays(served).get(`sleep ${revised}`)!
    expect(decoder.decode(replaced!.body)).toBe(JSON.stringify(JSON.parse(revisedBody.toString('utf8'))))
    expect((await store.head(untouchedKey))!.etag).toBe(etagBefore)
    if (target.name === 'a local folder') expect(await modified(store, untouchedKey)).toBe(mtimeBefore)
  })
})

const FIT = PER_ACTIVITY.find((d) => d.name === 'fit')!
const byName = (name: string) => PER_ACTIVITY.find((d) => d.name === name)!

/** Where each daily dataset's day shows in a request (path and query). */
const DAILY_MARKERS: Record<string, RegExp> = {
  dailySummary: /\/usersummary\/daily\/[^?]+\?calendarDate=(\d{4}-\d{2}-\d{2})/,
  sleep: /\/dailySleepData\/[^?]+\?date=(\d{4}-\d{2}-\d{2})/,
  heartRate: /\/dailyHeartRate\/[^?]+\?date=(\d{4}-\d{2}-\d{2})/,
  stress: /\/dailyStress\/(\d{4}-\d{2}-\d{2})/,
  hrv: /\/hrv-service\/hrv\/(\d{4}-\d{2}-\d{2})/,
  bodyBattery: /\/bodyBattery\/reports\/daily\?startDate=(\d{4}-\d{2}-\d{2})/,
  bodyComposition: /\/weight\/dateRange\?startDate=(\d{4}-\d{2}-\d{2})/,
  trainingReadiness: /\/trainingreadiness\/(\d{4}-\d{2}-\d{2})/,
}

/** `<garminName> <day>` -> the body served for it. */
function servedDays(served: Served): Map<string, Buffer> {
  const out = new Map<string, Buffer>()
  for (const [key, body] of served) {
    for (const [name, re] of Object.entries(DAILY_MARKERS)) {
      const day = re.exec(key)?.[1]
      if (day) out.set(`${name} ${day}`, body)
    }
  }
  return out
}

async function modified(store: Store, key: string): Promise<number> {
  return (await stat(join((store as DirStore).root, key))).mtimeMs
}
