/**
 * Adding a dataset is one catalogue entry plus a simulator fixture (CONTRIBUTING.md, "Add a dataset"):
 * a daily dataset that exists only in this test, with its own Garmin path, runs end to end through
 * the real client over HTTP, the daily pipeline, the folder store and the run record, with no change
 * to `garmin/client.ts` or `sync/extras.ts`.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import type { DailyRoute } from '../../src/garmin/client.js'
import { DirStore } from '../../src/store/dir.js'
import { readDatasetState } from '../../src/sync/dataset-state.js'
import { DATASETS, type DatasetCatalogue, dailyDataset, parseDatasets } from '../../src/sync/datasets.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { readSyncState } from '../../src/sync/state.js'
import { addDays } from '../../src/sync/time.js'
import type { SyncReport } from '../../src/sync/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { SimDailyFixture, Simulator } from '../sim/server.js'
import { NOW, PREFIX, recentAccount, signedInClient, TODAY } from './helpers.js'

/** The test-only dataset: floors climbed per day, at a path Garmin's client has never heard of. */
const FLOORS_ROUTE: DailyRoute = {
  kind: 'floors',
  path: (date) => [`/fixture-service/floors/daily/${date}`, {}],
  needsDisplayName: false,
}
/** Every third day (by day number) the watch recorded no floors: `floorsClimbed: null`, no data. */
const noFloors = (date: string) => Math.floor(Date.parse(date) / 86_400_000) % 3 === 0
const FLOORS_FIXTURE: SimDailyFixture = {
  path: /^\/fixture-service\/floors\/daily\/([^/]+)$/,
  body: (date, seed) => ({
    calendarDate: date,
    floorsClimbed: noFloors(date) ? null : (Number(date.slice(8)) * 7 + seed) % 40,
  }),
}
const floors = dailyDataset(
  'floors',
  FLOORS_ROUTE,
  (value) => (value as { floorsClimbed?: unknown } | undefined)?.floorsClimbed == null,
)
const CATALOGUE: DatasetCatalogue = [...DATASETS, floors]
const FLOORS_PREFIX = 'raw-data/garmin-floors/'
const SINCE = addDays(TODAY, -9)

let sim: Simulator | undefined
let root: string | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
  if (root) await rm(root, { recursive: true, force: true })
  root = undefined
})

function days(from: string, to: string): string[] {
  const out: string[] = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
}

describe('a dataset from a test-only catalogue', () => {
  it('is stored day by day, with its cursor in datasets.json and its counts in the run record', async () => {
    sim = await recentAccount(5, { dailyFixtures: [FLOORS_FIXTURE] })
    root = await mkdtemp(join(tmpdir(), 'garmin-s3-catalogue-'))
    const clock = new FakeClock(NOW)
    const store = new DirStore(root, { durable: false })
    const garmin = await signedInClient(sim, clock)
    let runs = 0
    const sync = (): Promise<SyncReport> =>
      runSyncWithDatasets(
        { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', datasets: ['floors'], since: SINCE },
        { garmin, store, clock, newRunId: () => `run${++runs}`, catalogue: CATALOGUE },
      )

    const report = await sync()
    expect(report.exitCode).toBe(0)
    expect(report.errors).toEqual([])

    // The objects: one per day with floors, exactly what the simulator served; none for the others.
    const gaps = new Set(sim.gapDates())
    const wanted = days(SINCE, TODAY)
    const withData = wanted.filter((d) => !gaps.has(d) && !noFloors(d))
    const withoutData = wanted.filter((d) => !withData.includes(d))
    expect(withData.length).toBeGreaterThan(0)
    expect(withoutData.length).toBeGreaterThan(0)
    expect((await readdir(join(root, FLOORS_PREFIX))).sort()).toEqual(withData.map((d) => `floors_${d}.json`))
    for (const day of withData) {
      const text = await readFile(join(root, FLOORS_PREFIX, `floors_${day}.json`), 'utf8')
      expect(text).toBe(JSON.stringify(FLOORS_FIXTURE.body(day, 7)))
    }

    // The cursor: every day settled, the days without data remembered, nothing pending.
    const cursors = await readDatasetState(store, PREFIX)
    expect(cursors.datasets[FLOORS_PREFIX]).toMatchObject({
      kind: 'daily',
      from: SINCE,
      through: TODAY,
      pending: [],
    })
    const noData =
      cursors.datasets[FLOORS_PREFIX]?.kind === 'daily' ? cursors.datasets[FLOORS_PREFIX].noData : []
    const remembered = noData.flatMap((range) => {
      const [a = '', b = a] = range.split('..')
      return days(a, b)
    })
    expect(remembered).toEqual(withoutData)

    // The run record: the report, the manifest and lastRun count the same days and requests.
    const counts = report.datasets?.floors
    expect(counts).toMatchObject({
      created: withData.length,
      noData: withoutData.length,
      failed: 0,
      requests: wanted.length,
    })
    expect(sim.stats().byRoute.fixtureDaily?.['200']).toBe(wanted.filter((d) => !gaps.has(d)).length)
    const manifest = JSON.parse(await readFile(join(root, report.manifestKey), 'utf8')) as SyncReport
    expect(manifest.datasets?.floors).toEqual(counts)
    const lastRun = (await readSyncState(store, PREFIX))?.lastRun
    expect(lastRun?.runId).toBe(report.runId)
    expect(lastRun?.datasets?.floors).toEqual({ created: withData.length, failed: 0 })

    // The next run asks only for the revision window, and finds those days unchanged.
    const again = await sync()
    expect(again.exitCode).toBe(0)
    expect(again.datasets?.floors).toMatchObject({ created: 0, failed: 0, requests: 3 })
  })

  it('is unknown to the production catalogue', () => {
    expect(() => parseDatasets('floors')).toThrow(UsageError)
    // A near miss is named; a far one is only refused (the hint lists them all).
    expect(() => parseDatasets('sleep,hvr,bodybattery,steps')).toThrow(
      'unknown datasets: hvr (did you mean hrv?), bodybattery (did you mean body-battery?), steps',
    )
    expect(parseDatasets('floors', CATALOGUE)).toEqual(['floors'])
  })
})
