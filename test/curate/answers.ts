/**
 * The questions of docs/curated-tables.md's recipes, answered from the raw JSON of a synced folder
 * (the way a user's script would read it), for the tests that read the same answers from Parquet.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { addDays } from '../../src/sync/time.js'

// biome-ignore lint/suspicious/noExplicitAny: raw Garmin answers, read the way a user's script would
export type Json = any

/** Every object of a raw dataset folder, parsed. */
export function raw(root: string, dataset: string): Json[] {
  const dir = join(root, 'raw-data', dataset)
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
}

export const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits

/** Monday of the week (DuckDB's date_trunc('week'), pandas' weekly period). */
function monday(date: string): string {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay()
  return addDays(date, -((day + 6) % 7))
}

/** Activities and metres (null: none with a distance) per `<Monday> <type>` of the local start. */
export function weeklyDistance(root: string): Map<string, { n: number; m: number | null }> {
  const want = new Map<string, { n: number; m: number | null }>()
  for (const a of raw(root, 'garmin-json')) {
    const key = `${monday(a.startTimeLocal.slice(0, 10))} ${a.activityType.typeKey}`
    const row = want.get(key) ?? { n: 0, m: null }
    row.n++
    if (typeof a.distance === 'number') row.m = (row.m ?? 0) + a.distance
    want.set(key, row)
  }
  return want
}

/** Nights and the summed sleep score per resting heart rate of the day. */
export function sleepVsRestingHr(root: string): Map<number, { nights: number; score: number }> {
  const resting = new Map(raw(root, 'garmin-daily-summary').map((d) => [d.calendarDate, d.restingHeartRate]))
  const want = new Map<number, { nights: number; score: number }>()
  for (const s of raw(root, 'garmin-sleep')) {
    const hr = resting.get(s.dailySleepDTO.calendarDate)
    if (hr === undefined) continue
    const row = want.get(hr) ?? { nights: 0, score: 0 }
    row.nights++
    row.score += s.dailySleepDTO.sleepScores.overall.value
    want.set(hr, row)
  }
  return want
}

/** Nights and the summed last-night HRV per month (`YYYY-MM-01`). */
export function hrvTrend(root: string): Map<string, { nights: number; sum: number }> {
  const want = new Map<string, { nights: number; sum: number }>()
  for (const h of raw(root, 'garmin-hrv')) {
    const month = `${h.hrvSummary.calendarDate.slice(0, 7)}-01`
    const row = want.get(month) ?? { nights: 0, sum: 0 }
    row.nights++
    row.sum += h.hrvSummary.lastNightAvg
    want.set(month, row)
  }
  return want
}

/** Laps and their summed metres per activity id. */
export function lapsPerActivity(root: string): Map<number, { laps: number; m: number }> {
  const want = new Map<number, { laps: number; m: number }>()
  for (const s of raw(root, 'garmin-splits'))
    want.set(s.activityId, {
      laps: s.lapDTOs.length,
      m: s.lapDTOs.reduce((n: number, l: Json) => n + l.distance, 0),
    })
  return want
}

/** Heart-rate samples, their sum and maximum (null: none) per activity id. */
export function hrSamplesPerActivity(
  root: string,
): Map<number, { n: number; sum: number; max: number | null }> {
  const want = new Map<number, { n: number; sum: number; max: number | null }>()
  for (const d of raw(root, 'garmin-details')) {
    const at = d.metricDescriptors.find((m: Json) => m.key === 'directHeartRate')?.metricsIndex
    const hrs: number[] =
      at === undefined
        ? []
        : d.activityDetailMetrics
            .map((s: Json) => s.metrics[at])
            .filter((v: unknown) => typeof v === 'number')
    want.set(d.activityId, {
      n: hrs.length,
      sum: hrs.reduce((a, b) => a + b, 0),
      max: hrs.length ? Math.max(...hrs) : null,
    })
  }
  return want
}
