/**
 * `status --deep --repair` writes the state through the one compare-and-swap document (sync/repair.ts):
 * only its prefix's section and `updatedAt` change, and a state changed since it was read is left to
 * the sync that changed it (one attempt, no merge over a listing that is already stale).
 */
import { describe, expect, it } from 'vitest'
import { readState } from '../../src/status/lake.js'
import { encodeCatalog } from '../../src/sync/catalog.js'
import { decodeFingerprints, encodeFingerprints, fingerprintOf } from '../../src/sync/fingerprint.js'
import { repairState } from '../../src/sync/repair.js'
import { stateKeyFor } from '../../src/sync/state.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'

const PREFIX = 'raw-data/garmin-json/'
const OTHER = 'other/garmin-json/'
const KEY = stateKeyFor(PREFIX)

function seedState(store: MemoryStore): void {
  const section = (stored: number) => ({
    covered: [{ from: null, to: '2026-11-28 00:00:00' }],
    backfillComplete: true,
    recent: [
      [1, '2026-11-27 08:00:00'],
      [2, '2026-11-26 08:00:00'],
    ],
    counts: { stored, created: stored, runs: 1 },
    futureField: { kept: true },
  })
  store.seed(
    KEY,
    JSON.stringify({
      version: 1,
      updatedAt: '2026-11-27T00:00:00.000Z',
      writtenBy: 'a newer minor version',
      datasets: { [PREFIX]: section(2), [OTHER]: section(5) },
    }),
  )
}

describe('status --repair writes the state by compare-and-swap', () => {
  it('changes only its section and updatedAt, keeping fields this version does not know', async () => {
    const store = new MemoryStore()
    seedState(store)
    const read = await readState(store, PREFIX)
    const summary = await repairState(store, PREFIX, read, new Set([1]), new FakeClock())
    expect(summary).toMatchObject({ written: true, storedBefore: 2, storedAfter: 1 })
    const after = JSON.parse(store.text(KEY)!)
    expect(after.writtenBy).toBe('a newer minor version')
    expect(after.updatedAt).toBe(new Date(new FakeClock().now()).toISOString())
    expect(after.datasets[OTHER].counts.stored).toBe(5)
    expect(after.datasets[PREFIX]).toMatchObject({
      counts: { stored: 1 },
      recent: [[1, '2026-11-27 08:00:00']],
      futureField: { kept: true },
    })
  })

  it('keeps the fingerprints of the activities left, aligned with what is left of the catalog', async () => {
    const store = new MemoryStore()
    const ids = [10, 20, 30]
    const known = new Map([
      [10, fingerprintOf('{"a":10}')],
      [30, fingerprintOf('{"a":30}')],
    ])
    store.seed(
      KEY,
      JSON.stringify({
        version: 1,
        updatedAt: '2026-11-27T00:00:00.000Z',
        datasets: {
          [PREFIX]: {
            covered: [],
            backfillComplete: false,
            recent: [],
            counts: { stored: 3, created: 3, runs: 1 },
            catalog: encodeCatalog(new Map(ids.map((id) => [id, { year: '2026', type: 'running' }]))),
            fingerprints: encodeFingerprints(ids, known),
          },
        },
      }),
    )
    const read = await readState(store, PREFIX)
    expect((await repairState(store, PREFIX, read, new Set([20, 30]), new FakeClock())).written).toBe(true)
    const after = JSON.parse(store.text(KEY)!).datasets[PREFIX]
    expect(decodeFingerprints([20, 30], after.fingerprints)).toEqual(new Map([[30, known.get(30)]]))
  })

  it('leaves a state a sync saved in between alone, after one attempt, and says to run it again', async () => {
    const store = new MemoryStore()
    seedState(store)
    const read = await readState(store, PREFIX)
    // A sync saves between the read and the repair's write.
    const current = JSON.parse(store.text(KEY)!)
    current.datasets[PREFIX].counts.stored = 3
    store.seed(KEY, JSON.stringify(current))
    store.resetStats()
    const summary = await repairState(store, PREFIX, read, new Set([1]), new FakeClock())
    expect(summary.written).toBe(false)
    expect(summary.message).toMatch(/changed while repairing.*run the repair again/)
    expect(JSON.parse(store.text(KEY)!).datasets[PREFIX].counts.stored).toBe(3)
    expect(store.stats().requests).toEqual({ PutObject: 1 })
  })
})
