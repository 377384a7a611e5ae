/**
 * What an archived day looks like, per dataset. Garmin moves intraday samples out of its live store
 * after about six months; until the day is reloaded, its answer keeps the summary fields and empties
 * the sample arrays (`heartRateValues: null` beside `restingHeartRate: 52`). Such an answer is not
 * "no data": the device was worn, the samples are only elsewhere (docs/archive.md).
 *
 * The shapes are those python-garminconnect and garmin-grafana read: heart rate `heartRateValues`,
 * stress `stressValuesArray`, sleep `sleepLevels` and `sleepMovement`. A dataset without a mark here
 * is never treated as archived.
 */
import { isRecord } from '../unknown.js'
import type { DailyDataset } from './datasets.js'

const hasSamples = (value: unknown): boolean => Array.isArray(value) && value.length > 0
const positive = (value: unknown): boolean => typeof value === 'number' && value > 0

/** Per dataset: true when the answer has the day's summary but none of its samples. */
const MARKS: Partial<Record<DailyDataset['name'], (body: Record<string, unknown>) => boolean>> = {
  // A resting or maximum heart rate means the watch measured; the samples are what is missing.
  'heart-rate': (b) =>
    !hasSamples(b.heartRateValues) && (positive(b.restingHeartRate) || positive(b.maxHeartRate)),
  // Garmin's stress levels run 1..100 (-1, -2: not measured).
  stress: (b) =>
    !hasSamples(b.stressValuesArray) && (positive(b.avgStressLevel) || positive(b.maxStressLevel)),
  sleep: (b) =>
    !hasSamples(b.sleepLevels) &&
    !hasSamples(b.sleepMovement) &&
    isRecord(b.dailySleepDTO) &&
    positive(b.dailySleepDTO.sleepTimeSeconds),
}

/** True when `value`, Garmin's answer for one day of `spec`, is archived (summary without samples). */
export function isArchivedAnswer(spec: DailyDataset, value: unknown): boolean {
  const mark = MARKS[spec.name]
  return mark !== undefined && isRecord(value) && mark(value)
}
