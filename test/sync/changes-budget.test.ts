/**
 * What following edits costs (issue 17, docs/changes.md): the fingerprints' share of the state, the
 * daily no-op, and a reconcile of 10,000 unchanged activities.
 */
import { describe, expect, it } from 'vitest'
import { decodeFingerprints, encodeFingerprints, fingerprintOf } from '../../src/sync/fingerprint.js'
import { STATE_KEY, world } from './helpers.js'

const COUNT = 10_000
/** The budget: the state may grow by 1 KB per 100 activities. */
const BUDGET_BYTES = (COUNT / 100) * 1024

function stateBytes(w: ReturnType<typeof world>): number {
  return w.store.objects.get(STATE_KEY)!.body.byteLength
}

describe('the cost of following edits, at 10,000 activities', () => {
  it('the fingerprints fit the budget, and a daily no-op still reads only the state', async () => {
    const skipOnly = world({ count: COUNT })
    await skipOnly.sync({ trackChanges: false })
    const tracking = world({ count: COUNT })
    await tracking.sync()
    const growth = stateBytes(tracking) - stateBytes(skipOnly)
    expect(growth).toBeGreaterThan(0)
    expect(growth).toBeLessThanOrEqual(BUDGET_BYTES)

    tracking.store.resetStats()
    tracking.garmin.resetStats()
    const report = await tracking.sync()
    expect(report).toMatchObject({ created: 0, exitCode: 0 })
    expect(tracking.garmin.stats().requests).toEqual({ list: 1 })
    expect(tracking.store.stats().requests).toEqual({ GetObject: 1, PutObject: 2 })
  })

  it('a reconcile of 10,000 unchanged activities: at most 12 list calls and 12 storage requests', async () => {
    const w = world({ count: COUNT })
    await w.sync()
    w.store.resetStats()
    w.garmin.resetStats()
    const report = await w.sync({ reconcile: true })
    expect(report).toMatchObject({ exitCode: 0, reconciled: true, existing: COUNT })
    expect(report.changed ?? 0).toBe(0)
    expect(w.garmin.stats().requests.list).toBeLessThanOrEqual(12)
    const storeRequests = Object.values(w.store.stats().requests).reduce((a, b) => a + b, 0)
    expect(storeRequests).toBeLessThanOrEqual(12)
    // 10 full pages and the empty one; GET the state, PUT it (the reconcile's time) and the manifest.
    expect(w.garmin.stats().requests.list).toBe(11)
    expect(w.store.stats().requests).toEqual({ GetObject: 1, PutObject: 2 })
  })
})

describe('fingerprints', () => {
  it('are 6 characters aligned with the sorted ids; a string of the wrong length gives none', () => {
    const ids = [3, 7, 12]
    const known = new Map([
      [3, fingerprintOf('{"a":1}')],
      [12, fingerprintOf('{"a":2}')],
    ])
    const text = encodeFingerprints(ids, known)
    expect(text).toHaveLength(18)
    expect(decodeFingerprints(ids, text)).toEqual(known)
    expect(decodeFingerprints([3, 7], text).size).toBe(0)
    expect(fingerprintOf('{"a":1}')).not.toBe(fingerprintOf('{"a":1.5}'))
  })
})
