/**
 * Archived days (issue 20): the simulator's archive mode answers heart rate, stress and sleep of days
 * older than 180 with the summary and without samples until the day is reloaded, and grants 30
 * reloads per UTC day. The sync must not take those answers for data, must restore them within its
 * budget, oldest first, and must go on when Garmin says DENIED. All on the injected clock.
 */
import { afterEach, describe, expect, it } from 'vitest'
import type { GarminClient } from '../../src/garmin/client.js'
import { gatherStatus } from '../../src/status/index.js'
import { renderStatus } from '../../src/status/render.js'
import { type DailyState, dailyGaps, decodeDays, readDatasetState } from '../../src/sync/dataset-state.js'
import { type DailyDataset, dailyKey, datasetSpec } from '../../src/sync/datasets.js'
import { addDays } from '../../src/sync/time.js'
import type { SyncOptions, SyncReport } from '../../src/sync/types.js'
import { MemoryTokenStore } from '../garmin/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'
import { NOW, PREFIX, prefixOf, signedInClient, syncer, TODAY } from './helpers.js'

const DAY = 86_400_000
const ARCHIVED = ['heart-rate', 'stress', 'sleep'] as const
const SAMPLES: Record<(typeof ARCHIVED)[number], string> = {
  'heart-rate': 'heartRateValues',
  stress: 'stressValuesArray',
  sleep: 'sleepLevels',
}
const decoder = new TextDecoder()
const spec = (name: string) => datasetSpec(name) as DailyDataset

const sims: Simulator[] = []
afterEach(async () => {
  await Promise.all(sims.splice(0).map((s) => s.close()))
})

interface Account {
  clock: FakeClock
  sim: Simulator
  garmin: GarminClient
  store: MemoryStore
  run: (extra?: Partial<SyncOptions>) => Promise<SyncReport>
}

async function account(days: number, options: SimOptions = {}, datasets: readonly string[] = ARCHIVED) {
  const clock = new FakeClock(NOW)
  const sim = await startSimulator({
    activities: 40,
    years: 2,
    seed: 11,
    now: () => clock.now(),
    archiveAfterDays: 180,
    ...options,
  })
  sims.push(sim)
  const garmin = await signedInClient(sim, clock)
  const store = new MemoryStore()
  const { sync } = syncer(garmin, store, clock)
  const since = addDays(TODAY, -(days - 1))
  const run = (extra: Partial<SyncOptions> = {}) => sync({ datasets, since, ...extra })
  return { clock, sim, garmin, store, run } satisfies Account
}

/** The first day the simulator archives is today - 181; every day from `since` to it is archived. */
function archivedDays(since: string, today: string): string[] {
  const out: string[] = []
  for (let d = since; d <= addDays(today, -181); d = addDays(d, 1)) out.push(d)
  return out
}

async function sections(store: MemoryStore, names: readonly string[] = ARCHIVED) {
  const file = await readDatasetState(store, PREFIX)
  return names.map((name) => ({ name, section: file.datasets[prefixOf(spec(name))] as DailyState }))
}

/** Every stored object of the archived datasets carries its samples. */
async function expectSamplesInEveryObject(store: MemoryStore) {
  for (const name of ARCHIVED) {
    let seen = 0
    for await (const info of store.list(prefixOf(spec(name)))) {
      const object = await store.get(info.key)
      const body = JSON.parse(decoder.decode(object!.body)) as Record<string, unknown>
      const samples = body[SAMPLES[name]]
      expect(Array.isArray(samples) && samples.length > 0, info.key).toBe(true)
      seen++
    }
    expect(seen, name).toBeGreaterThan(0)
  }
}

const reloadsOf = (report: SyncReport) => report.requests.garmin.reload ?? 0

describe('a 2-year backfill against the archive', () => {
  it('keeps archived days pending, restores exactly the budget each run, oldest first, until the history is whole', async () => {
    const days = 730
    const { clock, sim, store, run } = await account(days)
    const since = addDays(TODAY, -(days - 1))
    const archived = archivedDays(since, TODAY)
    expect(archived.length).toBe(549)

    const first = await run()
    expect(first.exitCode).toBe(0)
    expect(first.archive).toMatchObject({ reloads: 25, restored: 25, noFiles: 0, denied: false, budget: 25 })
    expect(first.archive?.pending).toBe(archived.length - 25)
    expect(sim.reloads().map((r) => r.date)).toEqual(archived.slice(0, 25))
    for (const { name, section } of await sections(store)) {
      const noData = decodeDays(section.noData)
      const pending = decodeDays(section.archived ?? [])
      // No archived day is taken for "no data", and none is stored.
      expect(
        archived.filter((d) => noData.has(d)),
        name,
      ).toEqual([])
      expect([...pending].sort(), name).toEqual(archived.slice(25))
      for (const day of archived.slice(25, 30))
        expect(await store.head(dailyKey(prefixOf(spec(name)), spec(name), day)), day).toBeUndefined()
      expect(first.datasets?.[name]).toMatchObject({ archived: archived.length, restored: 25 })
    }
    await expectSamplesInEveryObject(store)

    // One run a day, the sim's clock moving day by day: 25 more each day, the remainder last.
    let left = archived.length - 25
    let runs = 1
    while (left > 0) {
      clock.advance(DAY)
      const report = await run()
      runs++
      expect(report.exitCode).toBe(0)
      expect(reloadsOf(report), `run ${runs}`).toBe(Math.min(25, left))
      expect(report.archive?.restored).toBe(Math.min(25, left))
      left -= Math.min(25, left)
      expect(report.archive?.pending).toBe(left)
    }
    expect(runs).toBe(22)
    // Once whole, a day's run sends no reload.
    clock.advance(DAY)
    expect(reloadsOf(await run())).toBe(0)

    const reloads = sim.reloads()
    expect(reloads.length).toBe(archived.length)
    expect(reloads.every((r) => r.status === 'SUBMITTED')).toBe(true)
    for (const { name, section } of await sections(store)) {
      expect(section.archived, name).toBeUndefined()
      const gaps = dailyGaps(section)
      expect(gaps.pending, name).toBe(0)
      // Only the simulator's gap days (the last 30) are without data.
      expect(gaps.noData, name).toBeLessThanOrEqual(3)
      expect(gaps.stored + gaps.noData, name).toBe(days + runs)
    }
    await expectSamplesInEveryObject(store)
  })

  it('over several runs a day: reloads equal the archived days plus one DENIED per day at most', async () => {
    const days = 250
    const { clock, sim, store, run } = await account(days)
    const since = addDays(TODAY, -(days - 1))
    const archived = archivedDays(since, TODAY)
    expect(archived.length).toBe(69)
    sim.loseArchivedDay(archived[0]!)

    const a = await run()
    expect(reloadsOf(a)).toBe(25)
    // Garmin's 30 a day: five more, then DENIED. The run is not failed for it.
    const b = await run()
    expect(b.exitCode).toBe(0)
    expect(b.errors).toEqual([])
    expect(reloadsOf(b)).toBe(6)
    expect(b.archive).toMatchObject({ restored: 5, denied: true })
    const c = await run()
    expect(reloadsOf(c)).toBe(0)
    expect(c.archive?.denied).toBe(true)
    const record = (await readDatasetState(store, PREFIX)).datasets.archive
    expect(record).toMatchObject({ kind: 'archive', deniedOn: TODAY })

    let day = 0
    while ((await run()).archive?.pending !== 0) {
      if (++day > 5) throw new Error('the history never completed')
      clock.advance(DAY)
    }
    const reloads = sim.reloads()
    const denied = reloads.filter((r) => r.status === 'DENIED')
    expect(reloads.length).toBe(archived.length + denied.length)
    const deniedDays = denied.map((r) => r.on)
    expect(new Set(deniedDays).size).toBe(deniedDays.length)
    expect(reloads.filter((r) => r.status === 'NO_FILES_FOUND').map((r) => r.date)).toEqual([archived[0]])

    // The lost day is truly empty now; every other archived day is stored with its samples.
    for (const { name, section } of await sections(store)) {
      expect(decodeDays(section.noData).has(archived[0]!), name).toBe(true)
      expect(section.archived, name).toBeUndefined()
      for (const d of archived.slice(1, 4))
        expect(await store.head(dailyKey(prefixOf(spec(name)), spec(name), d)), d).toBeDefined()
    }
    await expectSamplesInEveryObject(store)
    const file = await readDatasetState(store, PREFIX)
    expect(file.datasets.archive).toMatchObject({ restored: archived.length - 1, noFiles: 1 })
  })
})

describe('a day stored before archived days were known', () => {
  it('is replaced by the restored day, samples and all', async () => {
    const { store, run } = await account(200)
    const day = addDays(TODAY, -199)
    const key = dailyKey(prefixOf(spec('heart-rate')), spec('heart-rate'), day)
    // What an earlier garmin-s3 stored: Garmin's archived answer, taken for the data.
    await store.putIfAbsent(
      key,
      JSON.stringify({ calendarDate: day, restingHeartRate: 50, heartRateValues: null }),
      'application/json',
    )
    const report = await run()
    expect(report.datasets?.['heart-rate']).toMatchObject({ restored: 19, updated: 1 })
    const body = JSON.parse(decoder.decode((await store.get(key))!.body)) as { heartRateValues: unknown[] }
    expect(body.heartRateValues.length).toBeGreaterThan(0)
  })
})

describe('status', () => {
  const status = (store: MemoryStore, clock: FakeClock) =>
    gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store, tokenStore: new MemoryTokenStore(), aws: { skip: 'not checked in this test' }, clock },
    )

  it('shows the archived days pending, restored so far and an estimate, in text and --json', async () => {
    const { clock, store, run } = await account(250, { reloadCap: 30 })
    await run({ reloadBudget: 10 })
    const report = await status(store, clock)
    expect(report.archive).toEqual({
      pending: 59,
      oldest: addDays(TODAY, -239),
      restored: 10,
      noFiles: 0,
      budget: 10,
      deniedOn: null,
      daysToRestore: 6,
    })
    // One GET of the dataset cursors, as before: the archive comes from the same object.
    expect(report.requests.store.GetObject).toBe(2)
    const heartRate = report.datasets.find((d) => d.dataset === 'heart-rate')
    expect(heartRate?.archived).toEqual([`${addDays(TODAY, -239)}..${addDays(TODAY, -181)}`])
    expect(heartRate?.stored).toBe(250 - 59 - countDays(heartRate?.noData))
    const text = renderStatus(report, { color: false }).join('\n')
    expect(text).toMatch(
      /Archive\s+59 days pending \(oldest \d{4}-\d\d-\d\d\), 10 restored; about 6 days to restore at 10 a day/,
    )
    expect(JSON.parse(JSON.stringify(report)).archive.daysToRestore).toBe(6)

    // The default budget, the quota spent: said so.
    await run()
    await run()
    const later = await status(store, clock)
    expect(later.archive).toMatchObject({
      pending: 39,
      restored: 30,
      budget: 25,
      deniedOn: TODAY,
      daysToRestore: 2,
    })
    expect(renderStatus(later, { color: false }).join('\n')).toMatch(
      /about 2 days to restore at 25 a day; Garmin's quota is spent today/,
    )
  })

  it('has no archive line before any archived day', async () => {
    const { clock, store, run } = await account(30, { archiveAfterDays: undefined })
    await run()
    const report = await status(store, clock)
    expect(report.archive).toBeNull()
    expect(renderStatus(report, { color: false }).join('\n')).not.toMatch(/Archive/)
  })
})

function countDays(ranges: readonly string[] | undefined): number {
  return decodeDays(ranges ?? []).size
}

describe('DENIED', () => {
  const OTHERS = ['daily-summary', 'hrv', 'training-readiness']

  it('on the first request: same exit code, and the other datasets do exactly what they do without reloads', async () => {
    const denied = await account(250, { reloadCap: 0 }, [...ARCHIVED, ...OTHERS])
    const without = await account(250, {}, [...ARCHIVED, ...OTHERS])
    const a = await denied.run()
    const b = await without.run({ reloadBudget: 0 })
    expect(a.exitCode).toBe(0)
    expect(a.exitCode).toBe(b.exitCode)
    expect(a.errors).toEqual([])
    expect(a.archive).toMatchObject({ reloads: 1, restored: 0, denied: true, pending: 69 })
    expect(b.archive).toMatchObject({ reloads: 0, pending: 69 })
    for (const name of OTHERS) expect(a.datasets?.[name], name).toEqual(b.datasets?.[name])
    // One request more than without reloads (the DENIED one), and no waiting on the clock.
    const total = (r: SyncReport) => Object.values(r.requests.garmin).reduce((x, y) => x + y, 0)
    expect(total(a)).toBe(total(b) + 1)
    expect(denied.clock.sleeps).toEqual([])
    expect(denied.clock.now()).toBe(NOW)
    expect(a.durationMs).toBe(b.durationMs)

    // The rest of that UTC day: no reload at all; the next day: asked again (once: the cap is 0 here).
    expect(reloadsOf(await denied.run())).toBe(0)
    denied.clock.advance(DAY)
    expect(reloadsOf(await denied.run())).toBe(1)
  })
})

describe('without anything archived', () => {
  it('sends no reload and writes no archive record', async () => {
    const { clock, store, run } = await account(60, { archiveAfterDays: undefined })
    const first = await run()
    clock.advance(DAY)
    const daily = await run()
    for (const report of [first, daily]) {
      expect(reloadsOf(report)).toBe(0)
      expect(report.archive).toBeUndefined()
    }
    expect((await readDatasetState(store, PREFIX)).datasets.archive).toBeUndefined()
  })

  it('a dry run finds archived days but asks for none', async () => {
    const { sim, run } = await account(200)
    const report = await run({ dryRun: true })
    expect(reloadsOf(report)).toBe(0)
    expect(report.datasets?.['heart-rate']?.archived).toBe(19)
    expect(sim.reloads()).toEqual([])
  })

  it('--reload-budget must be a whole number from 0 to 1000', async () => {
    const { run } = await account(10)
    await expect(run({ reloadBudget: -1 })).rejects.toThrow(/--reload-budget must be a whole number/)
    await expect(run({ reloadBudget: 1.5 })).rejects.toThrow(/--reload-budget/)
  })
})
