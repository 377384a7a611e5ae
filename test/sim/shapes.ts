/**
 * Bodies of the per-activity and daily routes, derived deterministically from an activity-list entry or a
 * calendar date, in the shapes of the recorded responses (fixtures/).
 */
import type { ActivityEntry } from '../../src/garmin/types.js'
import type { AccountOwner } from './generator.js'
import { parseGarminTime, TIME_ZONES } from './generator.js'
import { floatBetween, intBetween, type Rng, rngFor } from './prng.js'
import { clone, fixtures, type Json, type JsonObject } from './templates.js'

const DAY_MS = 86_400_000

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

/** Garmin's detail timestamps: `2018-03-08T11:23:22.0`. */
function detailTime(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19)}.0`
}

/** Only keys whose value is known: summaries leave out what the device did not record. */
function known(pairs: Record<string, unknown>): JsonObject {
  const out: JsonObject = {}
  for (const [k, v] of Object.entries(pairs)) if (v !== undefined && v !== null) out[k] = v as Json
  return out
}

function startMs(entry: ActivityEntry): number {
  return num(entry.beginTimestamp) ?? parseGarminTime(entry.startTimeGMT)
}

function localOffsetMs(entry: ActivityEntry): number {
  const local = typeof entry.startTimeLocal === 'string' ? parseGarminTime(entry.startTimeLocal) : Number.NaN
  return Number.isNaN(local) ? 0 : local - parseGarminTime(entry.startTimeGMT)
}

function durationS(entry: ActivityEntry): number {
  return num(entry.duration) ?? 1800
}

/** `GET /activity-service/activity/{id}`: the richer record (summaryDTO, metadataDTO). */
export function activityDetail(entry: ActivityEntry, owner: AccountOwner): JsonObject {
  const isParent = entry.parent === true || Array.isArray(entry.childIds)
  const isChild = typeof entry.parentId === 'number'
  const template = isParent
    ? fixtures.multisportParent
    : isChild
      ? fixtures.multisportChild
      : fixtures.activity
  const out = clone(template)
  const start = startMs(entry)
  const offset = localOffsetMs(entry)
  const duration = durationS(entry)
  out.activityId = entry.activityId
  if ('activityUUID' in out) out.activityUUID = { uuid: uuidFor(entry.activityId) }
  out.activityName = (entry.activityName ?? null) as Json
  out.userProfileId = owner.profileId
  if (isChild) out.parentId = entry.parentId as number
  out.isMultiSportParent = isParent
  if (entry.activityType && typeof entry.activityType === 'object')
    out.activityTypeDTO = clone(entry.activityType as Json)
  if (entry.eventType && typeof entry.eventType === 'object')
    out.eventTypeDTO = clone(entry.eventType as Json)
  if (entry.privacy && typeof entry.privacy === 'object')
    out.accessControlRuleDTO = clone(entry.privacy as Json)
  const zone = TIME_ZONES[num(entry.timeZoneId) ?? 124] ?? 'Europe/Paris'
  out.timeZoneUnitDTO = { unitId: num(entry.timeZoneId) ?? 124, unitKey: zone, factor: 0.0, timeZone: zone }

  const meta = out.metadataDTO as JsonObject
  const uploaded = start + duration * 1000 + 15 * 60_000
  meta.lastUpdateDate = detailTime(uploaded + 10 * 60_000)
  meta.uploadedDate = detailTime(uploaded)
  meta.hasPolyline = entry.hasPolyline === true
  meta.hasChartData = entry.deviceId !== null && entry.deviceId !== undefined
  meta.userInfoDto = {
    ...(meta.userInfoDto as JsonObject),
    userProfilePk: owner.profileId,
    displayname: owner.displayName,
    fullname: owner.fullName,
  }
  meta.childIds = isParent && Array.isArray(entry.childIds) ? (entry.childIds as number[]).slice() : []
  if (isParent)
    meta.childActivityTypes = Array.isArray(entry.childActivityTypes)
      ? (entry.childActivityTypes as Json[])
      : []
  meta.lapCount = num(entry.lapCount) ?? 1
  const device = num(entry.deviceId)
  meta.deviceMetaDataDTO =
    device === undefined ? null : { ...(meta.deviceMetaDataDTO as JsonObject), deviceId: String(device) }
  meta.manualActivity = device === undefined
  meta.favorite = entry.favorite === true
  meta.personalRecord = entry.pr === true

  const elevation = (cm: unknown) =>
    num(cm) === undefined ? undefined : Math.round((num(cm) as number) / 10) / 10
  out.summaryDTO = known({
    startTimeLocal: detailTime(start + offset),
    startTimeGMT: detailTime(start),
    startLatitude: entry.startLatitude,
    startLongitude: entry.startLongitude,
    distance:
      num(entry.distance) === undefined ? undefined : Math.round((entry.distance as number) * 100) / 100,
    duration,
    movingDuration: entry.movingDuration,
    elapsedDuration: duration,
    elevationGain: entry.elevationGain,
    elevationLoss: entry.elevationLoss,
    maxElevation: elevation(entry.maxElevation),
    minElevation: elevation(entry.minElevation),
    averageSpeed: entry.averageSpeed,
    averageMovingSpeed:
      num(entry.distance) !== undefined && num(entry.movingDuration)
        ? (entry.distance as number) / (entry.movingDuration as number)
        : undefined,
    maxSpeed: entry.maxSpeed,
    calories: entry.calories,
    averageHR: entry.averageHR,
    maxHR: entry.maxHR,
    averageRunCadence: entry.averageRunningCadenceInStepsPerMinute,
    maxRunCadence: entry.maxRunningCadenceInStepsPerMinute,
    averageBikeCadence: entry.averageBikingCadenceInRevPerMinute,
    maxBikeCadence: entry.maxBikingCadenceInRevPerMinute,
    maxTemperature: entry.maxTemperature,
    minTemperature: entry.minTemperature,
    trainingEffect: entry.aerobicTrainingEffect,
    anaerobicTrainingEffect: entry.anaerobicTrainingEffect,
    endLatitude: entry.endLatitude,
    endLongitude: entry.endLongitude,
    maxVerticalSpeed: entry.maxVerticalSpeed,
  })
  out.locationName = (entry.locationName ?? null) as Json
  return out
}

function uuidFor(id: number): string {
  const r = rngFor(id, 11)
  const hex = Array.from({ length: 32 }, () => Math.floor(r() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`
}

/** One point of an activity's track; shared by /details and the FIT file so they agree. */
export interface TrackPoint {
  ms: number
  distance: number
  heartRate?: number
  speed: number
  elevation?: number
  lat?: number
  lon?: number
}

/** `count` evenly spaced points over the activity, deterministic per activity id. */
export function track(entry: ActivityEntry, seed: number, count: number): TrackPoint[] {
  const r = rngFor(seed, entry.activityId, 3)
  const start = startMs(entry)
  const duration = durationS(entry)
  const distance = num(entry.distance) ?? 0
  const hr = num(entry.averageHR)
  const minElev = num(entry.minElevation)
  const lat0 = num(entry.startLatitude)
  const lon0 = num(entry.startLongitude)
  const lat1 = num(entry.endLatitude) ?? lat0
  const lon1 = num(entry.endLongitude) ?? lon0
  const n = Math.max(2, count)
  const points: TrackPoint[] = []
  let elev = minElev === undefined ? undefined : minElev / 100
  for (let i = 0; i < n; i++) {
    const f = i / (n - 1)
    const loop = Math.sin(f * Math.PI)
    if (elev !== undefined) elev = Math.max(0, elev + floatBetween(r, -2, 2.2))
    points.push({
      ms: start + Math.round(f * duration) * 1000,
      distance: Math.round(f * distance * 100) / 100,
      ...(hr === undefined ? {} : { heartRate: Math.max(50, Math.round(hr + floatBetween(r, -12, 12))) }),
      speed: distance > 0 ? Math.round((distance / duration) * floatBetween(r, 0.8, 1.2) * 1000) / 1000 : 0,
      ...(elev === undefined ? {} : { elevation: Math.round(elev * 10) / 10 }),
      ...(lat0 === undefined || lon0 === undefined || lat1 === undefined || lon1 === undefined
        ? {}
        : { lat: lat0 + (lat1 - lat0) * f + loop * 0.01, lon: lon0 + (lon1 - lon0) * f + loop * 0.015 }),
    })
  }
  return points
}

const METRIC_UNITS: Record<string, { id: number; key: string; factor: number }> = {
  directTimestamp: { id: 120, key: 'gmt', factor: 0 },
  sumDistance: { id: 1, key: 'meter', factor: 100 },
  sumDuration: { id: 40, key: 'second', factor: 1000 },
  directHeartRate: { id: 100, key: 'bpm', factor: 1 },
  directSpeed: { id: 20, key: 'mps', factor: 0.1 },
  directElevation: { id: 1, key: 'meter', factor: 100 },
  directLatitude: { id: 60, key: 'dd', factor: 1 },
  directLongitude: { id: 60, key: 'dd', factor: 1 },
}

/** `GET /activity-service/activity/{id}/details?maxChartSize=&maxPolylineSize=`: time series. */
export function activityDetails(
  entry: ActivityEntry,
  seed: number,
  maxChartSize: number,
  maxPolylineSize: number,
): JsonObject {
  const duration = durationS(entry)
  const chart = track(entry, seed, Math.min(maxChartSize, Math.max(2, Math.floor(duration / 5))))
  const hasHr = chart[0]?.heartRate !== undefined
  const hasGps = chart[0]?.lat !== undefined
  const keys = ['directTimestamp', 'sumDistance', 'sumDuration', 'directSpeed']
  if (hasHr) keys.push('directHeartRate')
  if (chart[0]?.elevation !== undefined) keys.push('directElevation')
  if (hasGps) keys.push('directLatitude', 'directLongitude')
  const start = chart[0]?.ms ?? 0
  const metrics = chart.map((p) => ({
    metrics: keys.map((k) => {
      switch (k) {
        case 'directTimestamp':
          return p.ms
        case 'sumDistance':
          return p.distance
        case 'sumDuration':
          return (p.ms - start) / 1000
        case 'directSpeed':
          return p.speed
        case 'directHeartRate':
          return p.heartRate ?? null
        case 'directElevation':
          return p.elevation ?? null
        case 'directLatitude':
          return p.lat ?? null
        default:
          return p.lon ?? null
      }
    }),
  }))
  let geo: Json = null
  if (hasGps) {
    const line = track(entry, seed, Math.min(maxPolylineSize, Math.max(2, Math.floor(duration / 10))))
    const point = (p: TrackPoint) => ({
      lat: p.lat ?? 0,
      lon: p.lon ?? 0,
      altitude: p.elevation ?? null,
      time: p.ms,
      timerStart: false,
      timerStop: false,
      distanceFromPreviousPoint: null,
      distanceInMeters: p.distance,
      speed: p.speed,
      cumulativeAscent: null,
      cumulativeDescent: null,
      extendedCoordinate: false,
      valid: true,
    })
    const lats = line.map((p) => p.lat ?? 0)
    const lons = line.map((p) => p.lon ?? 0)
    geo = {
      startPoint: point(line[0]!),
      endPoint: point(line[line.length - 1]!),
      minLat: Math.min(...lats),
      maxLat: Math.max(...lats),
      minLon: Math.min(...lons),
      maxLon: Math.max(...lons),
      polyline: line.map(point),
    }
  }
  return {
    activityId: entry.activityId,
    measurementCount: keys.length,
    metricsCount: metrics.length,
    totalMetricsCount: metrics.length,
    metricDescriptors: keys.map((key, metricsIndex) => ({ metricsIndex, key, unit: METRIC_UNITS[key]! })),
    activityDetailMetrics: metrics,
    geoPolylineDTO: geo,
    heartRateDTOs: null,
    pendingData: null,
    detailsAvailable: true,
  }
}

/** `GET /activity-service/activity/{id}/splits`: laps. */
export function activitySplits(entry: ActivityEntry, seed: number): JsonObject {
  const laps = Math.max(1, Math.min(200, num(entry.lapCount) ?? 1))
  const points = track(entry, seed, laps + 1)
  const r = rngFor(seed, entry.activityId, 4)
  const lapDTOs: JsonObject[] = []
  for (let i = 0; i < laps; i++) {
    const a = points[i]!
    const b = points[i + 1]!
    const duration = (b.ms - a.ms) / 1000
    const distance = Math.round((b.distance - a.distance) * 100) / 100
    lapDTOs.push(
      known({
        startTimeGMT: detailTime(a.ms),
        startLatitude: a.lat,
        startLongitude: a.lon,
        distance,
        duration,
        movingDuration: Math.floor(duration * 0.97),
        elapsedDuration: duration,
        elevationGain: a.elevation === undefined ? undefined : intBetween(r, 0, 30),
        elevationLoss: a.elevation === undefined ? undefined : intBetween(r, 0, 30),
        maxElevation: a.elevation === undefined ? undefined : Math.max(a.elevation, b.elevation ?? 0),
        minElevation: a.elevation === undefined ? undefined : Math.min(a.elevation, b.elevation ?? 0),
        averageSpeed: duration > 0 ? distance / duration : 0,
        averageMovingSpeed: duration > 0 ? distance / (duration * 0.97) : 0,
        maxSpeed: a.speed * 1.3,
        calories: Math.round(((num(entry.calories) ?? 0) * duration) / durationS(entry)),
        averageHR: a.heartRate,
        maxHR: a.heartRate === undefined ? undefined : a.heartRate + intBetween(r, 3, 15),
        endLatitude: b.lat,
        endLongitude: b.lon,
        lapIndex: i + 1,
        intensityType: 'INTERVAL',
        messageIndex: i,
      }),
    )
  }
  return {
    activityId: entry.activityId,
    lapDTOs,
    eventDTOs: points.slice(0, laps).map((p) => ({
      startTimeGMT: detailTime(p.ms),
      startTimeGMTDoubleValue: p.ms,
      sectionTypeDTO: { id: 1, key: 'LAP', sectionTypeKey: 'LAP' },
    })),
  }
}

// ---- daily data ----

export type DailyRoute =
  | 'dailySummary'
  | 'sleep'
  | 'heartRate'
  | 'stress'
  | 'hrv'
  | 'bodyBattery'
  | 'bodyComposition'
  | 'trainingReadiness'

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const STAMP_RE = /^(\d{4}-\d{2}-\d{2})([T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?)?$/

/** Day number (days since the epoch) of `YYYY-MM-DD`, or undefined when it is not a real date. */
export function dayNumber(date: string): number | undefined {
  const m = DATE_RE.exec(date)
  if (!m) return undefined
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
  return new Date(ms).toISOString().slice(0, 10) === date ? ms / DAY_MS : undefined
}

export function dateOf(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10)
}

/**
 * Moves every date, timestamp string and epoch-ms number of a recorded body by `days`, so that a fixture
 * recorded on one day reads as if it had been recorded on another.
 */
function shiftDays(value: Json, days: number): Json {
  if (typeof value === 'string') {
    const m = STAMP_RE.exec(value)
    if (!m) return value
    const day = dayNumber(m[1]!)
    return day === undefined ? value : `${dateOf(day + days)}${m[2] ?? ''}`
  }
  if (typeof value === 'number') {
    // Epoch milliseconds between 2001 and 2096 (also Garmin's sample keys, which are timestamps too).
    return Number.isInteger(value) && value > 1e12 && value < 4e12 ? value + days * DAY_MS : value
  }
  if (Array.isArray(value)) return value.map((v) => shiftDays(v, days))
  if (value !== null && typeof value === 'object') {
    const out: JsonObject = {}
    for (const [k, v] of Object.entries(value)) out[k] = shiftDays(v, days)
    return out
  }
  return value
}

function fromFixture<T extends Json>(body: T, fixtureDate: string, day: number): T {
  return shiftDays(body, day - (dayNumber(fixtureDate) as number)) as T
}

function jitter(r: Rng, value: Json | undefined, spread: number): Json {
  return typeof value === 'number'
    ? Math.max(0, Math.round(value * floatBetween(r, 1 - spread, 1 + spread)))
    : (value ?? null)
}

/** One day of a per-day dataset. */
export function dailyBody(
  route: Exclude<DailyRoute, 'bodyBattery' | 'bodyComposition'>,
  day: number,
  seed: number,
  owner: AccountOwner,
): Json {
  const r = rngFor(seed, day, route.length)
  switch (route) {
    case 'dailySummary': {
      const b = fromFixture(fixtures.dailySummary, '2025-06-14', day)
      b.userProfileId = owner.profileId
      b.uuid = uuidFor(day * 131 + seed).replaceAll('-', '')
      for (const k of [
        'totalSteps',
        'totalDistanceMeters',
        'activeKilocalories',
        'highlyActiveSeconds',
        'activeSeconds',
      ]) {
        b[k] = jitter(r, b[k], 0.6)
      }
      b.wellnessDistanceMeters = b.totalDistanceMeters ?? null
      b.restingHeartRate = intBetween(r, 45, 58)
      b.averageStressLevel = intBetween(r, 15, 45)
      return b
    }
    case 'sleep': {
      const b = fromFixture(fixtures.sleep, '2025-07-07', day)
      const dto = b.dailySleepDTO as JsonObject
      dto.userProfilePK = owner.profileId
      for (const k of ['deepSleepSeconds', 'lightSleepSeconds', 'remSleepSeconds', 'awakeSleepSeconds'])
        dto[k] = jitter(r, dto[k], 0.3)
      dto.sleepTimeSeconds =
        (dto.deepSleepSeconds as number) + (dto.lightSleepSeconds as number) + (dto.remSleepSeconds as number)
      b.restingHeartRate = intBetween(r, 42, 56)
      // The recorded answer (another path) has no samples; this path sends them, as garmin-grafana reads.
      b.sleepMovement = sleepSamples(dto, r, 60_000, () => Math.round(floatBetween(r, 0, 3) * 1000) / 1000)
      b.sleepLevels = sleepSamples(dto, r, 0, () => intBetween(r, 0, 3))
      return b
    }
    case 'heartRate': {
      const b = fromFixture(fixtures.heartRate, '2026-01-07', day)
      b.userProfilePK = owner.profileId
      const values = b.heartRateValues as [number, number | null][]
      for (const v of values) if (typeof v[1] === 'number') v[1] = Math.max(40, v[1] + intBetween(r, -4, 4))
      const hrs = values.map((v) => v[1]).filter((v): v is number => typeof v === 'number')
      b.maxHeartRate = Math.max(...hrs)
      b.minHeartRate = Math.min(...hrs)
      return b
    }
    case 'hrv': {
      const b = fromFixture(fixtures.hrv, '2023-07-20', day)
      b.userProfilePk = owner.profileId
      for (const reading of b.hrvReadings as JsonObject[])
        reading.hrvValue = jitter(r, reading.hrvValue, 0.15)
      const summary = b.hrvSummary as JsonObject
      summary.lastNightAvg = jitter(r, summary.lastNightAvg, 0.15)
      return b
    }
    case 'trainingReadiness': {
      const b = fromFixture(fixtures.trainingReadiness, '2025-07-07', day) as JsonObject[]
      for (const snapshot of b) {
        snapshot.userProfilePK = owner.profileId
        snapshot.score = Math.min(100, jitter(r, snapshot.score, 0.3) as number)
      }
      return b
    }
    case 'stress':
      return stressBody(day, r, owner)
  }
}

/**
 * Sleep samples between the night's start and end: `sleepMovement` in one-minute steps (`step` > 0),
 * `sleepLevels` in stages of 5 to 40 minutes; each `{startGMT, endGMT, activityLevel}`.
 */
function sleepSamples(dto: JsonObject, r: Rng, step: number, level: () => number): JsonObject[] {
  const start = dto.sleepStartTimestampGMT
  const end = dto.sleepEndTimestampGMT
  if (typeof start !== 'number' || typeof end !== 'number') return []
  const out: JsonObject[] = []
  for (let t = start; t < end; ) {
    const next = Math.min(end, t + (step > 0 ? step : intBetween(r, 5, 40) * 60_000))
    out.push({ startGMT: detailTime(t), endGMT: detailTime(next), activityLevel: level() })
    t = next
  }
  return out
}

/** Daily stress: no recording in fixtures/, so shaped after what python-garminconnect's tests check. */
function stressBody(day: number, r: Rng, owner: AccountOwner): JsonObject {
  const start = day * DAY_MS - 2 * 3_600_000
  const stress: [number, number][] = []
  const battery: [number, string, number, number][] = []
  let level = intBetween(r, 40, 90)
  for (let t = start; t < start + DAY_MS; t += 180_000) {
    const s = intBetween(r, 0, 9) === 0 ? -1 : intBetween(r, 5, 80)
    stress.push([t, s])
    level = Math.min(100, Math.max(5, level + intBetween(r, -2, 2)))
    battery.push([t, 'MEASURED', level, 3.0])
  }
  const measured = stress.map((s) => s[1]).filter((v) => v >= 0)
  return {
    userProfilePK: owner.profileId,
    calendarDate: dateOf(day),
    startTimestampGMT: detailTime(start),
    endTimestampGMT: detailTime(start + DAY_MS),
    startTimestampLocal: detailTime(day * DAY_MS),
    endTimestampLocal: detailTime((day + 1) * DAY_MS),
    maxStressLevel: Math.max(...measured),
    avgStressLevel: Math.round(measured.reduce((a, b) => a + b, 0) / measured.length),
    stressChartValueOffset: 1,
    stressChartYAxisOrigin: -1,
    stressValueDescriptorsDTOList: [
      { key: 'timestamp', index: 0 },
      { key: 'stressLevel', index: 1 },
    ],
    stressValuesArray: stress,
    bodyBatteryValueDescriptorsDTOList: [
      { bodyBatteryValueDescriptorIndex: 0, bodyBatteryValueDescriptorKey: 'timestamp' },
      { bodyBatteryValueDescriptorIndex: 1, bodyBatteryValueDescriptorKey: 'bodyBatteryStatus' },
      { bodyBatteryValueDescriptorIndex: 2, bodyBatteryValueDescriptorKey: 'bodyBatteryLevel' },
      { bodyBatteryValueDescriptorIndex: 3, bodyBatteryValueDescriptorKey: 'bodyBatteryVersion' },
    ],
    bodyBatteryValuesArray: battery,
  }
}

/** `bodyBattery/reports/daily?startDate&endDate`: one entry per day (days in `skip` are left out). */
export function bodyBatteryRange(
  first: number,
  last: number,
  seed: number,
  skip: (day: number) => boolean,
): JsonObject[] {
  const out: JsonObject[] = []
  const summary = fixtures.dailySummary
  const event = (fixtures.bodyBatteryEvents[0] as JsonObject).event as JsonObject
  for (let day = first; day <= last; day++) {
    if (skip(day)) continue
    const r = rngFor(seed, day, 21)
    const start = day * DAY_MS - 2 * 3_600_000
    const values: [number, number][] = []
    let level = intBetween(r, 30, 95)
    for (let t = start; t < start + DAY_MS; t += 3 * 3_600_000) {
      values.push([t, level])
      level = Math.min(100, Math.max(5, level + intBetween(r, -20, 15)))
    }
    out.push({
      date: dateOf(day),
      charged: intBetween(r, 20, 80),
      drained: intBetween(r, 20, 80),
      startTimestampGMT: detailTime(start),
      endTimestampGMT: detailTime(start + DAY_MS),
      startTimestampLocal: detailTime(day * DAY_MS),
      endTimestampLocal: detailTime((day + 1) * DAY_MS),
      bodyBatteryValuesArray: values,
      bodyBatteryValueDescriptorDTOList: [
        { bodyBatteryValueDescriptorIndex: 0, bodyBatteryValueDescriptorKey: 'timestamp' },
        { bodyBatteryValueDescriptorIndex: 1, bodyBatteryValueDescriptorKey: 'bodyBatteryLevel' },
      ],
      bodyBatteryDynamicFeedbackEvent: fromFixture(
        summary.bodyBatteryDynamicFeedbackEvent as JsonObject,
        '2025-06-14',
        day,
      ),
      endOfDayBodyBatteryDynamicFeedbackEvent: fromFixture(
        summary.endOfDayBodyBatteryDynamicFeedbackEvent as JsonObject,
        '2025-06-14',
        day,
      ),
      bodyBatteryActivityEvent: [fromFixture(event, '2023-07-20', day)],
    })
  }
  return out
}

/** `weight-service/weight/dateRange?startDate&endDate`: weigh-ins on about two days a week. */
export function bodyCompositionRange(
  first: number,
  last: number,
  seed: number,
  skip: (day: number) => boolean,
): JsonObject {
  const summaries = fixtures.weightRange.dailyWeightSummaries as JsonObject[]
  const sample = (summaries[0]!.allWeightMetrics as JsonObject[])[0]!
  const list: JsonObject[] = []
  for (let day = last; day >= first; day--) {
    const r = rngFor(seed, day, 31)
    if (skip(day) || r() > 0.3) continue
    const m = fromFixture(sample, '2025-06-15', day)
    m.weight = Math.round(floatBetween(r, 58_000, 61_000))
    m.bodyFat = Math.round(floatBetween(r, 18, 22) * 10) / 10
    m.weightDelta = floatBetween(r, -500, 500)
    list.push(m)
  }
  const avg = clone(fixtures.weightRange.totalAverage as JsonObject)
  avg.from = first * DAY_MS
  avg.until = (last + 1) * DAY_MS - 1
  avg.weight = list.length ? list.reduce((a, m) => a + (m.weight as number), 0) / list.length : null
  return { startDate: dateOf(first), endDate: dateOf(last), dateWeightList: list, totalAverage: avg }
}
