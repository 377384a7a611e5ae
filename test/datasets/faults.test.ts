import { afterAll, beforeAll, expect, it } from 'vitest'
import { FakeClock } from '../../src/clock.js'
import { dailyGaps, readDatasetState } from '../../src/sync/dataset-state.js'
import { dailyKey, datasetPrefix, perActivityKey } from '../../src/sync/datasets.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { addDays } from '../../src/sync/time.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { DAILY, NOW, PER_ACTIVITY, PREFIX, prefixOf, signedInClient, syncer, TODAY } from './helpers.js'

let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({ activities: 30, years: 1, seed: 11, now: () => NOW, gapDays: 8 })
})
afterAll(() => sim.close())

// The simulator spends ~8 ms building a day of wellness data: four datasets keep a year of them fast.
const DATASETS = ['fit', 'sleep', 'stress', 'hrv']
const daily = DAILY.filter((d) => DATASETS.includes(d.name))

it('a year of backfill under 429 storms, 5xx and 204s degrades to a partial report; the next run fills every gap', async () => {
  const since = addDays(TODAY, -364)
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const garmin = await signedInClient(sim, clock)
  const { sync } = syncer(garmin, store, clock)
  // Flaky servers on some routes, and a 429 storm on one that outlasts the rate-limit budget.
  sim.addFault({ route: 'sleep', fault: { kind: 'status', status: 503 }, probability: 0.3 })
  sim.addFault({ route: 'stress', fault: { kind: 'status', status: 500 }, probability: 0.3 })
  sim.addFault({
    route: 'heartRate',
    fault: { kind: 'status', status: 429, retryAfter: 1 },
    probability: 0.2,
  })
  sim.addFault({ route: 'download', fault: { kind: 'status', status: 502 }, probability: 0.3 })
  sim.addFault({ route: 'hrv', fault: { kind: 'status', status: 429, retryAfter: 5 }, times: 40 })

  const first = await sync({ since, datasets: DATASETS })
  expect(first.exitCode).toBe(5)
  expect(first.partial).toBe(true)
  expect(first.created).toBeGreaterThan(0)
  expect(first.errors.some((e) => /429|too many/i.test(e.message))).toBe(true)
  const missingAfterFirst = daily.reduce((n, spec) => n + (first.datasets?.[spec.name]?.created ?? 0), 0)
  expect(missingAfterFirst).toBeLessThan(daily.length * 365)

  sim.clearFaults()
  const second = await sync({ since, datasets: DATASETS })
  expect(second).toMatchObject({ exitCode: 0, partial: false, errors: [] })

  // No gaps: every day either has its object or had no data at Garmin.
  const checker = await signedInClient(sim)
  const state = await readDatasetState(store, PREFIX)
  const gaps = new Set(sim.gapDates())
  for (const spec of daily) {
    const section = state.datasets[prefixOf(spec)]
    expect(section?.kind).toBe('daily')
    if (section?.kind !== 'daily') continue
    expect(section).toMatchObject({ from: since, through: TODAY, pending: [] })
    const stored = store.keys(prefixOf(spec)).length
    expect(dailyGaps(section).stored).toBe(stored)
    for (const day of [...gaps].filter((d) => d >= since)) {
      expect(store.text(dailyKey(prefixOf(spec), spec, day))).toBeUndefined()
    }
    expect(stored).toBe(365 - [...gaps].filter((d) => d >= since).length)
    for (const day of ['2026-01-15', '2026-06-01', addDays(TODAY, -1)]) {
      const served = await checker.getDaily(spec.garminName, day)
      expect(store.text(dailyKey(prefixOf(spec), spec, day))).toBe(JSON.stringify(served))
    }
  }
  const activities = sim.listAll().filter((a) => a.startTimeGMT.slice(0, 10) >= addDays(since, 1))
  for (const spec of PER_ACTIVITY.filter((d) => d.name === 'fit')) {
    for (const a of activities)
      expect(store.keys(perActivityKey(prefixOf(spec), spec, a.activityId))).toHaveLength(1)
  }
})

it('an interrupted backfill checkpoints what it did; the next run fetches only the rest', async () => {
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
