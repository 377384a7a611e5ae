/**
 * A corrupt `datasets.json` (the per-dataset cursors) is not dropped silently: sync warns, naming the
 * file and what it does, and rebuilds the cursors from one listing of each dataset's prefix instead
 * of fetching every day again from Garmin; status reports the file as unreadable until then.
 * Simulator over HTTP, in-memory store; Garmin requests measured by the simulator's own counts.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { gatherStatus } from '../../src/status/index.js'
import { datasetStateKeyFor } from '../../src/sync/dataset-state.js'
import { addDays } from '../../src/sync/time.js'
import { MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Simulator } from '../sim/server.js'
import { SKIP_AWS, tokensRotatedAt } from '../status/helpers.js'
import { dataCalls, NOW, PREFIX, recentAccount, signedInClient, sum, syncer, TODAY } from './helpers.js'

const DATA = ['activities', 'sleep', 'daily-summary', 'splits']
const KEY = datasetStateKeyFor(PREFIX)
let sim: Simulator

beforeAll(async () => {
  sim = await recentAccount(30)
})
afterAll(async () => {
  await sim.close()
})

/** The Garmin data calls `run` makes, by route (the simulator counts them). */
async function garminCalls(run: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = dataCalls(sim.stats())
  await run()
  const after = dataCalls(sim.stats())
  return Object.fromEntries(
    Object.entries(after)
      .map(([route, n]) => [route, n - (before[route] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  )
}

it.each([
  ['cut short', '{"version":2,"updatedAt":"2026-11-28T12:00:00.000Z","datasets":{"raw-data/gar', 'not-json'],
  ['not a cursor file', '{"hello":"world"}', 'not-a-state'],
] as const)(
  'a %s datasets.json: warned, reported, rebuilt from listings with no more Garmin calls than intact cursors',
  async (_what, broken, kind) => {
    const clock = new FakeClock(NOW)
    const garmin = await signedInClient(sim, clock)
    const intact = new MemoryStore()
    const corrupt = new MemoryStore()
    const a = syncer(garmin, intact, clock)
    const b = syncer(garmin, corrupt, clock)
    const since = addDays(TODAY, -29)
    expect((await a.sync({ datasets: DATA, since })).exitCode).toBe(0)
    const first = await b.sync({ datasets: DATA, since })
    expect(first.exitCode).toBe(0)
    // Days Garmin had no data for: only the cursor knew them, no listing can (they are asked again).
    const noData = (first.datasets?.sleep?.noData ?? 0) + (first.datasets?.['daily-summary']?.noData ?? 0)
    const daysStored = corrupt.keys('raw-data/garmin-sleep/').length
    expect(daysStored).toBeGreaterThan(20)

    corrupt.seed(KEY, broken)
    const status = await gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store: corrupt, clock, tokenStore: new MemoryTokenStore(tokensRotatedAt(NOW)), aws: SKIP_AWS },
    )
    expect(status.datasetsState).toMatchObject({
      key: KEY,
      present: true,
      readable: false,
      problemKind: kind,
    })
    const cause = status.health.causes.find((c) => c.code === 'datasets-state-unreadable')
    expect(cause?.level).toBe('WARN')
    expect(cause?.message).toContain(KEY)
    expect(cause?.next).toMatch(/rebuilds them from one listing/)

    clock.advance(3_600_000)
    const normal = await garminCalls(() => a.sync({ datasets: DATA, since }))
    b.events.length = 0
    let report: Awaited<ReturnType<typeof b.sync>> | undefined
    const rebuilt = await garminCalls(async () => {
      report = await b.sync({ datasets: DATA, since })
    })
    expect(report?.exitCode).toBe(0)
    const warnings = b.events.flatMap((e) => (e.type === 'warning' ? [e.message] : []))
    expect(warnings.join('\n')).toContain(KEY)
    expect(warnings.join('\n')).toMatch(/rebuilt from one listing/)
    // Only what the listing cannot vouch for is asked again: the calls intact cursors make (the
    // revision window, which every run fetches) and the days without data, not the whole range (what
    // dropping the cursors cost: 30 days of each daily dataset).
    expect(sum(rebuilt)).toBeLessThanOrEqual(sum(normal) + noData)
    expect(sum(rebuilt)).toBeLessThan(daysStored)
    expect(report?.datasets?.sleep?.created).toBe(0)

    // The file is whole again, and status no longer warns about it.
    const after = await gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store: corrupt, clock, tokenStore: new MemoryTokenStore(tokensRotatedAt(NOW)), aws: SKIP_AWS },
    )
    expect(after.datasetsState.readable).toBe(true)
    expect(after.health.causes.map((c) => c.code)).not.toContain('datasets-state-unreadable')
    // The rebuilt cursors are those of the intact target: a third run costs the same on both.
    clock.advance(3_600_000)
    expect(await garminCalls(() => b.sync({ datasets: DATA, since }))).toEqual(
      await garminCalls(() => a.sync({ datasets: DATA, since })),
    )
  },
)
