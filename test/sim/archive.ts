/**
 * Garmin's archive of old intraday data, for the simulator. After about six months Garmin moves the
 * intraday samples of a day out of its live store: the wellness routes still answer, with the summary
 * fields filled and the sample arrays null (`heartRateValues: null` beside `restingHeartRate: 52`),
 * until someone asks for the day back with `POST /wellness-service/wellness/epoch/request/{date}`
 * (python-garminconnect `request_reload`, garmin-grafana REQUEST_INTRADAY_DATA_REFRESH, its issue #77).
 * That answers `{"status": ...}`: SUBMITTED (restored, back within seconds), COMPLETE (nothing to
 * restore), NO_FILES_FOUND (Garmin holds nothing for the day) or DENIED (the daily quota, about 30
 * requests per UTC day, is spent). One request restores every wellness dataset of that day.
 */
import type { JsonObject } from './templates.js'

const DAY_MS = 86_400_000
export const DEFAULT_RELOAD_CAP = 30

export type ReloadStatus = 'SUBMITTED' | 'COMPLETE' | 'NO_FILES_FOUND' | 'DENIED'

/** The routes whose samples Garmin archives, and the arrays it empties. */
const ARCHIVED_FIELDS = {
  heartRate: (b: JsonObject) => {
    b.heartRateValues = null
  },
  stress: (b: JsonObject) => {
    b.stressValuesArray = null
    b.bodyBatteryValuesArray = null
  },
  sleep: (b: JsonObject) => {
    b.sleepMovement = null
    b.sleepLevels = null
  },
} as const

export type ArchivedRoute = keyof typeof ARCHIVED_FIELDS

export function isArchivedRoute(route: string): route is ArchivedRoute {
  return Object.hasOwn(ARCHIVED_FIELDS, route)
}

export interface ReloadEvent {
  date: string
  status: ReloadStatus
  /** The sim's UTC day the request was answered on. */
  on: string
}

export class ArchiveBook {
  private readonly restored = new Set<number>()
  private readonly lost = new Set<number>()
  private readonly used = new Map<number, number>()
  private readonly events: ReloadEvent[] = []

  constructor(
    /** Days older than today minus this are archived; undefined: nothing is. */
    private readonly afterDays: number | undefined,
    private readonly cap: number,
    private readonly dateOf: (day: number) => string,
  ) {}

  /** True while `day`'s samples are out of the live store (as seen on `today`). */
  archived(day: number, today: number): boolean {
    if (this.afterDays === undefined || this.restored.has(day)) return false
    return day < today - this.afterDays
  }

  /** The answer for an archived day: the same body with its sample arrays null. */
  archivedBody(route: ArchivedRoute, body: JsonObject): JsonObject {
    const out = structuredClone(body)
    ARCHIVED_FIELDS[route](out)
    return out
  }

  /** Garmin lost the day's archive: it stays empty and a reload answers NO_FILES_FOUND. */
  lose(day: number): void {
    this.lost.add(day)
  }

  /** One reload request on `now`; `hasData` says whether the day holds any data at all. */
  reload(day: number, now: number, hasData: boolean): ReloadStatus {
    const today = Math.floor(now / DAY_MS)
    const used = this.used.get(today) ?? 0
    let status: ReloadStatus
    if (used >= this.cap) status = 'DENIED'
    else {
      this.used.set(today, used + 1)
      if (!hasData || this.lost.has(day)) status = 'NO_FILES_FOUND'
      else if (this.archived(day, today)) {
        this.restored.add(day)
        status = 'SUBMITTED'
      } else status = 'COMPLETE'
    }
    this.events.push({ date: this.dateOf(day), status, on: this.dateOf(today) })
    return status
  }

  /** Every reload answered so far, oldest first. */
  log(): ReloadEvent[] {
    return this.events.map((e) => ({ ...e }))
  }
}
