/**
 * Counts for docs/reliability.md: tests add what they tried (faults, kills, concurrent runs, inputs)
 * to a JSON file named by GARMIN_S3_RELIABILITY_FIGURES; without it, counting is a no-op.
 */
import { appendFileSync } from 'node:fs'

/** True for `npm run reliability -- --long` (GARMIN_S3_RELIABILITY_LONG=1): the larger runs written to docs/reliability.md. */
export const LONG = process.env.GARMIN_S3_RELIABILITY_LONG === '1'

export function recordFigure(name: string, count: number): void {
  const file = process.env.GARMIN_S3_RELIABILITY_FIGURES
  if (file) appendFileSync(file, `${JSON.stringify({ name, count })}\n`)
}
