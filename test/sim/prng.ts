/** Small seeded pseudo-random helpers, so that every simulated account and fault pattern is reproducible. */

export type Rng = () => number

/** mulberry32: fast, good enough for test data, and identical on every platform. */
export function mulberry32(seed: number): Rng {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

/** Mixes numbers (ids up to 2^53, dates as day numbers, ...) into one 32-bit seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x811c9dc5
  for (const part of parts) {
    // Split into two 32-bit halves so that large ids keep all their bits.
    const hi = Math.floor(part / 4294967296) >>> 0
    const lo = part >>> 0
    for (const word of [lo, hi]) {
      h = Math.imul(h ^ word, 0x01000193) >>> 0
      h ^= h >>> 13
      h = Math.imul(h, 0x5bd1e995) >>> 0
      h ^= h >>> 15
    }
  }
  return h >>> 0
}

export function rngFor(...parts: number[]): Rng {
  return mulberry32(mixSeed(...parts))
}

export function intBetween(rng: Rng, min: number, max: number): number {
  return min + Math.floor(rng() * (max - min + 1))
}

export function floatBetween(rng: Rng, min: number, max: number): number {
  return min + rng() * (max - min)
}

export function pick<T>(rng: Rng, items: readonly T[]): T {
  const item = items[Math.floor(rng() * items.length)]
  if (item === undefined) throw new Error('pick from an empty list')
  return item
}
