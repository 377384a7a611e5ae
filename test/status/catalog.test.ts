/**
 * The catalog sync keeps for `status --deep`: a compact, lossless record of which ids are stored by
 * year and type, merged as a union.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  type CatalogEntry,
  catalogEntryOf,
  decodeCatalog,
  encodeCatalog,
  mergeCatalog,
} from '../../src/sync/catalog.js'
import { cutCoverage } from '../../src/sync/coverage.js'

const entry = fc.record({
  year: fc.integer({ min: 2000, max: 2030 }).map(String),
  type: fc.constantFrom('running', 'cycling', 'lap_swimming', 'unknown'),
})
const catalogMap = fc
  .array(fc.tuple(fc.integer({ min: 1, max: 2 ** 40 }), entry), { maxLength: 200 })
  .map((pairs) => new Map<number, CatalogEntry>(pairs))

describe('the activity catalog', () => {
  it('decodes to exactly what was encoded', () => {
    fc.assert(
      fc.property(catalogMap, (map) => {
        expect(decodeCatalog(encodeCatalog(map))).toEqual(map)
      }),
    )
  })

  it('merges as a union, the newer year/type winning', () => {
    fc.assert(
      fc.property(catalogMap, catalogMap, (a, b) => {
        const merged = decodeCatalog(mergeCatalog(encodeCatalog(a), b))
        expect(merged).toEqual(new Map([...a, ...b]))
      }),
    )
  })

  it('takes the local year and the type key, and refuses odd keys', () => {
    const base = { activityId: 1, startTimeGMT: '2024-12-31 23:30:00' }
    expect(
      catalogEntryOf({
        ...base,
        startTimeLocal: '2025-01-01 01:30:00',
        activityType: { typeKey: 'running' },
      }),
    ).toEqual({ year: '2025', type: 'running' })
    expect(catalogEntryOf({ ...base, activityType: { typeKey: '__proto__' } })).toEqual({
      year: '2024',
      type: 'unknown',
    })
  })

  it('is small: a few bytes per activity for a real-looking history', () => {
    const map = new Map<number, CatalogEntry>()
    for (let i = 0; i < 5000; i++)
      map.set(10_000_000_000 + i * 2_345_678, { year: String(2015 + (i % 10)), type: 'running' })
    expect(JSON.stringify(encodeCatalog(map)).length / 5000).toBeLessThan(7)
  })
})

describe('cutting checkpoint coverage', () => {
  it('removes a stretch from the open intervals, keeping both sides', () => {
    const covered = [
      { from: '2024-06-01 00:00:00', to: '2026-01-01 00:00:00' },
      { from: null, to: '2023-01-01 00:00:00' },
    ]
    expect(cutCoverage(covered, '2024-12-31 00:00:00', '2025-06-01 00:00:00')).toEqual([
      { from: '2025-06-01 00:00:00', to: '2026-01-01 00:00:00' },
      { from: '2024-06-01 00:00:00', to: '2024-12-31 00:00:00' },
      { from: null, to: '2023-01-01 00:00:00' },
    ])
    expect(cutCoverage(covered, '2022-01-01 00:00:00', '2022-02-01 00:00:00')).toEqual([
      { from: '2024-06-01 00:00:00', to: '2026-01-01 00:00:00' },
      { from: '2022-02-01 00:00:00', to: '2023-01-01 00:00:00' },
      { from: null, to: '2022-01-01 00:00:00' },
    ])
  })
})
