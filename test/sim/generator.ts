/**
 * Deterministic simulated Garmin accounts: activity-list entries with exactly the shape of the recorded
 * `pest_activitylist-service.json` entry, varied in ids, names, times, types, distances and durations.
 */
import { readFileSync } from 'node:fs'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { floatBetween, intBetween, mixSeed, mulberry32, pick, type Rng, rngFor } from './prng.js'
import { fixtures, type Json, type JsonObject } from './templates.js'

export interface AccountOwner {
  profileId: number
  displayName: string
  fullName: string
}

export interface Sport {
  typeKey: string
  typeId: number
  parentTypeId: number
  sortOrder: number
  label: string
  /** m/s range; undefined for activities without a distance. */
  speed?: [number, number]
  minutes: [number, number]
  gps: boolean
  cadence?: 'run' | 'bike' | 'swim'
  fitSport: string
  fitSubSport: string
  /** How often it is picked, relative to the others. */
  weight: number
}

export const SPORTS: readonly Sport[] = [
  sport('running', 1, 17, 3, 'Running', [2.4, 4.3], [20, 120], true, 'run', 'running', 'generic', 30),
  sport('cycling', 2, 17, 5, 'Cycling', [5, 9.5], [30, 240], true, 'bike', 'cycling', 'road', 18),
  sport('walking', 9, 17, 27, 'Walking', [1.1, 1.7], [15, 90], true, 'run', 'walking', 'generic', 12),
  sport('hiking', 3, 17, 15, 'Hiking', [0.8, 1.5], [60, 360], true, 'run', 'hiking', 'generic', 6),
  sport(
    'lap_swimming',
    27,
    26,
    23,
    'Pool Swim',
    [0.6, 1.1],
    [20, 60],
    false,
    'swim',
    'swimming',
    'lapSwimming',
    6,
  ),
  sport(
    'open_water_swimming',
    28,
    26,
    24,
    'Open Water Swim',
    [0.6, 1.1],
    [15, 75],
    true,
    'swim',
    'swimming',
    'openWater',
    2,
  ),
  sport(
    'strength_training',
    13,
    29,
    50,
    'Strength',
    undefined,
    [20, 75],
    false,
    undefined,
    'training',
    'strengthTraining',
    8,
  ),
  sport(
    'cross_country_skiing',
    81,
    4,
    39,
    'Cross Country Skiing',
    [2, 5],
    [40, 180],
    true,
    'run',
    'crossCountrySkiing',
    'generic',
    4,
  ),
  sport(
    'indoor_cycling',
    25,
    2,
    8,
    'Indoor Cycling',
    undefined,
    [30, 90],
    false,
    'bike',
    'cycling',
    'indoorCycling',
    6,
  ),
  sport(
    'treadmill_running',
    18,
    1,
    6,
    'Treadmill Running',
    [2.4, 3.9],
    [20, 70],
    false,
    'run',
    'running',
    'treadmill',
    4,
  ),
  sport('yoga', 163, 29, 70, 'Yoga', undefined, [20, 75], false, undefined, 'training', 'yoga', 4),
]
const MULTI_SPORT = sport(
  'multi_sport',
  89,
  17,
  58,
  'Multisport',
  undefined,
  [60, 360],
  true,
  undefined,
  'multisport',
  'generic',
  0,
)
const TRANSITION = sport(
  'transition',
  83,
  17,
  57,
  'Transition',
  [1, 2],
  [1, 5],
  true,
  undefined,
  'transition',
  'generic',
  0,
)
export const ALL_SPORTS: readonly Sport[] = [...SPORTS, MULTI_SPORT, TRANSITION]

function sport(
  typeKey: string,
  typeId: number,
  parentTypeId: number,
  sortOrder: number,
  label: string,
  speed: [number, number] | undefined,
  minutes: [number, number],
  gps: boolean,
  cadence: Sport['cadence'],
  fitSport: string,
  fitSubSport: string,
  weight: number,
): Sport {
  return {
    typeKey,
    typeId,
    parentTypeId,
    sortOrder,
    label,
    ...(speed ? { speed } : {}),
    minutes,
    gps,
    ...(cadence ? { cadence } : {}),
    fitSport,
    fitSubSport,
    weight,
  }
}

export function sportFor(typeKey: unknown): Sport {
  return ALL_SPORTS.find((s) => s.typeKey === typeKey) ?? SPORTS[0]!
}

interface Place {
  name: string
  lat: number
  lon: number
  zone: string
  timeZoneId: number
}

/** Garmin's `timeZoneId` -> IANA zone (124 is Europe/Paris in the recorded activity; Swiss rules are the same). */
export const TIME_ZONES: Readonly<Record<number, string>> = {
  124: 'Europe/Paris',
  149: 'America/New_York',
  150: 'America/Denver',
  87: 'Asia/Tokyo',
  52: 'Africa/Johannesburg',
}

// The first place is "home": most activities start there; the others are trips.
const PLACES: readonly Place[] = [
  { name: 'Biel', lat: 47.1353, lon: 7.2431, zone: 'Europe/Paris', timeZoneId: 124 },
  { name: 'Goms', lat: 46.4668, lon: 8.2435, zone: 'Europe/Paris', timeZoneId: 124 },
  { name: 'Zürich', lat: 47.3769, lon: 8.5417, zone: 'Europe/Paris', timeZoneId: 124 },
  { name: 'Chamonix-Mont-Blanc', lat: 45.9237, lon: 6.8694, zone: 'Europe/Paris', timeZoneId: 124 },
  { name: 'New York', lat: 40.7812, lon: -73.9665, zone: 'America/New_York', timeZoneId: 149 },
  { name: 'Boulder', lat: 40.015, lon: -105.2705, zone: 'America/Denver', timeZoneId: 150 },
  { name: '京都市', lat: 35.0116, lon: 135.7681, zone: 'Asia/Tokyo', timeZoneId: 87 },
  { name: 'Cape Town', lat: -33.9249, lon: 18.4241, zone: 'Africa/Johannesburg', timeZoneId: 52 },
]

/** Names people actually type: emoji (ZWJ sequences, flags, skin tones), accents, CJK, quotes. */
export const EMOJI_NAMES: readonly string[] = [
  'Biel 🏛 Pavillon',
  'Morning run 🌅',
  '🚴‍♀️ Gravel loop',
  'Intervals 🔥🔥 6×800 m',
  'Laufen 🏃🏽‍♂️ am See',
  'Langlauf ❄️ 雪',
  'Café ☕ ride 🇨🇭',
  'Recovery 😴',
  '🏊 Technique + drills',
]
const CUSTOM_NAMES: readonly string[] = [
  'Long run with Anna',
  'Über den Berg – Rückweg',
  'Course à pied',
  'Tempo "10k" / test',
  'Hill reps \\ 8x',
  'Lunch break',
  '夜ラン',
  'Commute',
]
const MULTISPORT_PLANS: readonly { name: string; legs: readonly string[] }[] = [
  { name: 'Triathlon', legs: ['open_water_swimming', 'transition', 'cycling', 'transition', 'running'] },
  { name: 'Bike-Run-Bike', legs: ['cycling', 'transition', 'running', 'transition', 'cycling'] },
  { name: 'Duathlon', legs: ['running', 'transition', 'cycling'] },
]

const LIST_TEMPLATE = fixtures.listEntry
// Nested template values are copied per entry (from their JSON text: much faster than structuredClone).
const NESTED_JSON: [string, string][] = Object.entries(LIST_TEMPLATE)
  .filter(([, v]) => v !== null && typeof v === 'object')
  .map(([k, v]) => [k, JSON.stringify(v)])
/**
 * Builds a fresh copy of the template's top level in the fixture's key order. A generated object literal,
 * because `{ ...template }` of a 130-key object is about twenty times slower (10,000 entries must take
 * well under a second).
 */
const copyTemplate = new Function(
  't',
  `return {${Object.keys(LIST_TEMPLATE)
    .map((k) => `${JSON.stringify(k)}: t[${JSON.stringify(k)}]`)
    .join(',')}}`,
) as (t: JsonObject) => Record<string, unknown>
const MAX_GROUP_MS = 6 * 3_600_000

interface Group {
  startMs: number
  /** Index into MULTISPORT_PLANS, or undefined for a single activity. */
  plan?: number
}

export interface GeneratorOptions {
  seed: number
  owner: AccountOwner
}

export class ActivityGenerator {
  private readonly offsetFormatters = new Map<string, Intl.DateTimeFormat>()
  private readonly dayOffsets = new Map<string, number | undefined>()
  private readonly imageUrls: { small: string; medium: string; large: string }
  private readonly deviceIds: number[]

  constructor(private readonly options: GeneratorOptions) {
    const rng = rngFor(options.seed, 7)
    const uuid = () => uuidFrom(rng)
    const base = 'https://s3.amazonaws.com/garmin-connect-prod/profile_images'
    this.imageUrls = {
      small: `${base}/${uuid()}-${options.owner.profileId}.png`,
      medium: `${base}/${uuid()}-${options.owner.profileId}.png`,
      large: `${base}/${uuid()}-${options.owner.profileId}.png`,
    }
    this.deviceIds = [3_946_806_421, 3_469_703_076 + intBetween(rng, 0, 9_999)]
  }

  /** `count` entries spread over `years` years, the newest a few hours before `nowMs`; newest first. */
  generate(count: number, years: number, nowMs: number): ActivityEntry[] {
    if (count <= 0) return []
    const rng = mulberry32(mixSeed(this.options.seed, 1))
    const groups = this.planGroups(rng, count)
    const end = nowMs - MAX_GROUP_MS
    const start = end - Math.max(1, years) * 365.25 * 86_400_000
    const times = groups
      .map(() => Math.floor(floatBetween(rng, start, end) / 1000) * 1000)
      .sort((a, b) => a - b)
    // The account ends "today": its newest activity started within the last day.
    if (times.length > 0)
      times[times.length - 1] = Math.floor((end - floatBetween(rng, 0, 18 * 3_600_000)) / 1000) * 1000
    times.sort((a, b) => a - b)
    groups.forEach((g, i) => {
      g.startMs = times[i]!
    })
    const avgStep = Math.max(200, Math.floor(12_000_000_000 / count))
    const firstId = 9_900_000_000 + intBetween(rng, 0, 50_000_000)
    return this.build(groups, firstId, avgStep, rng)
  }

  /** `count` entries newer than every entry of `existing` (newest first); returned newest first. */
  more(count: number, existing: readonly ActivityEntry[], nowMs: number): ActivityEntry[] {
    if (count <= 0) return []
    let maxId = 0
    let newestEnd = 0
    for (const e of existing) {
      maxId = Math.max(maxId, e.activityId)
      // startTimeGMT, not beginTimestamp: it is what the list is ordered by, and a loaded file may disagree.
      const begin = parseGarminTime(e.startTimeGMT)
      const duration = typeof e.duration === 'number' ? e.duration : 0
      newestEnd = Math.max(newestEnd, begin + duration * 1000)
    }
    const rng = mulberry32(mixSeed(this.options.seed, 2, maxId, count))
    const groups = this.planGroups(rng, count)
    // Fit the new activities between the newest one and now when there is room, else line them up after it.
    const first = newestEnd + 600_000
    const room = nowMs - MAX_GROUP_MS - first
    const slot = room / groups.length >= 600_000 ? room / groups.length : MAX_GROUP_MS + 600_000
    groups.forEach((g, i) => {
      g.startMs = Math.floor((first + i * slot + rng() * slot * 0.5) / 1000) * 1000
    })
    return this.build(groups, maxId + intBetween(rng, 1_000, 50_000), 500_000, rng)
  }

  private planGroups(rng: Rng, count: number): Group[] {
    const groups: Group[] = []
    let remaining = count
    while (remaining > 0) {
      // About one multisport event per 200 activities.
      const plan = intBetween(rng, 0, MULTISPORT_PLANS.length - 1)
      const legs = MULTISPORT_PLANS[plan]!.legs.length
      if (remaining >= legs + 1 && rng() < 1 / 200) {
        groups.push({ startMs: 0, plan })
        remaining -= legs + 1
      } else {
        groups.push({ startMs: 0 })
        remaining -= 1
      }
    }
    return groups
  }

  /** Groups sorted oldest first -> entries newest first, ids growing with time like Garmin's. */
  private build(groups: Group[], firstId: number, avgStep: number, rng: Rng): ActivityEntry[] {
    const out: ActivityEntry[] = []
    let id = firstId
    for (const group of groups) {
      if (group.plan === undefined) {
        const r = rngFor(this.options.seed, id)
        out.push(this.entry(r, id, group.startMs, pickSport(r), {}))
      } else {
        out.push(...this.multisport(id, group.startMs, group.plan))
        id += 100
      }
      id += Math.max(100, Math.floor(avgStep * (0.5 + rng())))
    }
    return out.sort(
      (a, b) => (b.beginTimestamp as number) - (a.beginTimestamp as number) || b.activityId - a.activityId,
    )
  }

  private multisport(parentId: number, startMs: number, planIndex: number): ActivityEntry[] {
    const plan = MULTISPORT_PLANS[planIndex]!
    const r = rngFor(this.options.seed, parentId)
    const place = PLACES[0]!
    const children: ActivityEntry[] = []
    let childId = parentId
    let t = startMs
    for (const leg of plan.legs) {
      childId += intBetween(r, 3, 11)
      const legSport = sportFor(leg)
      const child = this.entry(rngFor(this.options.seed, childId), childId, t, legSport, {
        parentId,
        name: `${plan.name} - ${legSport.label}`,
        place,
        keepAllKeys: true,
      })
      children.push(child)
      t += Math.round((child.duration as number) + 5) * 1000
    }
    const parent = this.entry(r, parentId, startMs, MULTI_SPORT, {
      name: plan.name,
      place,
      keepAllKeys: true,
    })
    const sum = (key: string) =>
      children.reduce((acc, c) => acc + (typeof c[key] === 'number' ? (c[key] as number) : 0), 0)
    parent.distance = Math.fround(sum('distance'))
    parent.duration = Math.fround((t - startMs) / 1000)
    parent.elapsedDuration = (parent.duration as number) * 1000
    parent.movingDuration = Math.fround(sum('movingDuration'))
    parent.calories = Math.round(sum('calories'))
    parent.averageSpeed = Math.fround((parent.distance as number) / (parent.duration as number))
    parent.parent = true
    parent.childIds = children.map((c) => c.activityId)
    parent.childActivityTypes = plan.legs.slice()
    return [parent, ...children]
  }

  private entry(
    r: Rng,
    id: number,
    startMs: number,
    s: Sport,
    opts: { parentId?: number; name?: string; place?: Place; keepAllKeys?: boolean },
  ): ActivityEntry {
    const place = opts.place ?? (r() < 0.85 ? PLACES[intBetween(r, 0, 2)]! : pick(r, PLACES))
    const manual = !opts.parentId && s !== MULTI_SPORT && r() < 0.02
    const gps = s.gps && !manual
    const durationS = Math.fround(floatBetween(r, s.minutes[0] * 60, s.minutes[1] * 60))
    const speed = s.speed ? floatBetween(r, s.speed[0], s.speed[1]) : undefined
    const distance = speed === undefined ? null : Math.fround(speed * durationS)
    const movingS = Math.fround(Math.floor(durationS * floatBetween(r, 0.9, 1)))
    const avgHr = manual ? null : intBetween(r, 95, 158)
    const maxHr = avgHr === null ? null : avgHr + intBetween(r, 10, 35)
    const gain = gps ? Math.round(floatBetween(r, 0, 25) * (durationS / 600)) : null
    const minElev = gps ? Math.round(floatBetween(r, 20_000, 160_000)) : null
    const lat = gps ? place.lat + floatBetween(r, -0.03, 0.03) : null
    const lon = gps ? place.lon + floatBetween(r, -0.03, 0.03) : null
    const runCadence = s.cadence === 'run' && !manual ? Math.fround(floatBetween(r, 70, 178)) : null
    const bikeCadence = s.cadence === 'bike' && !manual ? Math.fround(floatBetween(r, 70, 95)) : null
    const swim = s.cadence === 'swim'
    const lengths = swim && distance !== null ? Math.max(1, Math.round(distance / 25)) : null

    let name = opts.name
    if (name === undefined) {
      const roll = r()
      name =
        roll < 0.12 ? pick(r, EMOJI_NAMES) : roll < 0.2 ? pick(r, CUSTOM_NAMES) : `${place.name} ${s.label}`
    }

    const e = copyTemplate(LIST_TEMPLATE)
    for (const [key, json] of NESTED_JSON) e[key] = JSON.parse(json)
    e.activityId = id
    e.activityName = name
    e.description = r() < 0.05 ? 'Felt strong 💪\nSecond line of notes' : null
    e.startTimeLocal = formatGarminTime(startMs + this.offsetMs(place.zone, startMs))
    e.startTimeGMT = formatGarminTime(startMs)
    e.activityType = {
      typeId: s.typeId,
      typeKey: s.typeKey,
      parentTypeId: s.parentTypeId,
      sortOrder: s.sortOrder,
    }
    e.parentId = opts.parentId ?? null
    e.distance = distance
    e.duration = durationS
    e.elapsedDuration = durationS * 1000
    e.movingDuration = movingS
    e.elevationGain = gain
    e.elevationLoss = gain === null ? null : Math.max(0, gain + intBetween(r, -20, 20))
    e.averageSpeed = distance === null ? null : Math.fround(distance / durationS)
    e.maxSpeed = speed === undefined ? null : Math.fround(speed * floatBetween(r, 1.2, 2.5))
    e.startLatitude = lat
    e.startLongitude = lon
    e.hasPolyline = gps
    e.ownerId = this.options.owner.profileId
    e.ownerDisplayName = this.options.owner.displayName
    e.ownerFullName = this.options.owner.fullName
    e.ownerProfileImageUrlSmall = this.imageUrls.small
    e.ownerProfileImageUrlMedium = this.imageUrls.medium
    e.ownerProfileImageUrlLarge = this.imageUrls.large
    e.calories = Math.round((durationS / 60) * floatBetween(r, 5, 13))
    e.averageHR = avgHr
    e.maxHR = maxHr
    e.averageRunningCadenceInStepsPerMinute = runCadence
    e.maxRunningCadenceInStepsPerMinute =
      runCadence === null ? null : Math.round(runCadence + floatBetween(r, 10, 60))
    e.averageBikingCadenceInRevPerMinute = bikeCadence
    e.maxBikingCadenceInRevPerMinute =
      bikeCadence === null ? null : Math.round(bikeCadence + floatBetween(r, 10, 40))
    e.averageSwimCadenceInStrokesPerMinute = swim ? Math.round(floatBetween(r, 20, 35)) : null
    e.averageSwolf = swim ? Math.round(floatBetween(r, 35, 60)) : null
    e.activeLengths = lengths
    e.steps = runCadence === null ? null : Math.round((runCadence * durationS) / 60)
    e.poolLength = s.typeKey === 'lap_swimming' ? 2500 : null
    e.unitOfPoolLength = s.typeKey === 'lap_swimming' ? { unitId: 1, unitKey: 'meter', factor: 100 } : null
    e.timeZoneId = place.timeZoneId
    e.beginTimestamp = startMs
    e.sportTypeId = ALL_SPORTS.indexOf(s) + 1
    e.aerobicTrainingEffect = manual ? null : Math.fround(Math.round(floatBetween(r, 5, 50)) / 10)
    e.anaerobicTrainingEffect = manual ? null : Math.fround(Math.round(floatBetween(r, 0, 30)) / 10)
    e.strokes = lengths === null ? null : lengths * intBetween(r, 14, 22)
    e.avgStrideLength =
      runCadence === null || distance === null ? null : (distance * 100) / ((runCadence * durationS) / 60)
    e.deviceId = manual ? null : pick(r, this.deviceIds)
    // `|| 0`: Math.round(-0.4) is -0, which JSON would serve as 0 and toEqual would then tell apart.
    e.minTemperature = manual ? null : Math.round(floatBetween(r, -5, 25)) || 0
    e.maxTemperature = manual ? null : Math.round(floatBetween(r, 25, 33))
    e.minElevation = minElev
    e.maxElevation =
      minElev === null || gain === null ? null : minElev + gain * 100 + floatBetween(r, 0, 1000)
    e.maxDoubleCadence = runCadence === null ? null : Math.round(runCadence * 2)
    e.maxVerticalSpeed = gps ? Math.fround(floatBetween(r, 0.1, 1.5)) : null
    e.locationName = gps ? place.name : null
    e.lapCount = Math.max(1, Math.round(distance === null ? durationS / 600 : distance / 1000))
    e.endLatitude = lat === null ? null : lat + floatBetween(r, -0.01, 0.01)
    e.endLongitude = lon === null ? null : lon + floatBetween(r, -0.01, 0.01)
    e.favorite = r() < 0.03
    e.pr = r() < 0.02
    e.parent = false
    // Newer API versions leave out fields that have no value: about one entry in eight looks like that.
    if (!opts.keepAllKeys && r() < 0.125) {
      for (const key of Object.keys(e)) if (e[key] === null) delete e[key]
    }
    return e as ActivityEntry
  }

  /** Offset of `zone` from UTC at `ms`, in ms (DST-aware; Intl is slow, so cached per day without a switch). */
  private offsetMs(zone: string, ms: number): number {
    const day = Math.floor(ms / 86_400_000)
    const key = `${zone} ${day}`
    if (!this.dayOffsets.has(key)) {
      const first = this.exactOffsetMs(zone, day * 86_400_000)
      const last = this.exactOffsetMs(zone, (day + 1) * 86_400_000 - 1)
      this.dayOffsets.set(key, first === last ? first : undefined)
    }
    return this.dayOffsets.get(key) ?? this.exactOffsetMs(zone, ms)
  }

  private exactOffsetMs(zone: string, ms: number): number {
    let fmt = this.offsetFormatters.get(zone)
    if (!fmt) {
      fmt = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
      this.offsetFormatters.set(zone, fmt)
    }
    const label = fmt.formatToParts(ms).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT'
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(label)
    if (!m) return 0
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) * 60_000
  }
}

function pickSport(r: Rng): Sport {
  const total = SPORTS.reduce((acc, s) => acc + s.weight, 0)
  let roll = r() * total
  for (const s of SPORTS) {
    roll -= s.weight
    if (roll < 0) return s
  }
  return SPORTS[0]!
}

/** `YYYY-MM-DD HH:MM:SS`, the list's zone-less format. */
export function formatGarminTime(ms: number): string {
  const d = new Date(ms)
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`
}

function pad(n: number): string {
  return n < 10 ? `0${n}` : String(n)
}

export function parseGarminTime(value: string): number {
  return Date.parse(`${value.replace(' ', 'T')}Z`)
}

function uuidFrom(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => Math.floor(rng() * 16).toString(16)).join('')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20)}`
}

/** Reads an `--activities-file`: a JSON array of activity-list entries. Served newest first. */
export function loadActivitiesFile(path: string): ActivityEntry[] {
  let parsed: Json
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8')) as Json
  } catch (error) {
    throw new Error(`cannot read activities file ${path}: ${(error as Error).message}`)
  }
  if (!Array.isArray(parsed)) throw new Error(`activities file ${path} must hold a JSON array`)
  const seen = new Set<number>()
  const entries = parsed.map((item, i) => {
    const entry = item as JsonObject
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      throw new Error(`activities file ${path}: entry ${i} is not an object`)
    }
    if (!Number.isSafeInteger(entry.activityId))
      throw new Error(`activities file ${path}: entry ${i} has no integer activityId`)
    if (typeof entry.startTimeGMT !== 'string' || Number.isNaN(parseGarminTime(entry.startTimeGMT))) {
      throw new Error(`activities file ${path}: entry ${i} has no startTimeGMT "YYYY-MM-DD HH:MM:SS"`)
    }
    if (seen.has(entry.activityId as number))
      throw new Error(`activities file ${path}: activityId ${entry.activityId} repeats`)
    seen.add(entry.activityId as number)
    return entry as unknown as ActivityEntry
  })
  return sortNewestFirst(entries)
}

export function sortNewestFirst(entries: ActivityEntry[]): ActivityEntry[] {
  return entries.sort((a, b) =>
    a.startTimeGMT < b.startTimeGMT ? 1 : a.startTimeGMT > b.startTimeGMT ? -1 : b.activityId - a.activityId,
  )
}
