/**
 * Counts in the CLI's lines (`1,234 created`, `5,440,000 rows`) are grouped as Intl.NumberFormat('en-US')
 * groups them, without loading ICU at every start (src/format.ts).
 */
import { describe, expect, it } from 'vitest'
import { formatCount } from '../../src/format.js'

const intl = new Intl.NumberFormat('en-US')

describe('formatCount', () => {
  it('prints what Intl.NumberFormat("en-US") prints, for whole numbers of every length and sign', () => {
    const samples = [0, 1, 9, 10, 99, 100, 999, 1_000, 1_001, 9_999, 10_000, 123_456, 999_999, 1_000_000]
    for (let digits = 1; digits <= 16; digits++)
      samples.push(10 ** digits - 1, 10 ** digits, 7 * 10 ** (digits - 1) + 3)
    samples.push(Number.MAX_SAFE_INTEGER)
    for (const n of [...samples, ...samples.map((x) => -x)])
      expect(formatCount(n), String(n)).toBe(intl.format(n))
  })

  it('leaves fractions, -0 and numbers beyond 2^53 to Intl, unchanged', () => {
    for (const n of [0.5, 1234.5678, -0, -1234.5, 2 ** 60, Number.NaN, Number.POSITIVE_INFINITY])
      expect(formatCount(n), String(n)).toBe(intl.format(n))
  })
})
