/**
 * From one raw object (Garmin's answer, parsed) to the rows of its curated table. Pure functions: no
 * store, no clock. A value Garmin left out, or sent in an unexpected form, becomes null, never an
 * error: a curated table is a view of the raw layer, which stays the record.
 *
 * Values: numbers, strings, booleans or null; `timestamp` columns hold epoch milliseconds (of the UTC
 * instant, or of the local wall time read as if it were UTC), `date` columns `YYYY-MM-DD`.
 */
import { isRecord } from '../unknown.js'

type Value = string | number | boolean | null
export type Row = Record<string, Value>

export interface ExtractContext {
  /** The calendar date in the raw object's key (daily datasets), `YYYY-MM-DD`. */
  date?: string
  /** Local wall time minus UTC of the activity, in ms (per-activity datasets). */
  offsetMs?: number
}

type Extractor = (raw: unknown, context: ExtractContext) => Row[]

const WALL = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3})\d*)?$/
const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/

/** `2018-03-08 11:23:22` or `2023-07-20T05:29:48.0` (no zone) as epoch ms, read as UTC. */
function wallMs(value: unknown): number | null {
  if (typeof value !== 'string') return null
  const m = WALL.exec(value)
  if (!m) return null
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +(m[7] ?? '0').padEnd(3, '0'))
  return Number.isFinite(ms) ? ms : null
}

function num(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null
}

function int(value: unknown): number | null {
  const n = num(value)
  return n === null || Math.abs(n) > 2_147_483_647 ? null : Math.round(n)
}

function id(value: unknown): number | null {
  const n = num(value)
  return n !== null && Number.isSafeInteger(n) ? n : null
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null
}

function scaled(value: unknown, divisor: number): number | null {
  const n = num(value)
  return n === null ? null : n / divisor
}

function field(value: unknown, ...path: string[]): unknown {
  let current = value
  for (const key of path) current = isRecord(current) ? current[key] : undefined
  return current
}

function date(value: unknown): string | null {
  const text = str(value)?.slice(0, 10)
  return text && DATE_ONLY.test(text) ? text : null
}

function dateOfMs(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().slice(0, 10)
}

function plus(ms: number | null, offset: number | undefined): number | null {
  return ms === null ? null : ms + (offset ?? 0)
}

/** Local minus UTC of an activity list entry, in ms (0 when either time is missing). */
export function activityOffsetMs(entry: unknown): number {
  const local = wallMs(field(entry, 'startTimeLocal'))
  const utc = activityStartUtc(entry)
  return local === null || utc === null ? 0 : local - utc
}

function activityStartUtc(entry: unknown): number | null {
  return wallMs(field(entry, 'startTimeGMT')) ?? num(field(entry, 'beginTimestamp'))
}

/** The local calendar year of an activity's start, which is also the partition of its laps and samples. */
export function activityYear(entry: unknown): number | undefined {
  const local = wallMs(field(entry, 'startTimeLocal')) ?? activityStartUtc(entry)
  return local === null ? undefined : new Date(local).getUTCFullYear()
}

const activities: Extractor = (raw) => {
  if (!isRecord(raw) || id(raw.activityId) === null) return []
  const startUtc = activityStartUtc(raw)
  const startLocal = wallMs(raw.startTimeLocal) ?? startUtc
  return [
    {
      activity_id: id(raw.activityId),
      name: str(raw.activityName),
      type: str(field(raw, 'activityType', 'typeKey')),
      event_type: str(field(raw, 'eventType', 'typeKey')),
      start_utc: startUtc,
      start_local: startLocal,
      date: dateOfMs(startLocal),
      distance_m: num(raw.distance),
      duration_s: num(raw.duration),
      moving_duration_s: num(raw.movingDuration),
      elevation_gain_m: num(raw.elevationGain),
      elevation_loss_m: num(raw.elevationLoss),
      // The list gives elevations in centimetres.
      min_elevation_m: scaled(raw.minElevation, 100),
      max_elevation_m: scaled(raw.maxElevation, 100),
      average_speed_mps: num(raw.averageSpeed),
      max_speed_mps: num(raw.maxSpeed),
      average_hr_bpm: int(raw.averageHR),
      max_hr_bpm: int(raw.maxHR),
      calories_kcal: num(raw.calories),
      steps: int(raw.steps),
      aerobic_training_effect: num(raw.aerobicTrainingEffect),
      anaerobic_training_effect: num(raw.anaerobicTrainingEffect),
      average_power_w: num(raw.avgPower),
      max_power_w: num(raw.maxPower),
      normalized_power_w: num(raw.normPower),
      average_run_cadence_spm: num(raw.averageRunningCadenceInStepsPerMinute),
      average_bike_cadence_rpm: num(raw.averageBikingCadenceInRevPerMinute),
      vo2max_ml_kg_min: num(raw.vO2MaxValue),
      lap_count: int(raw.lapCount),
      start_latitude_deg: num(raw.startLatitude),
      start_longitude_deg: num(raw.startLongitude),
      end_latitude_deg: num(raw.endLatitude),
      end_longitude_deg: num(raw.endLongitude),
      location_name: str(raw.locationName),
      device_id: id(raw.deviceId),
      time_zone_id: int(raw.timeZoneId),
      parent_id: id(raw.parentId),
      is_multisport_parent: bool(raw.parent) ?? Array.isArray(raw.childIds),
      raw_json: JSON.stringify(raw),
    },
  ]
}

const laps: Extractor = (raw, context) => {
  const activityId = id(field(raw, 'activityId'))
  const list = field(raw, 'lapDTOs')
  if (activityId === null || !Array.isArray(list)) return []
  return list.filter(isRecord).map((lap, i) => {
    const startUtc = wallMs(lap.startTimeGMT)
    return {
      activity_id: activityId,
      lap_index: int(lap.lapIndex) ?? i + 1,
      start_utc: startUtc,
      start_local: plus(startUtc, context.offsetMs),
      distance_m: num(lap.distance),
      duration_s: num(lap.duration),
      moving_duration_s: num(lap.movingDuration),
      elevation_gain_m: num(lap.elevationGain),
      elevation_loss_m: num(lap.elevationLoss),
      average_speed_mps: num(lap.averageSpeed),
      max_speed_mps: num(lap.maxSpeed),
      average_hr_bpm: int(lap.averageHR),
      max_hr_bpm: int(lap.maxHR),
      calories_kcal: num(lap.calories),
      intensity_type: str(lap.intensityType),
      start_latitude_deg: num(lap.startLatitude),
      start_longitude_deg: num(lap.startLongitude),
    }
  })
}

/** The details metric keys each sample column is read from, first one present wins. */
const SAMPLE_METRICS: Record<string, readonly string[]> = {
  elapsed_s: ['sumDuration', 'sumElapsedDuration'],
  distance_m: ['sumDistance'],
  latitude_deg: ['directLatitude'],
  longitude_deg: ['directLongitude'],
  heart_rate_bpm: ['directHeartRate'],
  speed_mps: ['directSpeed'],
  cadence_spm: ['directRunCadence', 'directDoubleCadence', 'directBikeCadence'],
  power_w: ['directPower'],
  altitude_m: ['directElevation'],
  temperature_c: ['directAirTemperature'],
}

const activitySamples: Extractor = (raw, context) => {
  const activityId = id(field(raw, 'activityId'))
  const descriptors = field(raw, 'metricDescriptors')
  const samples = field(raw, 'activityDetailMetrics')
  if (activityId === null || !Array.isArray(descriptors) || !Array.isArray(samples)) return []
  const index = new Map<string, number>()
  for (const d of descriptors) {
    const key = str(field(d, 'key'))
    const i = num(field(d, 'metricsIndex'))
    if (key !== null && i !== null) index.set(key, i)
  }
  const at = (keys: readonly string[] | undefined): number | undefined =>
    keys?.map((k) => index.get(k)).find((i) => i !== undefined)
  const timestampAt = index.get('directTimestamp')
  const columns = Object.entries(SAMPLE_METRICS).map(([name, keys]) => [name, at(keys)] as const)
  const out: Row[] = []
  for (const sample of samples) {
    const metrics = field(sample, 'metrics')
    if (!Array.isArray(metrics)) continue
    const utc = timestampAt === undefined ? null : num(metrics[timestampAt])
    const row: Row = {
      activity_id: activityId,
      timestamp_utc: utc,
      timestamp_local: plus(utc, context.offsetMs),
    }
    for (const [name, i] of columns) {
      const value = i === undefined ? null : num(metrics[i])
      row[name] = name === 'heart_rate_bpm' ? int(value) : value
    }
    out.push(row)
  }
  return out
}

const dailySummary: Extractor = (raw, context) => {
  if (!isRecord(raw)) return []
  return [
    {
      date: date(raw.calendarDate) ?? context.date ?? null,
      day_start_utc: wallMs(raw.wellnessStartTimeGmt),
      day_start_local: wallMs(raw.wellnessStartTimeLocal),
      total_steps: int(raw.totalSteps),
      total_distance_m: num(raw.totalDistanceMeters),
      total_kcal: num(raw.totalKilocalories),
      active_kcal: num(raw.activeKilocalories),
      bmr_kcal: num(raw.bmrKilocalories),
      resting_hr_bpm: int(raw.restingHeartRate),
      min_hr_bpm: int(raw.minHeartRate),
      max_hr_bpm: int(raw.maxHeartRate),
      average_stress: int(raw.averageStressLevel),
      max_stress: int(raw.maxStressLevel),
      floors_ascended: num(raw.floorsAscended),
      floors_descended: num(raw.floorsDescended),
      moderate_intensity_min: int(raw.moderateIntensityMinutes),
      vigorous_intensity_min: int(raw.vigorousIntensityMinutes),
      active_s: int(raw.activeSeconds),
      highly_active_s: int(raw.highlyActiveSeconds),
      sedentary_s: int(raw.sedentarySeconds),
      sleeping_s: int(raw.sleepingSeconds),
      body_battery_high: int(raw.bodyBatteryHighestValue),
      body_battery_low: int(raw.bodyBatteryLowestValue),
      average_spo2_pct: num(raw.averageSpo2),
      average_waking_respiration_brpm: num(raw.avgWakingRespirationValue),
    },
  ]
}

const sleep: Extractor = (raw, context) => {
  const dto = field(raw, 'dailySleepDTO')
  if (!isRecord(dto) || !isRecord(raw)) return []
  // Garmin dates a night by the day you woke (its calendarDate); the key carries the same date.
  return [
    {
      date: date(dto.calendarDate) ?? context.date ?? null,
      sleep_start_utc: num(dto.sleepStartTimestampGMT),
      sleep_start_local: num(dto.sleepStartTimestampLocal),
      sleep_end_utc: num(dto.sleepEndTimestampGMT),
      sleep_end_local: num(dto.sleepEndTimestampLocal),
      sleep_s: int(dto.sleepTimeSeconds),
      deep_s: int(dto.deepSleepSeconds),
      light_s: int(dto.lightSleepSeconds),
      rem_s: int(dto.remSleepSeconds),
      awake_s: int(dto.awakeSleepSeconds),
      nap_s: int(dto.napTimeSeconds),
      awake_count: int(dto.awakeCount),
      sleep_score: int(field(dto, 'sleepScores', 'overall', 'value')),
      sleep_score_qualifier: str(field(dto, 'sleepScores', 'overall', 'qualifierKey')),
      average_spo2_pct: num(dto.averageSpO2Value),
      average_respiration_brpm: num(dto.averageRespirationValue),
      average_sleep_stress: num(dto.avgSleepStress),
      resting_hr_bpm: int(raw.restingHeartRate),
      body_battery_change: int(raw.bodyBatteryChange),
    },
  ]
}

const hrv: Extractor = (raw, context) => {
  const summary = field(raw, 'hrvSummary')
  if (!isRecord(summary)) return []
  const readings = field(raw, 'hrvReadings')
  return [
    {
      date: date(summary.calendarDate) ?? context.date ?? null,
      last_night_avg_ms: int(summary.lastNightAvg),
      last_night_5min_high_ms: int(summary.lastNight5MinHigh),
      weekly_avg_ms: int(summary.weeklyAvg),
      baseline_low_upper_ms: int(field(summary, 'baseline', 'lowUpper')),
      baseline_balanced_low_ms: int(field(summary, 'baseline', 'balancedLow')),
      baseline_balanced_upper_ms: int(field(summary, 'baseline', 'balancedUpper')),
      status: str(summary.status),
      readings: Array.isArray(readings) ? readings.length : null,
    },
  ]
}

/** `[[timestamp, value, ...], ...]` pairs with a numeric timestamp and value. */
function pairs(value: unknown, valueAt = 1): [number, number][] {
  if (!Array.isArray(value)) return []
  const out: [number, number][] = []
  for (const item of value) {
    if (!Array.isArray(item)) continue
    const t = num(item[0])
    const v = num(item[valueAt])
    if (t !== null && v !== null) out.push([t, v])
  }
  return out
}

const stress: Extractor = (raw, context) => {
  if (!isRecord(raw)) return []
  const samples = pairs(raw.stressValuesArray).sort((a, b) => a[0] - b[0])
  // Every reading stands for the time until the next one (three minutes on current devices).
  const stepMin = samples.length > 1 ? (samples[1]![0] - samples[0]![0]) / 60_000 : 0
  const measured = samples.filter((s) => s[1] >= 0)
  const minutes = (low: number, high: number) =>
    Math.round(measured.filter((s) => s[1] >= low && s[1] <= high).length * stepMin)
  return [
    {
      date: date(raw.calendarDate) ?? context.date ?? null,
      average_stress: int(raw.avgStressLevel),
      max_stress: int(raw.maxStressLevel),
      measured_min: Math.round(measured.length * stepMin),
      rest_min: minutes(0, 25),
      low_min: minutes(26, 50),
      medium_min: minutes(51, 75),
      high_min: minutes(76, 100),
    },
  ]
}

/** Where `bodyBatteryLevel` is in each sample, by the answer's own descriptors (1 when they say nothing). */
function levelIndex(descriptors: unknown): number {
  if (!Array.isArray(descriptors)) return 1
  const d = descriptors.find((x) => field(x, 'bodyBatteryValueDescriptorKey') === 'bodyBatteryLevel')
  return num(field(d, 'bodyBatteryValueDescriptorIndex')) ?? 1
}

const bodyBattery: Extractor = (raw, context) => {
  const days = Array.isArray(raw) ? raw : [raw]
  return days.filter(isRecord).map((day) => {
    const values = pairs(day.bodyBatteryValuesArray, levelIndex(day.bodyBatteryValueDescriptorDTOList)).sort(
      (a, b) => a[0] - b[0],
    )
    const levels = values.map((v) => v[1])
    return {
      date: date(day.date) ?? context.date ?? null,
      charged: int(day.charged),
      drained: int(day.drained),
      highest: levels.length ? Math.max(...levels) : null,
      lowest: levels.length ? Math.min(...levels) : null,
      start_level: levels[0] ?? null,
      end_level: levels[levels.length - 1] ?? null,
      samples: levels.length,
    }
  })
}

const bodyComposition: Extractor = (raw, context) => {
  const list = field(raw, 'dateWeightList')
  if (!Array.isArray(list)) return []
  return list.filter(isRecord).map((m) => ({
    date: date(m.calendarDate) ?? context.date ?? null,
    measured_utc: num(m.timestampGMT),
    measured_local: num(m.date),
    weight_kg: scaled(m.weight, 1000),
    bmi: num(m.bmi),
    body_fat_pct: num(m.bodyFat),
    body_water_pct: num(m.bodyWater),
    bone_mass_kg: scaled(m.boneMass, 1000),
    muscle_mass_kg: scaled(m.muscleMass, 1000),
    source_type: str(m.sourceType),
    sample_pk: id(m.samplePk),
  }))
}

const trainingReadiness: Extractor = (raw, context) => {
  const snapshots = Array.isArray(raw) ? raw : [raw]
  return snapshots.filter(isRecord).map((s) => ({
    date: date(s.calendarDate) ?? context.date ?? null,
    measured_utc: wallMs(s.timestamp),
    measured_local: wallMs(s.timestampLocal),
    score: int(s.score),
    level: str(s.level),
    feedback: str(s.feedbackShort),
    sleep_score: int(s.sleepScore),
    recovery_time_min: int(s.recoveryTime),
    acute_load: int(s.acuteLoad),
    hrv_weekly_avg_ms: int(s.hrvWeeklyAverage),
    sleep_factor_pct: int(s.sleepScoreFactorPercent),
    recovery_factor_pct: int(s.recoveryTimeFactorPercent),
    acwr_factor_pct: int(s.acwrFactorPercent),
    stress_history_factor_pct: int(s.stressHistoryFactorPercent),
    hrv_factor_pct: int(s.hrvFactorPercent),
    sleep_history_factor_pct: int(s.sleepHistoryFactorPercent),
  }))
}

const heartRateSamples: Extractor = (raw, context) => {
  if (!isRecord(raw)) return []
  const day = date(raw.calendarDate) ?? context.date ?? null
  const utc = wallMs(raw.startTimestampGMT)
  const local = wallMs(raw.startTimestampLocal)
  const offset = utc === null || local === null ? 0 : local - utc
  return pairs(raw.heartRateValues).map(([t, bpm]) => ({
    date: day,
    timestamp_utc: t,
    timestamp_local: t + offset,
    heart_rate_bpm: int(bpm),
  }))
}

/** Each table's extractor, by table name (tables.ts). */
export const EXTRACTORS: Readonly<Record<string, Extractor>> = {
  activities,
  laps,
  activity_samples: activitySamples,
  daily_summary: dailySummary,
  sleep,
  hrv,
  stress,
  body_battery: bodyBattery,
  body_composition: bodyComposition,
  training_readiness: trainingReadiness,
  heart_rate_samples: heartRateSamples,
}
