/**
 * Coverage: which stretches of an account's history are known to be fully stored, as open intervals
 * of `startTimeGMT`. The pipeline skips listing pages whose activities all fall inside one, which is
 * what makes a daily run cost one Garmin call whatever the size of the history.
 *
 * A claim is made only from a contiguous run of listed activities that were all stored, shrunk at both
 * ends by SORT_SLACK_MS: Garmin may order its list by local start time, and local and UTC order can
 * disagree only between activities less than 26 hours apart (UTC-12 .. UTC+14). Shrinking makes a
 * claim true under either order. Claims are unions of facts, so merging two runs' claims is safe.
 */
import { formatGmt, HOUR_MS, parseGmt } from './time.js'

export const SORT_SLACK_MS = 26 * HOUR_MS
const MAX_INTERVALS = 50

/** Every activity with `from < startTimeGMT < to` is stored. `from: null` means "since the beginning". */
export interface Interval {
  from: string | null
  to: string
}

function below(a: string | null, b: string | null): boolean {
  if (a === null) return b !== null
  if (b === null) return false
  return a < b
}

/** The interval that strictly contains `time`, if any. */
export function intervalContaining(intervals: readonly Interval[], time: string): Interval | undefined {
  return intervals.find((i) => below(i.from, time) && time < i.to)
}

/**
 * The claim a contiguous run of stored activities supports: `lower` is the oldest of them (null when
 * the run reached the beginning of the history), `upper` the newest.
 */
function claim(lower: string | null, upper: string): Interval | undefined {
  const upperMs = parseGmt(upper)
  if (upperMs === undefined) return undefined
  const to = formatGmt(upperMs - SORT_SLACK_MS)
  if (lower === null) return { from: null, to }
  const lowerMs = parseGmt(lower)
  if (lowerMs === undefined) return undefined
  const from = formatGmt(lowerMs + SORT_SLACK_MS)
  return from < to ? { from, to } : undefined
}

/** Sorted newest first, overlapping intervals merged, at most MAX_INTERVALS (the shortest dropped). */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals
    .filter((i) => i.from === null || i.from < i.to)
    .map((i) => ({ from: i.from, to: i.to }))
    .sort((a, b) => (below(a.from, b.from) ? -1 : below(b.from, a.from) ? 1 : 0))
  const merged: Interval[] = []
  for (const next of sorted) {
    const last = merged[merged.length - 1]
    // Open intervals that only touch leave their shared end uncovered, so they stay apart.
    if (last && below(next.from, last.to)) {
      if (next.to > last.to) last.to = next.to
    } else {
      merged.push(next)
    }
  }
  merged.reverse()
  if (merged.length <= MAX_INTERVALS) return merged
  // Forgetting an interval only costs a re-check later; keep the beginning-of-history one and the longest.
  const length = (i: Interval) =>
    i.from === null ? Number.POSITIVE_INFINITY : parseGmt(i.to)! - parseGmt(i.from)!
  const keep = new Set([...merged].sort((a, b) => length(b) - length(a)).slice(0, MAX_INTERVALS))
  return merged.filter((i) => keep.has(i))
}

export function isInterval(value: unknown): value is Interval {
  if (typeof value !== 'object' || value === null) return false
  const { from, to } = value as Record<string, unknown>
  return (from === null || parseGmt(from) !== undefined) && parseGmt(to) !== undefined
}

/**
 * Builds this run's claims while it walks the list in order: every stored activity extends the
 * current chain, anything not stored (failed, skipped, not attempted) ends it.
 */
export class ChainTracker {
  private chain: { upper: string; lower: string } | undefined
  private readonly done: Interval[] = []

  stored(start: string): void {
    if (!this.chain) this.chain = { upper: start, lower: start }
    else if (start < this.chain.lower) this.chain.lower = start
  }

  /** Something that is not stored: the chain ends before it. */
  gap(): void {
    if (this.chain) this.push(claim(this.chain.lower, this.chain.upper))
    this.chain = undefined
  }

  /** The list ended, or reached coverage that starts at the beginning: the chain goes all the way down. */
  reachBeginning(): void {
    if (this.chain) this.push(claim(null, this.chain.upper))
    this.chain = undefined
  }

  /** Everything claimed so far, the open chain included. */
  claims(): Interval[] {
    const open = this.chain ? claim(this.chain.lower, this.chain.upper) : undefined
    return open ? [...this.done, open] : [...this.done]
  }

  private push(interval: Interval | undefined): void {
    if (interval) this.done.push(interval)
  }
}

/** `intervals` without the closed stretch [from, to] (Garmin times). */
export function cutCoverage(intervals: readonly Interval[], from: string, to: string): Interval[] {
  const out: Interval[] = []
  for (const i of intervals) {
    const startsBefore = i.from === null || i.from < from
    if (i.to <= from || (i.from !== null && i.from >= to)) {
      out.push(i)
      continue
    }
    if (startsBefore) out.push({ from: i.from, to: from })
    if (i.to > to) out.push({ from: to, to: i.to })
  }
  return mergeIntervals(out)
}
