import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Decoder, Stream } from '@garmin/fitsdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { DEFAULT_USER, type Simulator, startSimulator } from './server.js'
import { loginToSim } from './session.js'
import { fixtures, type JsonObject } from './templates.js'

interface Detail {
  activityId: number
  isMultiSportParent: boolean
  parentId?: number
  metadataDTO: { childIds: number[] }
  summaryDTO: { startTimeGMT: string; duration: number }
}
interface Details {
  activityId: number
  activityDetailMetrics: unknown[]
  metricDescriptors: { key: string }[]
  geoPolylineDTO: { polyline: unknown[] }
}
interface WeightRange {
  startDate: string
  endDate: string
  dateWeightList: JsonObject[]
  totalAverage: JsonObject
}

const clock = new FakeClock(Date.UTC(2026, 10, 28, 12, 0, 0))
const TODAY = '2026-11-28'
let sim: Simulator
let token: string
let all: ActivityEntry[]

beforeAll(async () => {
  sim = await startSimulator({ activities: 1500, years: 4, seed: 7, now: () => clock.now(), gapDays: 4 })
  token = (await loginToSim(sim.url, DEFAULT_USER)).accessToken
  all = sim.listAll()
})
afterAll(() => sim.close())

async function get(path: string, accept = 'application/json'): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept },
  })
}

/** What garmin-s3 sends for a download; Garmin answers 406 unless `*\/*` is accepted. */
const ANY = 'application/octet-stream, */*'

async function getJson<T = unknown>(path: string): Promise<T> {
  const res = await get(path)
  expect(res.status, path).toBe(200)
  return (await res.json()) as T
}

const LIST = '/activitylist-service/activities/search/activities'

describe('activity list', () => {
  it('pages newest first to an empty page, serving exactly listAll()', async () => {
    const served: ActivityEntry[] = []
    for (let start = 0; ; start += 400) {
      const page = await getJson<ActivityEntry[]>(`${LIST}?start=${start}&limit=400`)
      if (page.length === 0) break
      served.push(...page)
    }
    expect(served.length).toBe(all.length)
    expect(JSON.stringify(served)).toBe(JSON.stringify(all))
    expect(served.map((e) => e.activityId)).toEqual(all.map((e) => e.activityId))
    expect(await getJson(`${LIST}?start=5000&limit=10`)).toEqual([])
  })

  it('keeps the raw JSON exact: 11-digit ids as written, emoji intact', async () => {
    const res = await get(`${LIST}?start=0&limit=1000`)
    const text = await res.text()
    expect(res.headers.get('content-type')).toMatch(/application\/json/)
    const page = JSON.parse(text) as ActivityEntry[]
    for (const e of page.slice(0, 50)) expect(text).toContain(`"activityId":${e.activityId},`)
    expect(page.some((e) => String(e.activityId).length === 11)).toBe(true)
    const emoji = page.find((e) => /\p{Extended_Pictographic}/u.test(e.activityName as string))
    expect(emoji).toBeDefined()
    expect(text).toContain(JSON.stringify(emoji?.activityName))
  })

  it('keeps the recorded entry keys on every served entry', async () => {
    const page = await getJson<ActivityEntry[]>(`${LIST}?start=0&limit=1000`)
    const keys = Object.keys(fixtures.listEntry)
    const full = page.filter((e) => e.parent !== true && Object.keys(e).length === keys.length)
    expect(full.length).toBeGreaterThan(700)
    expect(full.filter((e) => Object.keys(e).join() !== keys.join())).toEqual([])
  })

  it('defaults to 20, caps limit at 1000 and rejects bad paging', async () => {
    expect(await getJson<ActivityEntry[]>(LIST)).toHaveLength(20)
    expect(await getJson<ActivityEntry[]>(`${LIST}?start=0&limit=1000`)).toHaveLength(1000)
    for (const q of ['limit=1001', 'limit=0', 'start=-1', 'start=abc', 'startDate=2026-13-01']) {
      expect((await get(`${LIST}?${q}`)).status, q).toBe(400)
    }
  })

  it('filters on the local start date and sorts ascending on request', async () => {
    const day = (all[100]!.startTimeLocal as string).slice(0, 10)
    const from = (all[300]!.startTimeLocal as string).slice(0, 10)
    const expected = all.filter((e) => {
      const d = (e.startTimeLocal as string).slice(0, 10)
      return d >= from && d <= day
    })
    const served = await getJson<ActivityEntry[]>(
      `${LIST}?start=0&limit=1000&startDate=${from}&endDate=${day}`,
    )
    expect(served.map((e) => e.activityId)).toEqual(expected.map((e) => e.activityId))
    const asc = await getJson<ActivityEntry[]>(
      `${LIST}?start=0&limit=1000&startDate=${from}&endDate=${day}&sortOrder=asc`,
    )
    expect(asc.map((e) => e.activityId)).toEqual(expected.map((e) => e.activityId).reverse())
  })

  it('counts the account and grows with addActivities (method and HTTP)', async () => {
    expect(await getJson(`/activitylist-service/activities/count`)).toEqual({ totalCount: all.length })
    const added = sim.addActivities(3)
    const res = await fetch(`${sim.url}/__sim/activities`, {
      method: 'POST',
      body: JSON.stringify({ count: 2 }),
    })
    const viaHttp = (await res.json()) as { added: ActivityEntry[]; total: number }
    expect(viaHttp.total).toBe(all.length + 5)
    const first = await getJson<ActivityEntry[]>(`${LIST}?start=0&limit=5`)
    expect(first.map((e) => e.activityId)).toEqual([...viaHttp.added, ...added].map((e) => e.activityId))
    expect(await getJson(`/activitylist-service/activities/count`)).toEqual({ totalCount: all.length + 5 })
  })
})

describe('one activity', () => {
  const single = () => all.find((e) => e.parentId === null && e.parent === false && e.hasPolyline === true)!

  it('answers the detail record in the recorded shape, consistent with the list entry', async () => {
    const entry = single()
    const detail = await getJson<Detail>(`/activity-service/activity/${entry.activityId}`)
    expect(Object.keys(detail)).toEqual(Object.keys(fixtures.activity))
    expect(Object.keys(detail.metadataDTO)).toEqual(Object.keys(fixtures.activity.metadataDTO as object))
    expect(detail).toMatchObject({
      activityId: entry.activityId,
      activityName: entry.activityName,
      isMultiSportParent: false,
      activityTypeDTO: entry.activityType,
      locationName: entry.locationName,
    })
    expect(detail.summaryDTO.startTimeGMT).toBe(`${entry.startTimeGMT.replace(' ', 'T')}.0`)
    expect(detail.summaryDTO.duration).toBe(entry.duration)
  })

  it('answers multisport parents with their child ids, and children with their parent', async () => {
    const parent = all.find((e) => e.parent === true)!
    const detail = await getJson<Detail>(`/activity-service/activity/${parent.activityId}`)
    expect(detail.isMultiSportParent).toBe(true)
    expect(detail.metadataDTO.childIds).toEqual(parent.childIds)
    const childId = (parent.childIds as number[])[0]!
    const child = await getJson<Detail>(`/activity-service/activity/${childId}`)
    expect(child.parentId).toBe(parent.activityId)
    expect(Object.keys(child)).toEqual(Object.keys(fixtures.multisportChild))
  })

  it('answers details (bounded by maxChartSize) and splits', async () => {
    const entry = single()
    const details = await getJson<Details>(
      `/activity-service/activity/${entry.activityId}/details?maxChartSize=50&maxPolylineSize=40`,
    )
    expect(details.activityId).toBe(entry.activityId)
    expect(details.activityDetailMetrics.length).toBeLessThanOrEqual(50)
    expect(details.metricDescriptors.map((d) => d.key)).toContain('directTimestamp')
    expect(details.geoPolylineDTO.polyline.length).toBeLessThanOrEqual(40)
    const splits = await getJson<{ lapDTOs: { distance: number }[] }>(
      `/activity-service/activity/${entry.activityId}/splits`,
    )
    expect(splits.lapDTOs).toHaveLength(entry.lapCount as number)
    const total = splits.lapDTOs.reduce((a, l) => a + l.distance, 0)
    expect(Math.abs(total - (entry.distance as number))).toBeLessThan(1)
  })

  it('answers 404 for an unknown or malformed id on every per-activity route', async () => {
    for (const path of [
      '/activity-service/activity/99999999999',
      '/activity-service/activity/99999999999/details',
      '/activity-service/activity/99999999999/splits',
      '/download-service/files/activity/99999999999',
      '/activity-service/activity/abc',
    ]) {
      expect((await get(path)).status, path).toBe(404)
    }
  })
})

describe('original file download', () => {
  function unzipWithPython(zip: Buffer): { name: string; data: Buffer } {
    const script = [
      'import io, sys, zipfile',
      'z = zipfile.ZipFile(io.BytesIO(sys.stdin.buffer.read()))',
      'assert z.testzip() is None',
      'name = z.namelist()[0]',
      'sys.stderr.write(name)',
      'sys.stdout.buffer.write(z.read(name))',
    ].join('\n')
    const out = spawnSync('python3', ['-c', script], { input: zip })
    expect(out.status, out.stderr.toString()).toBe(0)
    return { name: out.stderr.toString(), data: out.stdout }
  }

  it('answers 406 to an Accept that excludes */*, as Garmin does', async () => {
    const id = all[0]!.activityId
    for (const accept of ['application/json', 'application/zip, application/octet-stream']) {
      expect((await get(`/download-service/files/activity/${id}`, accept)).status, accept).toBe(406)
    }
    expect((await get(`/download-service/files/activity/${id}`, ANY)).status).toBe(200)
  })

  it('is a ZIP holding a FIT file that Garmin’s SDK decodes, matching the activity', async () => {
    const entry = all.find((e) => e.parent === false && typeof e.averageHR === 'number')!
    const res = await get(`/download-service/files/activity/${entry.activityId}`, ANY)
    expect(res.status).toBe(200)
    const zip = Buffer.from(await res.arrayBuffer())
    const { name, data } = unzipWithPython(zip)
    expect(name).toBe(`${entry.activityId}_ACTIVITY.fit`)
    const decoder = new Decoder(Stream.fromBuffer(data))
    expect(decoder.isFIT()).toBe(true)
    expect(decoder.checkIntegrity()).toBe(true)
    const { messages, errors } = decoder.read()
    expect(errors).toEqual([])
    expect(messages.fileIdMesgs?.[0]?.type).toBe('activity')
    expect(messages.activityMesgs).toHaveLength(1)
    const session = messages.sessionMesgs?.[0]
    expect(session?.startTime).toEqual(new Date(entry.beginTimestamp as number))
    expect(session?.totalElapsedTime).toBeCloseTo(entry.duration as number, 0)
    expect(session?.avgHeartRate).toBe(entry.averageHR)
    expect(messages.recordMesgs?.length).toBeGreaterThan(1)
  })

  it('answers the same bytes for the same id, even from a fresh simulator', async () => {
    const id = all[3]!.activityId
    const a = Buffer.from(await (await get(`/download-service/files/activity/${id}`, ANY)).arrayBuffer())
    const b = Buffer.from(await (await get(`/download-service/files/activity/${id}`, ANY)).arrayBuffer())
    expect(a.equals(b)).toBe(true)
    const twin = await startSimulator({ activities: 1500, years: 4, seed: 7, now: () => clock.now() })
    try {
      const t = await loginToSim(twin.url, DEFAULT_USER)
      const res = await fetch(`${twin.url}/download-service/files/activity/${id}`, {
        headers: { authorization: `Bearer ${t.accessToken}` },
      })
      expect(Buffer.from(await res.arrayBuffer()).equals(a)).toBe(true)
    } finally {
      await twin.close()
    }
  })
})

describe('daily routes', () => {
  const day = '2026-11-01'
  const perDay: [string, Record<string, unknown> | unknown[] | undefined][] = [
    [`/usersummary-service/usersummary/daily/runner_1?calendarDate=${day}`, fixtures.dailySummary],
    [
      `/wellness-service/wellness/dailySleepData/runner_1?date=${day}&nonSleepBufferMinutes=60`,
      fixtures.sleep,
    ],
    [`/wellness-service/wellness/dailyHeartRate/runner_1?date=${day}`, fixtures.heartRate],
    [`/wellness-service/wellness/dailyStress/${day}`, undefined],
    [`/hrv-service/hrv/${day}`, fixtures.hrv],
    [`/metrics-service/metrics/trainingreadiness/${day}`, fixtures.trainingReadiness],
  ]

  function shapeOf(value: unknown): unknown {
    return Array.isArray(value) ? Object.keys(value[0] as object) : Object.keys(value as object)
  }

  it('answer each day in the recorded shape, dated as asked', async () => {
    for (const [path, fixture] of perDay) {
      const body = await getJson(path)
      if (fixture) expect(shapeOf(body), path).toEqual(shapeOf(fixture))
      expect(JSON.stringify(body), path).toContain(day)
    }
    const stress = await getJson<Record<string, unknown>>(`/wellness-service/wellness/dailyStress/${day}`)
    expect(stress).toMatchObject({ calendarDate: day })
    expect(Array.isArray(stress.stressValuesArray)).toBe(true)
  })

  it('answer 204 on the seeded gap days and in the future', async () => {
    const gaps = sim.gapDates()
    expect(gaps).toHaveLength(4)
    for (const gap of gaps) expect(gap < TODAY && gap >= '2026-10-29').toBe(true)
    const paths = (d: string) => [
      `/usersummary-service/usersummary/daily/runner_1?calendarDate=${d}`,
      `/wellness-service/wellness/dailySleepData/runner_1?date=${d}`,
      `/hrv-service/hrv/${d}`,
      `/metrics-service/metrics/trainingreadiness/${d}`,
    ]
    for (const path of [...paths(gaps[0]!), ...paths('2026-12-01')]) {
      const res = await get(path)
      expect(res.status, path).toBe(204)
      expect(await res.text()).toBe('')
    }
    const viaHttp = (await (await fetch(`${sim.url}/__sim/gaps`)).json()) as { dates: string[] }
    expect(viaHttp.dates).toEqual(gaps)
  })

  it('refuse another displayName and bad dates', async () => {
    expect(
      (await get(`/usersummary-service/usersummary/daily/someone_else?calendarDate=${day}`)).status,
    ).toBe(403)
    expect(
      (await get('/usersummary-service/usersummary/daily/runner_1?calendarDate=2026-02-30')).status,
    ).toBe(400)
    expect((await get('/hrv-service/hrv/yesterday')).status).toBe(400)
  })

  it('answer body battery and body composition for a date range, leaving out gap days', async () => {
    const gap = sim.gapDates()[0]!
    const battery = await getJson<Record<string, unknown>[]>(
      `/wellness-service/wellness/bodyBattery/reports/daily?startDate=2026-10-20&endDate=${TODAY}`,
    )
    const dates = battery.map((b) => b.date)
    expect(dates).toContain('2026-10-20')
    expect(dates).toContain(TODAY)
    expect(dates).not.toContain(gap)
    expect(battery[0]).toHaveProperty('bodyBatteryValuesArray')
    const weight = await getJson<WeightRange>(
      '/weight-service/weight/dateRange?startDate=2026-09-01&endDate=2026-11-27',
    )
    expect(weight).toMatchObject({ startDate: '2026-09-01', endDate: '2026-11-27' })
    expect(weight.dateWeightList.length).toBeGreaterThan(5)
    const summaries = fixtures.weightRange.dailyWeightSummaries as JsonObject[]
    const sample = (summaries[0]!.allWeightMetrics as JsonObject[])[0]!
    expect(Object.keys(weight.dateWeightList[0]!)).toEqual(Object.keys(sample))
    expect(Object.keys(weight.totalAverage)).toEqual(Object.keys(fixtures.weightRange.totalAverage as object))
    expect(
      (await get('/weight-service/weight/dateRange?startDate=2026-11-02&endDate=2026-11-01')).status,
    ).toBe(400)
  })

  it('are the same for the same day and seed', async () => {
    const path = `/wellness-service/wellness/dailyHeartRate/runner_1?date=${day}`
    expect(await (await get(path)).text()).toBe(await (await get(path)).text())
  })
})

describe('unknown paths and methods', () => {
  it('answer 404 (counted as unmatched) and 405', async () => {
    const before = sim.stats().unmatched
    expect((await get('/no-such-service/thing')).status).toBe(404)
    expect(sim.stats().unmatched).toBe(before + 1)
    expect((await fetch(`${sim.url}/activitylist-service/activities/count`, { method: 'POST' })).status).toBe(
      405,
    )
    expect((await fetch(`${sim.url}/mobile/api/login`)).status).toBe(405)
  })
})

describe('an account from --activities-file', () => {
  it('is served as written, sparse entries included, and can grow', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'garmin-sim-'))
    const entries = [
      { activityId: 1234567890, startTimeGMT: '2019-05-01 06:00:00' },
      { ...fixtures.listEntry, activityId: 21000000001, startTimeGMT: '2026-11-20 06:00:00' },
    ]
    writeFileSync(join(dir, 'list.json'), JSON.stringify(entries))
    const fileSim = await startSimulator({ activitiesFile: join(dir, 'list.json'), now: () => clock.now() })
    try {
      const t = (await loginToSim(fileSim.url, DEFAULT_USER)).accessToken
      const auth = { headers: { authorization: `Bearer ${t}` } }
      const page = await (await fetch(`${fileSim.url}${LIST}?start=0&limit=10`, auth)).json()
      expect(page).toEqual([entries[1], entries[0]])
      // Even an entry with nothing but an id and a time has a detail record and an original file.
      expect((await fetch(`${fileSim.url}/activity-service/activity/1234567890`, auth)).status).toBe(200)
      const zip = await fetch(`${fileSim.url}/download-service/files/activity/1234567890`, auth)
      expect([zip.status, zip.headers.get('content-type')]).toEqual([200, 'application/x-zip-compressed'])
      const added = fileSim.addActivities(2)
      expect(added.every((e) => e.activityId > 21000000001 && e.startTimeGMT > '2026-11-20 06:00:00')).toBe(
        true,
      )
      expect(fileSim.listAll()).toHaveLength(4)
    } finally {
      await fileSim.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
