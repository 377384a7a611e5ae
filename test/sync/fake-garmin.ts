/**
 * A small in-memory Garmin activity list for the pipeline's unit tests: deterministic entries with
 * 11-digit ids, emoji names and time zones all over the world, served newest first with the same
 * `start`/`limit`/`startDate`/`endDate` semantics as Garmin (dates are local dates, inclusive).
 */

import type { ActivityEntry, GarminRequestStats, ListActivitiesQuery } from '../../src/garmin/types.js'
import type { SyncSource } from '../../src/sync/types.js'
import type { FakeClock } from '../helpers/fake-clock.js'
import { mulberry32 } from '../sim/prng.js'

const HOUR = 3_600_000

function gmt(ms: number): string {
  const iso = new Date(ms).toISOString()
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}`
}

const NAMES = [
  'Morning Run 🏃',
  'Biel 🏛 Pavillon',
  'Zürich Radtour 🚴‍♀️',
  '晨跑',
  'Swim 🏊 & sauna',
  'Évening walk',
]

export interface FakeGarminOptions {
  count?: number
  seed?: number
  /** Epoch ms of the newest activity's start. */
  newest?: number
  /** Sort by local start time instead of UTC (Garmin's order is not documented). */
  sortBy?: 'gmt' | 'local'
  clock?: FakeClock
  /** Fake-clock milliseconds each list call takes. */
  latencyMs?: number
}

export class FakeGarmin implements SyncSource {
  /** Newest first, in the order served. */
  private all: ActivityEntry[] = []
  readonly calls: ListActivitiesQuery[] = []
  private counts: Record<string, number> = {}
  private nextId = 10_000_000_000
  private readonly random: () => number
  private readonly sortBy: 'gmt' | 'local'
  honorEndDate = true
  /** Return (or throw) an error for a list call: called with the 0-based call number. */
  failList: ((call: number, query: ListActivitiesQuery) => unknown) | undefined

  constructor(private readonly options: FakeGarminOptions = {}) {
    this.random = mulberry32(options.seed ?? 1)
    this.sortBy = options.sortBy ?? 'gmt'
    const newest = options.newest ?? Date.UTC(2026, 10, 27, 7, 30, 0)
    let t = newest
    const made: ActivityEntry[] = []
    for (let i = 0; i < (options.count ?? 0); i++) {
      made.push(this.make(t))
      t -= Math.round((2 + this.random() * 40) * HOUR)
    }
    this.all = made
    this.sort()
  }

  /** One entry starting at `startMs` (UTC) in a random time zone. */
  make(startMs: number): ActivityEntry {
    const offsetHours = Math.round(this.random() * 22) - 10
    const id = this.nextId
    this.nextId += 1 + Math.floor(this.random() * 1000)
    return {
      activityId: id,
      activityName: `${NAMES[id % NAMES.length]} #${id}`,
      startTimeLocal: gmt(startMs + offsetHours * HOUR),
      startTimeGMT: gmt(startMs),
      activityType: { typeId: 1, typeKey: 'running', parentTypeId: 17, sortOrder: 3 },
      distance: Math.round(this.random() * 20_000 * 100) / 100,
      duration: 1800.5,
      beginTimestamp: startMs,
      parentId: null,
    }
  }

  private sort(): void {
    const key = (e: ActivityEntry) => (this.sortBy === 'gmt' ? e.startTimeGMT : (e.startTimeLocal as string))
    this.all.sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : b.activityId - a.activityId))
  }

  listAll(): ActivityEntry[] {
    return [...this.all]
  }

  /** `n` activities newer than every existing one, returned newest first. */
  addNewer(n: number, hoursApart = 3): ActivityEntry[] {
    const newest = Date.parse(`${this.all[0]?.startTimeGMT.replace(' ', 'T') ?? '2026-11-27T00:00:00'}Z`)
    const added: ActivityEntry[] = []
    for (let i = n; i >= 1; i--) added.push(this.make(newest + i * hoursApart * HOUR))
    this.all.push(...added)
    this.sort()
    return added
  }

  /** An activity uploaded late: it started at `startMs`, older than activities already listed. */
  addAt(startMs: number): ActivityEntry {
    const entry = this.make(startMs)
    this.all.push(entry)
    this.sort()
    return entry
  }

  remove(activityId: number): void {
    this.all = this.all.filter((e) => e.activityId !== activityId)
  }

  stats(): GarminRequestStats {
    return { requests: { ...this.counts } }
  }

  resetStats(): void {
    this.counts = {}
    this.calls.length = 0
  }

  async countActivities(): Promise<number> {
    this.counts.count = (this.counts.count ?? 0) + 1
    return this.all.length
  }

  async listActivities(query: ListActivitiesQuery): Promise<ActivityEntry[]> {
    const call = this.calls.length
    this.calls.push({ ...query })
    this.counts.list = (this.counts.list ?? 0) + 1
    if (this.options.latencyMs) this.options.clock?.advance(this.options.latencyMs)
    const failure = this.failList?.(call, query)
    if (failure !== undefined) throw failure
    const local = (e: ActivityEntry) => (e.startTimeLocal as string).slice(0, 10)
    const filtered = this.all.filter(
      (e) =>
        (query.startDate === undefined || local(e) >= query.startDate) &&
        (query.endDate === undefined || !this.honorEndDate || local(e) <= query.endDate),
    )
    // Served as JSON, like the real thing: callers must not share our objects.
    return JSON.parse(JSON.stringify(filtered.slice(query.start, query.start + query.limit)))
  }
}
