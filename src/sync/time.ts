/**
 * Garmin's activity times are `YYYY-MM-DD HH:MM:SS` strings without a zone (`startTimeGMT` is UTC).
 * In that fixed format, string order is time order, so the pipeline compares them as strings and
 * only converts to numbers for arithmetic.
 */

const GMT_PATTERN = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/
const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

/** Epoch ms of a `YYYY-MM-DD HH:MM:SS` UTC time, or undefined when it is not one. */
export function parseGmt(text: unknown): number | undefined {
  if (typeof text !== 'string') return undefined
  const m = GMT_PATTERN.exec(text)
  if (!m) return undefined
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!)
  // Date.UTC rolls over impossible dates (2024-02-31); refuse them instead.
  return formatGmt(ms) === text ? ms : undefined
}

export function formatGmt(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

/** True for a real calendar date in `YYYY-MM-DD` form. */
export function isIsoDate(text: string): boolean {
  const m = DATE_PATTERN.exec(text)
  if (!m) return false
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!)).toISOString().slice(0, 10) === text
}

/** `YYYY-MM-DD` shifted by whole days. */
export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY_MS).toISOString().slice(0, 10)
}

/** The UTC calendar date of an epoch ms. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

/** `2026-11-28T12:00:00.000Z` -> `20261128T120000Z`: sortable and safe as a file name everywhere. */
export function compactTimestamp(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '')
}
