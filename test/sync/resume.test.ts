import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { GarminUnavailableError } from '../../src/garmin/errors.js'
import { expectExactly, PREFIX, world } from './helpers.js'

const DAY = 86_400_000

/** Store requests a clean first run of `count` activities makes, to spread crash points over it. */
async function cleanRunRequests(count: number, sortBy: 'gmt' | 'local'): Promise<number> {
  const w = world({ count, sortBy })
  await w.sync()
  return w.store.requestCount
}

describe('a run killed at any point loses nothing', () => {
  it.each(['gmt', 'local'] as const)(
    'crash at 16 points of a backfill, then rerun (list sorted by %s time)',
    async (sortBy) => {
      const count = 900
      const total = await cleanRunRequests(count, sortBy)
      const points = Array.from({ length: 16 }, (_, i) => 1 + Math.floor((i * (total - 2)) / 15))
      for (const crashAt of points) {
        const w = world({ count, sortBy })
        w.store.crashAfter(crashAt)
        const killed = await w.sync()
        expect(killed.exitCode, `crash after request ${crashAt}`).not.toBe(0)
        const storedBefore = w.store.keys(PREFIX).length

        w.store.clearFailures()
        w.store.resetStats()
        w.garmin.resetStats()
        const rerun = await w.sync()
        expect(rerun.exitCode, `rerun after crash at ${crashAt}`).toBe(0)
        expectExactly(w.store, w.garmin.listAll())
        // Nothing written twice: one PUT per missing activity (+ checkpoints and manifest).
        expect(rerun.created).toBe(count - storedBefore)
        const puts = w.store.stats().requests.PutObject ?? 0
        expect(puts - rerun.created, `crash at ${crashAt}`).toBeLessThanOrEqual(12)
      }
    },
  )

  it('a crash during an incremental run is repaired by the next one', async () => {
    const w = world({ count: 300 })
    await w.sync()
    w.garmin.addNewer(12)
    w.store.crashAfter(w.store.requestCount + 6)
    const killed = await w.sync()
    expect(killed.partial).toBe(true)
    w.store.clearFailures()
    const rerun = await w.sync()
    expect(rerun.exitCode).toBe(0)
    expectExactly(w.store, w.garmin.listAll())
  })

  it('still completes when Garmin ignores endDate (pages through instead, with a warning)', async () => {
    const w = world({ count: 1500 })
    w.garmin.honorEndDate = false
    w.garmin.failList = (call) => (call === 3 ? new GarminUnavailableError('down') : undefined)
    await w.sync()
    w.garmin.failList = undefined
    const second = await w.sync()
    expect(second.exitCode).toBe(0)
    expect(w.events.some((e) => e.type === 'warning' && /ignored endDate/.test(e.message))).toBe(true)
    expectExactly(w.store, w.garmin.listAll())
  })
})

type Op =
  | { kind: 'newer'; n: number }
  | { kind: 'late'; daysAgo: number }
  | { kind: 'crash'; after: number }
  | { kind: 'flaky'; every: number }
  | { kind: 'garmin-down'; atCall: number }
  | { kind: 'deadline'; ms: number }
  | { kind: 'clean' }

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('newer' as const), n: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant('late' as const), daysAgo: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ kind: fc.constant('crash' as const), after: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('flaky' as const), every: fc.integer({ min: 2, max: 9 }) }),
  fc.record({ kind: fc.constant('garmin-down' as const), atCall: fc.integer({ min: 0, max: 4 }) }),
  fc.record({ kind: fc.constant('deadline' as const), ms: fc.integer({ min: 0, max: 30_000 }) }),
  fc.record({ kind: fc.constant('clean' as const) }),
)

describe('any sequence of interrupted runs', () => {
  it('ends with every activity stored exactly once after one clean run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 400 }),
        fc.constantFrom('gmt' as const, 'local' as const),
        fc.integer({ min: 1, max: 1000 }),
        fc.array(op, { maxLength: 6 }),
        async (count, sortBy, seed, ops) => {
          const w = world({ count, sortBy, seed, latencyMs: 3000 })
          for (const o of ops) {
            w.store.clearFailures()
            w.garmin.failList = undefined
            let deadline: number | undefined
            switch (o.kind) {
              case 'newer':
                w.garmin.addNewer(o.n)
                break
              case 'late': {
                const newest = Date.parse(
                  `${w.garmin.listAll()[0]?.startTimeGMT.replace(' ', 'T') ?? '2026-11-01T00:00:00'}Z`,
                )
                w.garmin.addAt(newest - o.daysAgo * DAY - 3_600_000)
                break
              }
              case 'crash':
                w.store.crashAfter(w.store.requestCount + o.after)
                break
              case 'flaky': {
                let n = 0
                w.store.failWhen({
                  op: 'putIfAbsent',
                  key: { test: () => ++n % o.every === 0 } as unknown as RegExp,
                  error: () => Object.assign(new StoreError('503'), { retryable: true }),
                })
                break
              }
              case 'garmin-down':
                w.garmin.failList = (call) =>
                  call >= o.atCall ? new GarminUnavailableError('down') : undefined
                w.garmin.resetStats()
                break
              case 'deadline':
                deadline = w.clock.now() + o.ms
                break
            }
            await w.sync(deadline === undefined ? {} : { deadline })
          }
          w.store.clearFailures()
          w.garmin.failList = undefined
          const final = await w.sync()
          expect(final.exitCode).toBe(0)
          expectExactly(w.store, w.garmin.listAll())
        },
      ),
      { numRuns: 60, seed: 20261128 },
    )
  })
})
