import { afterEach, expect, it } from 'vitest'
import { dailyGaps, readDatasetState } from '../../src/sync/dataset-state.js'
import { dailyKey, datasetPrefix, perActivityKey } from '../../src/sync/datasets.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { addDays } from '../../src/sync/time.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Fault, SimRoute } from '../sim/faults.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { DAILY, NOW, PER_ACTIVITY, PREFIX, prefixOf, signedInClient, syncer, TODAY } from './helpers.js'

// Each test has its own simulator: a test that runs long must not leave traffic in another's stats.
const sims: Simulator[] = []
async function account(): Promise<Simulator> {
  const sim = await startSimulator({ activities: 90, years: 1, seed: 11, now: () => NOW, gapDays: 8 })
  sims.push(sim)
  return sim
}
afterEach(async () => {
  await Promise.all(sims.splice(0).map((sim) => sim.close()))
})

// Four months of every dataset, five runs over them: enough days for every fault to fire many times,
// small enough that the scenario stays a few seconds of CPU on a loaded machine (all waits are on the
// fake clock).
const SINCE = addDays(TODAY, -119)
const EVERY_DATASET = [...PER_ACTIVITY, ...DAILY]

/** What a run without faults stores: key -> bytes, in every dataset prefix (state files aside). */
function contents(store: MemoryStore): Map<string, string> {
  const out = new Map<string, string>()
  for (const spec of EVERY_DATASET) {
    for (const key of store.keys(prefixOf(spec)))
      out.set(key, Buffer.from(store.objects.get(key)!.body).toString('base64'))
  }
  return out
}

it('a four-month backfill of every dataset under 5xx, 429s, a 429 storm and 204s degrades to partial reports; the next clean run fills every gap', async () => {
  const sim = await account()
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const { sync } = syncer(await signedInClient(sim, clock), store, clock)
  // Flaky servers on every data route, a 429 storm on one that outlasts the rate-limit budget, and
  // 204s on the account's gap days.
  const flaky: [SimRoute, Fault, number][] = [
    ['sleep', { kind: 'status', status: 503 }, 0.5],
    ['stress', { kind: 'status', status: 500 }, 0.5],
    ['heartRate', { kind: 'status', status: 429, retryAfter: 1 }, 0.2],
    ['dailySummary', { kind: 'status', status: 502 }, 0.2],
    ['bodyBattery', { kind: 'status', status: 503 }, 0.5],
    ['bodyComposition', { kind: 'status', status: 500 }, 0.3],
    ['trainingReadiness', { kind: 'status', status: 429 }, 0.1],
    ['download', { kind: 'status', status: 502 }, 0.5],
    ['activityDetails', { kind: 'status', status: 500 }, 0.3],
    ['activitySplits', { kind: 'status', status: 503 }, 0.3],
  ]
  for (const [route, fault, probability] of flaky) sim.addFault({ route, fault, probability })

  // A run on flaky servers: retries absorb most faults; what is still failing is reported, not lost.
  const first = await sync({ since: SINCE })
  expect(first).toMatchObject({ exitCode: 5, partial: true })
  const failedDatasets = EVERY_DATASET.filter((spec) => (first.datasets?.[spec.name]?.failed ?? 0) > 0)
  // Which days fail depends on the order of requests in flight, not on the seed alone; at p = 0.5 a
  // day fails all its attempts often enough that the three daily routes each lose several.
  expect(failedDatasets.length).toBeGreaterThanOrEqual(2)
  expect(first.datasets?.sleep?.created).toBeGreaterThan(80)
  const afterFirst = contents(store)
  // Every back-off and Retry-After wait was on the fake clock: minutes of waiting, no real time. A wait
  // taken on the real clock would be missing here (and would make the test as slow as the waits).
  const waited = clock.sleeps.reduce((sum, ms) => sum + ms, 0)
  expect(waited).toBeGreaterThan(120_000)

  // Then a 429 storm that outlasts the rate-limit budget: the run stops early, with the reason.
  sim.addFault({ route: 'hrv', fault: { kind: 'status', status: 429, retryAfter: 5 }, times: 40 })
  const stormy = await sync({ since: SINCE })
  expect(stormy.partial).toBe(true)
  expect(stormy.errors.some((e) => /429|too many/i.test(e.message))).toBe(true)

  sim.clearFaults()
  const last = await sync({ since: SINCE })
  expect(last).toMatchObject({ exitCode: 0, partial: false, errors: [] })

  // No gaps: the store now holds exactly what a run without any fault stores.
  const clean = new MemoryStore()
  const oracle = await syncer(await signedInClient(sim, clock), clean, clock).sync({ since: SINCE })
  expect(oracle).toMatchObject({ exitCode: 0, partial: false })
  const expected = contents(clean)
  expect(afterFirst.size).toBeLessThan(expected.size)
  expect(contents(store)).toEqual(expected)

  const state = await readDatasetState(store, PREFIX)
  const gaps = [...new Set(sim.gapDates())].filter((d) => d >= SINCE)
  expect(gaps.length).toBeGreaterThan(4)
  for (const spec of DAILY) {
    const section = state.datasets[prefixOf(spec)]
    expect(section?.kind, spec.name).toBe('daily')
    if (section?.kind !== 'daily') continue
    expect(section).toMatchObject({ from: SINCE, through: TODAY, pending: [] })
    const stored = store.keys(prefixOf(spec)).length
    expect(dailyGaps(section).stored, spec.name).toBe(stored)
    // Days without data at Garmin (204) have no object, and are remembered as such.
    for (const day of gaps) expect(store.text(dailyKey(prefixOf(spec), spec, day))).toBeUndefined()
    expect(dailyGaps(section).noData, spec.name).toBeGreaterThanOrEqual(gaps.length)
  }
  const activities = sim.listAll().filter((a) => a.startTimeGMT.slice(0, 10) >= addDays(SINCE, 1))
  expect(activities.length).toBeGreaterThan(10)
  for (const spec of PER_ACTIVITY) {
    for (const a of activities)
      expect(store.keys(perActivityKey(prefixOf(spec), spec, a.activityId)), spec.name).toHaveLength(1)
  }
})

it('an interrupted backfill checkpoints what it did; the next run fetches only the rest', async () => {
  const sim = await account()
  const since = addDays(TODAY, -119)
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const garmin = await signedInClient(sim, clock)
  const stop = new AbortController()
  const datasets = ['hrv', 'training-readiness']
  const first = await runSyncWithDatasets(
    { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', datasets, since },
    {
      garmin,
      store,
      clock,
      signal: stop.signal,
      log: (e) => {
        if (e.type === 'dataset-progress' && e.dataset === 'hrv' && e.done === 40) stop.abort()
      },
    },
  )
  expect(first).toMatchObject({ exitCode: 5, partial: true, stopReason: 'interrupted' })
  const fetched = first.datasets!.hrv!.requests + first.datasets!['training-readiness']!.requests
  expect(fetched).toBeLessThan(240)

  sim.resetStats()
  const { sync } = syncer(garmin, store, clock)
  const second = await sync({ since, datasets })
  expect(second).toMatchObject({ exitCode: 0, partial: false })
  // Each day is asked for once overall, except the days in flight at the stop and the revision window.
  const calls = (sim.stats().byRoute.hrv?.['200'] ?? 0) + (sim.stats().byRoute.hrv?.['204'] ?? 0)
  expect(calls).toBeLessThanOrEqual(120 - first.datasets!.hrv!.requests + 3 + 2)
  const state = await readDatasetState(store, PREFIX)
  for (const name of datasets) {
    const section = state.datasets[datasetPrefix(PREFIX, name)]
    expect(section).toMatchObject({ from: since, through: TODAY, pending: [] })
  }
})
