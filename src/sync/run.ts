/**
 * The sync pipeline (ARCHITECTURE.md "A sync run"): read state, page the activity list newest first,
 * write each new activity once, checkpoint, write a run manifest.
 *
 * Paging in short: activities within `overlapDays` of the newest stored one are checked by id (late
 * uploads land there); older ones inside a covered interval (coverage.ts) are known to be stored, and
 * once a page ends inside one the list jumps below it (`endDate`) or stops when it reaches the
 * beginning of the history. Only where nothing is known does the run list the store, once, to learn
 * which keys exist (adopting buckets filled by the original Python pipeline). The checkpoint only
 * covers activities that were stored, so a failure or a kill costs at most a re-check of the
 * unfinished page.
 */
import { randomBytes } from 'node:crypto'
import { type Clock, systemClock } from '../clock.js'
import { EXIT, type ExitCode, isGarminS3Error, StoreError } from '../errors.js'
import { NotFoundError } from '../garmin/errors.js'
import type { ActivityEntry } from '../garmin/types.js'
import { siblingPrefix } from '../store/keys.js'
import type { Store } from '../store/types.js'
import { messageOf } from '../unknown.js'
import type { ConditionalWrite } from './cas-document.js'
import { type CatalogEntry, catalogEntryOf, decodeCatalog } from './catalog.js'
import { ChainTracker, type Interval, intervalContaining } from './coverage.js'
import { describeStop } from './describe.js'
import { decodeFingerprints, fingerprintOf } from './fingerprint.js'
import { WriteGate } from './gate.js'
import { decodeIds } from './id-list.js'
import { manifestBody, manifestKeyFor } from './manifest.js'
import { type ResolvedOptions, resolveOptions } from './options.js'
import { checkEntry, nextQuarantine, type QuarantinedEntry } from './quarantine.js'
import { type DatasetState, failedItems, failedRunsInARow, type Progress, StateKeeper } from './state.js'
import { addDays, DAY_MS, formatGmt, parseGmt } from './time.js'
import type {
  StopReason,
  StoredActivities,
  SyncDeps,
  SyncError,
  SyncLog,
  SyncOptions,
  SyncReport,
  SyncSource,
} from './types.js'
import { keepInHistory, type ReplaceOutcome, replaceVersioned } from './versions.js'

const ACTIVITY_NAME = /^activity_(\d+)\.json$/
const LOCAL_TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/
const MAX_CONSECUTIVE_WRITE_FAILURES = 10
const MAX_REPORTED_ERRORS = 100
/** Quarantined entries listed in a report and manifest (the state keeps up to MAX_QUARANTINED). */
const MAX_REPORTED_INVALID = 100
const MIN_DEADLINE_RESERVE_MS = 1000
/** A reconcile pages the list in Garmin's largest pages. */
const RECONCILE_PAGE_SIZE = 1000
/** Deletions confirmed per run (one Garmin call each); the rest are confirmed by the next reconcile. */
const MAX_CONFIRMATIONS = 200
const encoder = new TextEncoder()

/** `raw-data/garmin-json/` -> `raw-data/garmin-json-history/activity_123/` (docs/changes.md). */
function historyFolderFor(prefix: string, activityId: number): string {
  return `${siblingPrefix(prefix, 'history')}activity_${activityId}/`
}

/** `raw-data/garmin-json/` -> `raw-data/garmin-json-deleted/activity_123.json`. */
function tombstoneKey(prefix: string, activityId: number): string {
  return `${siblingPrefix(prefix, 'deleted')}activity_${activityId}.json`
}

/** `raw-data/garmin-json/` + 123 -> `raw-data/garmin-json/activity_123.json` (the original pipeline's keys). */
export function activityKey(prefix: string, activityId: number): string {
  return `${prefix}activity_${activityId}.json`
}

/** The activity id in a key of the data prefix, or undefined for anything else. */
export function activityIdFromKey(prefix: string, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined
  const match = ACTIVITY_NAME.exec(key.slice(prefix.length))
  if (!match) return undefined
  const id = Number(match[1])
  return Number.isSafeInteger(id) ? id : undefined
}

export async function runSync(options: SyncOptions, deps: SyncDeps): Promise<SyncReport> {
  const clock = deps.clock ?? systemClock
  const resolved = resolveOptions(options, clock.now())
  return new SyncRun(resolved, deps, clock).execute()
}

/** A contiguous listing position: `start` within the list filtered by `startDate`/`endDate`. */
interface Segment {
  start: number
  startDate?: string
  endDate?: string
  /** For a jump: where plain paging would have gone on, if Garmin turns out to ignore `endDate`. */
  resume?: Segment
}

type Step = { stop: StopReason; beginning?: boolean } | { next: Segment }
/** `update`: stored, but Garmin's entry may differ from the stored one (replaced with its history). */
type Decision = 'write' | 'update' | 'existing' | 'skipped' | 'duplicate' | 'invalid'
type Outcome = 'created' | 'exists' | 'replaced' | 'unchanged' | 'failed' | 'not-attempted'
type Fetched = { ok: true; entries: Listed[] } | { ok: false; error: unknown }

/**
 * A list entry as the pipeline keeps it: the few fields it decides on, and the bytes it writes. Garmin's
 * parsed entry (some 100 fields) is dropped as soon as the page arrives: a page is written over a second
 * or more (and the next one fetched meanwhile), and parsed entries that live that long are promoted to
 * V8's old generation, where a 10,000-activity backfill piled up ~100 MB of them before a full GC.
 */
interface Listed {
  /** For an entry that passed checkEntry (quarantine.ts); -1 and '' for a quarantined one. */
  activityId: number
  startTimeGMT: string
  /** Only for a usable entry. */
  localDate?: string
  catalog?: CatalogEntry
  /** The list entry exactly as Garmin sent it (JSON.parse then stringify keeps every field and character). */
  body: string
  /** Why the entry cannot be stored: it is quarantined instead. */
  invalid?: { id: string; reason: string; fingerprint: string }
}

interface Item {
  entry: Listed
  decision: Decision
  outcome?: Outcome
  error?: unknown
}

/** Stops everything: Garmin auth / rate limit / unavailable / bad answers, storage that cannot be used. */
function isFatalWriteError(error: unknown): boolean {
  return error instanceof StoreError && (error as { retryable?: boolean }).retryable !== true
}

function exitCodeOf(error: unknown): ExitCode {
  return isGarminS3Error(error) && error.exitCode !== EXIT.ok ? error.exitCode : EXIT.failure
}

/** Request counts made since `before` (by kind; kinds with none are left out). */
export function countsSince(
  after: Record<string, number>,
  before: Record<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [kind, n] of Object.entries(after)) {
    const diff = n - (before[kind] ?? 0)
    if (diff > 0) out[kind] = diff
  }
  return out
}

/** The local calendar date the user sees for an activity (falls back to the UTC date). */
function localDate(entry: ActivityEntry): string {
  const local = entry.startTimeLocal
  return typeof local === 'string' && LOCAL_TIME.test(local)
    ? local.slice(0, 10)
    : entry.startTimeGMT.slice(0, 10)
}

/** One entry as Garmin sent it (the client checks only that the page is an array), checked here. */
function condense(raw: unknown): Listed {
  const checked = checkEntry(raw)
  if (!checked.ok) {
    const { id, reason, fingerprint } = checked
    return { activityId: -1, startTimeGMT: '', body: '', invalid: { id, reason, fingerprint } }
  }
  const entry = raw as ActivityEntry
  const { activityId, startTimeGMT } = entry
  return {
    activityId,
    startTimeGMT,
    localDate: localDate(entry),
    catalog: catalogEntryOf(entry),
    body: checked.body,
  }
}

class SyncRun {
  private readonly store: Store
  private readonly garmin: SyncSource
  private readonly log: SyncLog
  private readonly gate: WriteGate
  private readonly keeper: StateKeeper
  private readonly writeState: ConditionalWrite
  private readonly runId: string
  private readonly startedAt: number
  private readonly storeBefore: Record<string, number>
  private readonly garminBefore: Record<string, number>

  private state: DatasetState | undefined
  /** Coverage at the start of the run: where the list can be skipped. */
  private covered: Interval[] = []
  private windowStart: string | undefined
  private readonly known = new Set<number>()
  private readonly seenThisRun = new Set<number>()
  private listed = false
  private jumpsDisabled = false
  /** Comparing the whole list this run (--reconcile, or one is due). */
  private reconciling = false
  /** Fingerprints of the stored entries (fingerprint.ts), as the state had them. */
  private fingerprints = new Map<number, string>()
  /** Set once this run's reconcile (or first complete listing) is done, deletions included. */
  private reconciledNow = false
  private changed = 0
  private deleted = 0
  private pruned = 0
  private slowestListMs = 0

  /** Runs of consecutive stored activities, in listing order: this run's coverage claims. */
  private readonly chain = new ChainTracker()
  private readonly progress: Progress

  private created = 0
  private existing = 0
  private skipped = 0
  private failed = 0
  /** This run's quarantined entries by id, and the ids it saw valid (which leave the quarantine). */
  private readonly invalidSeen = new Map<string, QuarantinedEntry>()
  private readonly validSeen = new Set<string>()
  private writesDone = 0
  private writesPlanned = 0
  private estimate: number | undefined
  private readonly errors: SyncError[] = []
  private consecutiveFailures = 0
  private fatalError: unknown
  private deadlineHit = false
  private stopReason: StopReason = 'end-of-history'
  private readonly abort = new AbortController()
  private readonly stopSignal: AbortSignal | undefined
  private readonly afterActivities: SyncDeps['afterActivities']

  constructor(
    private readonly o: ResolvedOptions,
    deps: SyncDeps,
    private readonly clock: Clock,
  ) {
    this.store = deps.store
    this.garmin = deps.garmin
    this.log = deps.log ?? (() => {})
    this.gate = new WriteGate(o.dryRun, this.log)
    this.writeState = this.gate.conditionalWrite(this.store, 'state')
    this.stopSignal = deps.signal
    this.afterActivities = deps.afterActivities
    this.runId = deps.newRunId?.() ?? randomBytes(4).toString('hex')
    this.startedAt = clock.now()
    this.storeBefore = { ...this.store.stats().requests }
    this.garminBefore = { ...this.garmin.stats().requests }
    this.keeper = new StateKeeper(
      this.store,
      o.prefix,
      () => clock.now(),
      (message) => this.log({ type: 'warning', message }),
    )
    this.progress = {
      claims: [],
      seen: new Map(),
      createdUnsaved: 0,
      overlapDays: o.overlapDays,
      countRun: false,
      catalog: new Map(),
      fingerprints: new Map(),
      deleted: new Set(),
      pruned: new Set(),
      changes: [],
      changedUnsaved: 0,
    }
  }

  /** Whether this run compares the whole list: asked, or due every `reconcileDays` days. */
  private reconcileReason(): 'asked' | 'due' | undefined {
    const o = this.o
    if (!o.trackChanges) return undefined
    if (o.reconcile) return 'asked'
    // Not while the history is still being copied: that run pages everything anyway, and sets lastAt.
    if (!this.state?.backfillComplete || o.reconcileDays === 0) return undefined
    const last = this.state.reconcile ? Date.parse(this.state.reconcile.lastAt) : Number.NaN
    return Number.isFinite(last) && this.clock.now() - last < o.reconcileDays * DAY_MS ? undefined : 'due'
  }

  async execute(): Promise<SyncReport> {
    // A store that cannot even be read fails the command before anything happens (nothing to report).
    this.state = await this.keeper.load()
    this.covered = this.o.full ? [] : (this.state?.covered ?? [])
    for (const [id] of this.state?.recent ?? []) this.known.add(id)
    if (this.o.trackChanges && this.state?.fingerprints) {
      const ids = [...decodeCatalog(this.state.catalog).keys()].sort((a, b) => a - b)
      this.fingerprints = decodeFingerprints(ids, this.state.fingerprints)
    }
    const reason = this.reconcileReason()
    if (reason) {
      this.reconciling = true
      this.jumpsDisabled = true
      this.log({ type: 'reconcile', reason })
    }
    const newest = this.state?.newestStartTimeGMT
    if (newest && !this.o.full) this.windowStart = formatGmt(parseGmt(newest)! - this.o.overlapDays * DAY_MS)
    this.log({
      type: 'start',
      mode: this.o.full ? 'full' : this.state ? 'incremental' : 'first-run',
      location: this.store.location,
      prefix: this.o.prefix,
      ...(this.o.since ? { since: this.o.since } : {}),
      dryRun: this.o.dryRun,
      ...(newest ? { newestStored: newest } : {}),
      backfillComplete: this.state?.backfillComplete ?? false,
    })
    try {
      // A dry run lists up front so that its plan is exact; --full needs the listing anyway.
      if (this.o.dryRun || this.o.full) await this.learnStoredKeys()
      await this.scan()
      if (this.completeListing()) await this.afterCompleteListing()
      if (this.o.pruneDeleted && this.fatalError === undefined) await this.pruneDeleted()
    } catch (error) {
      this.fail(error)
    }
    return this.finish()
  }

  private fail(error: unknown): void {
    this.fatalError ??= error
    this.stopReason = 'fatal'
    this.abort.abort()
  }

  /** True once the run must stop starting work: the deadline is near, or the caller asked to stop. */
  private pastDeadline(): boolean {
    if (this.stopSignal?.aborted) return true
    if (this.o.deadline === undefined) return false
    const reserve = Math.max(MIN_DEADLINE_RESERVE_MS, 2 * this.slowestListMs)
    return this.clock.now() >= this.o.deadline - reserve
  }

  private fetch(segment: Segment, limit: number): Promise<Fetched> {
    const began = this.clock.now()
    const query = {
      start: segment.start,
      limit,
      ...(segment.startDate ? { startDate: segment.startDate } : {}),
      ...(segment.endDate ? { endDate: segment.endDate } : {}),
    }
    return this.garmin.listActivities(query, this.abort.signal).then(
      (entries) => {
        this.slowestListMs = Math.max(this.slowestListMs, this.clock.now() - began)
        return { ok: true, entries: (entries as unknown[]).map(condense) }
      },
      (error: unknown) => ({ ok: false, error }),
    )
  }

  private async scan(): Promise<void> {
    // A reconcile lists everything (--since then only limits what new is copied).
    const since = this.reconciling ? undefined : this.o.since
    let segment: Segment = { start: 0, ...(since ? { startDate: addDays(since, -1) } : {}) }
    let limit = this.reconciling ? RECONCILE_PAGE_SIZE : this.o.pageSize
    const maxLimit = this.reconciling ? RECONCILE_PAGE_SIZE : this.o.maxPageSize
    let pending: Promise<Fetched> | undefined
    for (let page = 0; ; page++) {
      if (!pending) {
        if (this.pastDeadline()) return this.stopAtDeadline()
        pending = this.fetch(segment, limit)
      }
      const fetched = await pending
      pending = undefined
      if (!fetched.ok) return this.fail(fetched.error)
      let entries = fetched.entries
      if (segment.resume && segment.start === 0 && this.ignoresEndDate(segment, entries)) {
        // Garmin answered from the top: it ignored endDate. Page on by offset from where we jumped.
        this.jumpsDisabled = true
        this.log({ type: 'warning', message: 'the activity list ignored endDate; paging through instead' })
        segment = segment.resume
        pending = this.fetch(segment, limit)
        entries = []
        continue
      }

      const items: Item[] = []
      for (const entry of entries) items.push({ entry, decision: await this.decide(entry) })
      const toWrite = items.filter((i) => i.decision === 'write' || i.decision === 'update').length
      const oldest = entries.findLast((e) => e.localDate !== undefined)?.startTimeGMT
      this.writesPlanned += toWrite
      this.log({
        type: 'page',
        page,
        start: segment.start,
        limit,
        received: entries.length,
        toWrite,
        ...(oldest ? { oldest } : {}),
      })

      const step = this.nextStep(segment, entries, limit)
      const nextLimit = Math.min(limit * 2, maxLimit)
      // Fetch the next page while this one is written.
      if ('next' in step && !this.pastDeadline()) pending = this.fetch(step.next, nextLimit)

      await this.writeAll(items)
      this.settle(items)
      if (this.fatalError !== undefined || this.deadlineHit) {
        this.abort.abort()
        await pending
        return this.fatalError !== undefined ? this.fail(this.fatalError) : this.stopAtDeadline()
      }
      if ('stop' in step) {
        if (step.beginning) this.chain.reachBeginning()
        this.stopReason = step.stop
        return
      }
      try {
        await this.checkpoint()
      } catch (error) {
        this.fail(error)
        await pending
        return
      }
      segment = step.next
      limit = nextLimit
    }
  }

  private ignoresEndDate(segment: Segment, entries: Listed[]): boolean {
    const first = entries[0]
    return (
      segment.endDate !== undefined &&
      first?.localDate !== undefined &&
      first.startTimeGMT.slice(0, 10) > addDays(segment.endDate, 1)
    )
  }

  private stopAtDeadline(): void {
    this.deadlineHit = true
    this.stopReason = this.stopSignal?.aborted ? 'interrupted' : 'deadline'
  }

  private async decide(entry: Listed): Promise<Decision> {
    const id = entry.activityId
    const start = entry.startTimeGMT
    if (entry.invalid || entry.localDate === undefined) return 'invalid'
    this.validSeen.add(String(id))
    if (this.seenThisRun.has(id)) return 'duplicate'
    this.seenThisRun.add(id)
    const inWindow = this.windowStart !== undefined && start >= this.windowStart
    if (this.known.has(id)) return this.compared(entry, inWindow)
    // Outside the overlap window, coverage says it is stored; inside it, late uploads make only ids trustworthy.
    if (!inWindow && intervalContaining(this.covered, start)) return this.compared(entry, inWindow)
    if (this.o.since !== undefined && entry.localDate < this.o.since) return 'skipped'
    if (inWindow) return 'write'
    if (!this.listed) {
      await this.learnStoredKeys()
      if (this.known.has(id)) return this.compared(entry, inWindow)
    }
    return 'write'
  }

  /**
   * A stored activity: compared with Garmin's entry within the window (a reconcile: everywhere) by its
   * fingerprint. One that differs, or was never fingerprinted, is read and replaced if it changed.
   */
  private compared(entry: Listed, inWindow: boolean): Decision {
    if (!this.o.trackChanges || !(inWindow || this.reconciling)) return 'existing'
    return this.fingerprints.get(entry.activityId) === fingerprintOf(entry.body) ? 'existing' : 'update'
  }

  /** The whole list was paged from the top to its end, with nothing left out. */
  private completeListing(): boolean {
    return (
      this.fatalError === undefined &&
      !this.deadlineHit &&
      this.stopReason === 'end-of-history' &&
      (this.reconciling || (!this.state?.reconcile && this.o.since === undefined))
    )
  }

  /** A reconcile's last step: stored activities Garmin no longer lists are confirmed, then tombstoned. */
  private async afterCompleteListing(): Promise<void> {
    if (this.reconciling) await this.findDeletions()
    if (this.fatalError !== undefined || this.deadlineHit) return
    this.reconciledNow = true
    this.progress.reconcile = { lastAt: new Date(this.clock.now()).toISOString(), days: this.o.reconcileDays }
  }

  /** Every id the state or this run knows to be stored, minus those already tombstoned. */
  private storedIds(): Set<number> {
    const ids = new Set<number>(decodeCatalog(this.state?.catalog).keys())
    for (const id of this.known) ids.add(id)
    for (const id of this.progress.catalog?.keys() ?? []) ids.add(id)
    for (const id of decodeIds(this.state?.deleted ?? '')) ids.delete(id)
    return ids
  }

  private async findDeletions(): Promise<void> {
    const getActivity = this.garmin.getActivity?.bind(this.garmin)
    if (!getActivity) return
    const quarantined = new Set([
      ...this.invalidSeen.keys(),
      ...(this.state?.quarantine ?? []).map((q) => q.id),
    ])
    const candidates = [...this.storedIds()]
      .filter((id) => !this.seenThisRun.has(id) && !quarantined.has(String(id)))
      .sort((a, b) => b - a)
    if (candidates.length > MAX_CONFIRMATIONS)
      this.log({
        type: 'warning',
        message: `${candidates.length} stored activities are not in Garmin's list; confirming ${MAX_CONFIRMATIONS} now, the rest next reconcile`,
      })
    const todo = candidates.slice(0, MAX_CONFIRMATIONS)
    let next = 0
    const worker = async () => {
      while (next < todo.length && this.fatalError === undefined) {
        if (this.pastDeadline()) {
          this.deadlineHit = true
          return
        }
        const id = todo[next++]!
        try {
          await getActivity(id, this.abort.signal)
          // Garmin still has it: the listing moved under us (a deletion shifted the pages). Nothing to do.
        } catch (error) {
          if (!(error instanceof NotFoundError)) {
            // Not a confirmation: never a tombstone on a fault. A later reconcile asks again.
            if (isFatalWriteError(error) || exitCodeOf(error) !== EXIT.failure) this.fail(error)
            else this.recordError(id, `could not confirm a deletion: ${messageOf(error)}`, error)
            continue
          }
          await this.tombstone(id)
        }
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, todo.length) }, worker))
  }

  private async tombstone(id: number): Promise<void> {
    const key = tombstoneKey(this.o.prefix, id)
    const detectedAt = new Date(this.clock.now()).toISOString()
    let lastSeenAt = this.state?.reconcile?.lastAt
    if (lastSeenAt === undefined) {
      const info = await this.store.head(activityKey(this.o.prefix, id))
      lastSeenAt = info?.lastModified?.toISOString() ?? detectedAt
    }
    const body = JSON.stringify({ activityId: id, detectedAt, lastSeenAt })
    try {
      await this.createJson('tombstone', key, body)
    } catch (error) {
      if (isFatalWriteError(error)) return this.fail(error)
      return this.recordError(id, `could not write the tombstone ${key}: ${messageOf(error)}`, error)
    }
    this.deleted++
    this.progress.deleted?.add(id)
    this.log({ type: 'version', action: 'deleted', activityId: id, key })
  }

  /** --prune-deleted: the data object of every tombstoned activity moves into its history. */
  private async pruneDeleted(): Promise<void> {
    const deleted = decodeIds(this.state?.deleted ?? '')
    for (const id of this.progress.deleted ?? []) deleted.add(id)
    const stored = new Set(decodeCatalog(this.state?.catalog).keys())
    for (const id of this.known) stored.add(id)
    for (const id of deleted) {
      if (!stored.has(id) || this.fatalError !== undefined) continue
      const key = activityKey(this.o.prefix, id)
      try {
        const current = await this.store.get(key)
        if (current) {
          const historyFolder = historyFolderFor(this.o.prefix, id)
          const now = () => this.clock.now()
          await keepInHistory(
            { store: this.store, gate: this.gate, what: 'activity', historyFolder, now },
            current,
          )
          await this.gate.write('deletion of', key, 0, () => this.store.delete(key), undefined)
        }
        this.pruned++
        this.progress.pruned?.add(id)
        this.log({ type: 'version', action: 'pruned', activityId: id, key })
      } catch (error) {
        if (isFatalWriteError(error)) return this.fail(error)
        this.recordError(id, `could not move ${key} into the history: ${messageOf(error)}`, error)
      }
    }
  }

  /** One paginated listing of the data prefix: every `activity_<id>.json` already there is known. */
  private async learnStoredKeys(): Promise<void> {
    this.listed = true
    this.log({ type: 'listing-store', prefix: this.o.prefix })
    let keys = 0
    for await (const info of this.store.list(this.o.prefix)) {
      const id = activityIdFromKey(this.o.prefix, info.key)
      if (id === undefined) continue
      this.known.add(id)
      keys++
    }
    this.progress.listedStored = keys
    this.log({ type: 'listed-store', keys })
    await this.estimateWrites(keys)
  }

  /** Best effort: the total count lets the progress bar show an ETA on a backfill. */
  private async estimateWrites(stored: number): Promise<void> {
    if (this.o.since !== undefined || this.state?.backfillComplete || !this.garmin.countActivities) return
    try {
      const total = await this.garmin.countActivities(this.abort.signal)
      this.estimate = Math.max(0, total - stored)
      this.log({ type: 'estimate', toWrite: this.estimate })
    } catch {
      // The count only feeds the progress bar; the list call that follows reports real trouble.
    }
  }

  private nextStep(segment: Segment, entries: Listed[], limit: number): Step {
    // An empty page ends the list; without a startDate filter that is the beginning of the history.
    if (entries.length === 0)
      return segment.startDate ? { stop: 'since' } : { stop: 'end-of-history', beginning: true }
    const next = { next: { ...segment, start: segment.start + entries.length } }
    const lastStart = entries.findLast((e) => e.localDate !== undefined)?.startTimeGMT
    if (lastStart === undefined) return next
    const since = this.reconciling ? undefined : this.o.since
    if (since !== undefined) {
      // Within the startDate filter a short page is the last one; a UTC date two days before --since is
      // before it in every time zone.
      if (segment.startDate && entries.length < limit) return { stop: 'since' }
      if (lastStart.slice(0, 10) < addDays(since, -1)) return { stop: 'since' }
    }
    const belowWindow = this.windowStart === undefined || lastStart < this.windowStart
    const interval =
      belowWindow && !this.jumpsDisabled ? intervalContaining(this.covered, lastStart) : undefined
    if (interval) {
      if (interval.from === null) return { stop: 'caught-up', beginning: true }
      if (since !== undefined && interval.from.slice(0, 10) < addDays(since, -1)) return { stop: 'caught-up' }
      // Everything down to interval.from is stored: list from just above it (a day of slack for time zones).
      const endDate = addDays(interval.from.slice(0, 10), 1)
      if (endDate !== segment.endDate) {
        return {
          next: {
            start: 0,
            ...(segment.startDate ? { startDate: segment.startDate } : {}),
            endDate,
            resume: segment.resume ?? { ...segment, start: segment.start + entries.length },
          },
        }
      }
    }
    return next
  }

  private async writeAll(items: Item[]): Promise<void> {
    const tasks = items.filter((i) => i.decision === 'write' || i.decision === 'update')
    let next = 0
    const worker = async () => {
      while (next < tasks.length) {
        if (this.fatalError !== undefined) return
        if (this.pastDeadline()) {
          this.deadlineHit = true
          return
        }
        const item = tasks[next++]!
        await this.writeOne(item)
      }
    }
    await Promise.all(Array.from({ length: Math.min(this.o.concurrency, tasks.length) }, worker))
    for (const task of tasks) task.outcome ??= 'not-attempted'
  }

  /** A create-only JSON write through the dry-run gate. */
  private createJson(what: string, key: string, body: string): Promise<'created' | 'exists'> {
    return this.gate.write(
      what,
      key,
      Buffer.byteLength(body),
      () => this.store.putIfAbsent(key, body, 'application/json'),
      'created' as const,
    )
  }

  /** Garmin's entry in place of the stored one, the stored one kept in the history (versions.ts). */
  private replace(entry: Listed): Promise<ReplaceOutcome> {
    return replaceVersioned({
      store: this.store,
      gate: this.gate,
      what: 'activity',
      key: activityKey(this.o.prefix, entry.activityId),
      historyFolder: historyFolderFor(this.o.prefix, entry.activityId),
      body: entry.body,
      contentType: 'application/json',
      now: () => this.clock.now(),
    })
  }

  private async writeOne(item: Item): Promise<void> {
    const key = activityKey(this.o.prefix, item.entry.activityId)
    const { body } = item.entry
    try {
      if (item.decision === 'update') {
        item.outcome = await this.replace(item.entry)
      } else {
        item.outcome = await this.createJson('activity', key, body)
        // Stored already (another run, or a bucket adopted without a listing): it may be an older version.
        if (item.outcome === 'exists' && this.o.trackChanges) {
          item.decision = 'update'
          item.outcome = await this.replace(item.entry)
        }
      }
      this.consecutiveFailures = 0
    } catch (error) {
      if (isFatalWriteError(error)) {
        // One cause, reported once as the run's error: this write just did not happen.
        this.fatalError ??= error
        item.outcome = 'not-attempted'
        return
      }
      item.outcome = 'failed'
      item.error = error
      if (++this.consecutiveFailures >= MAX_CONSECUTIVE_WRITE_FAILURES) {
        this.fatalError ??= new StoreError(
          `${MAX_CONSECUTIVE_WRITE_FAILURES} writes in a row failed at ${this.store.location}; stopping (last: ${messageOf(error)})`,
          {
            hint: 'Check the storage, then run again: the next run resumes where this one stopped.',
            cause: error,
          },
        )
      }
    }
    this.writesDone++
    if (item.outcome === 'created') this.created++
    else if (item.outcome === 'exists' || item.outcome === 'unchanged') this.existing++
    else if (item.outcome === 'replaced') this.changed++
    else this.failed++
    if (item.outcome === 'replaced')
      this.log({ type: 'version', action: 'replaced', activityId: item.entry.activityId, key })
    this.emitProgress()
  }

  private emitProgress(): void {
    this.log({
      type: 'progress',
      done: this.writesDone,
      total: Math.max(this.writesPlanned, this.estimate ?? 0),
      created: this.created,
      existing: this.existing,
      failed: this.failed,
    })
  }

  /** Counts and coverage, in listing order, once every write of the page has settled. */
  private settle(items: Item[]): void {
    for (const item of items) {
      const { entry } = item
      switch (item.decision) {
        case 'duplicate':
          continue
        case 'existing':
          this.existing++
          this.stored(entry)
          continue
        case 'skipped':
          this.skipped++
          this.chain.gap()
          continue
        case 'invalid':
          this.quarantine(entry)
          this.chain.gap()
          continue
        case 'update':
        case 'write':
          if (item.outcome === 'created') {
            this.progress.createdUnsaved++
            if (this.progress.listedStored !== undefined) this.progress.listedStored++
            this.stored(entry, true)
          } else if (item.outcome === 'exists') {
            this.stored(entry)
          } else if (item.outcome === 'replaced' || item.outcome === 'unchanged') {
            // A fingerprint that differed from a stored body that did not: a replacement cut short
            // before its checkpoint. Recorded as a change too, so the per-activity datasets follow.
            const previous = this.fingerprints.get(entry.activityId)
            const cutShort = previous !== undefined && previous !== fingerprintOf(entry.body)
            if (item.outcome === 'replaced' || cutShort) {
              this.progress.changes?.push([entry.activityId, new Date(this.clock.now()).toISOString()])
              if (item.outcome === 'replaced')
                this.progress.changedUnsaved = (this.progress.changedUnsaved ?? 0) + 1
            }
            this.stored(entry, true)
          } else {
            if (item.outcome === 'failed')
              this.recordError(entry.activityId, messageOf(item.error), item.error)
            this.chain.gap()
          }
      }
    }
    this.emitProgress()
  }

  /** Recorded, reported and left out: no request is made for it, now or in later runs. */
  private quarantine(entry: Listed): void {
    const { id, reason, fingerprint } = entry.invalid ?? {
      id: 'null',
      reason: 'unusable entry',
      fingerprint: '',
    }
    if (!this.invalidSeen.has(id)) {
      const since = new Date(this.clock.now()).toISOString()
      this.invalidSeen.set(id, { id, reason, fingerprint, since })
      this.log({ type: 'warning', message: `list entry with activityId ${id} quarantined: ${reason}` })
    }
  }

  /** `current`: the store is known to hold this very entry, so its fingerprint is recorded. */
  private stored(entry: Listed, current = false): void {
    const start = entry.startTimeGMT
    if (current && this.o.trackChanges) {
      const fp = fingerprintOf(entry.body)
      this.fingerprints.set(entry.activityId, fp)
      this.progress.fingerprints?.set(entry.activityId, fp)
    }
    this.known.add(entry.activityId)
    this.progress.seen.set(entry.activityId, start)
    if (entry.catalog) this.progress.catalog?.set(entry.activityId, entry.catalog)
    if (this.progress.newest === undefined || start > this.progress.newest) this.progress.newest = start
    this.chain.stored(start)
  }

  private recordError(activityId: number | undefined, message: string, error?: unknown): void {
    if (activityId !== undefined)
      this.log({ type: 'warning', message: `activity ${activityId}: ${message}`, activityId })
    if (this.errors.length >= MAX_REPORTED_ERRORS) return
    const hint = isGarminS3Error(error) ? error.hint : undefined
    this.errors.push({
      ...(activityId === undefined ? {} : { activityId }),
      message,
      ...(hint ? { hint } : {}),
    })
  }

  private currentProgress(): Progress {
    this.progress.claims = this.chain.claims()
    return this.progress
  }

  private async checkpoint(): Promise<void> {
    if (await this.keeper.save(this.currentProgress(), this.writeState)) {
      this.progress.createdUnsaved = 0
      this.progress.changedUnsaved = 0
      this.log({ type: 'checkpoint', key: this.keeper.key })
    }
  }

  private async finish(): Promise<SyncReport> {
    const fatal = this.fatalError
    if (fatal !== undefined) {
      this.stopReason = 'fatal'
      this.errors.unshift({
        message: messageOf(fatal),
        ...(isGarminS3Error(fatal) && fatal.hint ? { hint: fatal.hint } : {}),
      })
    }
    const manifestKey = manifestKeyFor(this.o.prefix, this.startedAt, this.runId)
    // A run that walked the whole list saw every entry still quarantined; one that stopped early keeps
    // the ones it did not reach. They count until a valid version of them is stored.
    const complete = this.stopReason === 'caught-up' || this.stopReason === 'end-of-history'
    const quarantined = nextQuarantine(
      this.state?.quarantine ?? [],
      this.invalidSeen,
      this.validSeen,
      complete && this.o.since === undefined,
    )
    this.progress.quarantine = quarantined
    const partial = this.deadlineHit || this.failed > 0 || quarantined.length > 0
    let exitCode: ExitCode = fatal !== undefined ? exitCodeOf(fatal) : partial ? EXIT.partial : EXIT.ok
    // After a storage error the state and manifest usually cannot be written either: the same story.
    const sameStory = fatal instanceof StoreError

    try {
      this.progress.lastRun = {
        runId: this.runId,
        startedAt: new Date(this.startedAt).toISOString(),
        finishedAt: new Date(this.clock.now()).toISOString(),
        runner: this.o.original.runner,
        created: this.created,
        existing: this.existing,
        failed: this.failed,
        invalid: quarantined.length,
        partial: exitCode !== EXIT.ok,
        exitCode,
        manifestKey,
        stopReason: this.stopReason,
        ...(fatal !== undefined ? { error: messageOf(fatal) } : {}),
      }
      this.progress.countRun = true
      await this.checkpoint()
    } catch (error) {
      if (!sameStory) this.errors.push({ message: `could not save the sync state: ${messageOf(error)}` })
      if (exitCode === EXIT.ok || exitCode === EXIT.partial) exitCode = exitCodeOf(error)
    }
    this.log({ type: 'stop', reason: this.stopReason, message: describeStop(this.stopReason, fatal) })

    const finishedAt = this.clock.now()
    const activities = (): SyncReport => ({
      runId: this.runId,
      startedAt: new Date(this.startedAt).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - this.startedAt,
      location: this.store.location,
      prefix: this.o.prefix,
      created: this.created,
      existing: this.existing,
      skipped: this.skipped,
      failed: this.failed,
      ...(this.changed > 0 ? { changed: this.changed } : {}),
      ...(this.deleted > 0 ? { deleted: this.deleted } : {}),
      ...(this.pruned > 0 ? { pruned: this.pruned } : {}),
      ...(this.reconciledNow && this.reconciling ? { reconciled: true } : {}),
      invalid: quarantined.length,
      quarantined: quarantined.slice(0, MAX_REPORTED_INVALID),
      partial: exitCode !== EXIT.ok,
      dryRun: this.o.dryRun,
      requests: {
        garmin: countsSince(this.garmin.stats().requests, this.garminBefore),
        store: countsSince(this.store.stats().requests, this.storeBefore),
      },
      errors: [...this.errors],
      exitCode,
      stopReason: this.stopReason,
      manifestKey,
      failedRunsInARow: failedRunsInARow(this.state?.recentRuns, this.failed),
    })
    // The datasets run here, after the activity checkpoint they build on, so that the run record below
    // (lastRun and the manifest) describes the whole run.
    let final = activities()
    if (this.afterActivities && !sameStory) {
      final = await this.afterActivities(final, this.storedActivities())
      // The streak counts the datasets' failures too: what the failed-items alarm watches.
      final = { ...final, failedRunsInARow: failedRunsInARow(this.state?.recentRuns, failedItems(final)) }
      exitCode = final.exitCode
      this.recordRun(final)
      try {
        this.progress.countRun = false
        await this.checkpoint()
      } catch (error) {
        final.errors.push({ message: `could not save the sync state: ${messageOf(error)}` })
        if (exitCode === EXIT.ok || exitCode === EXIT.partial) exitCode = exitCodeOf(error)
      }
    }
    const body = manifestBody({ ...final, exitCode, partial: exitCode !== EXIT.ok }, this.o)
    try {
      await this.gate.write(
        'run manifest',
        manifestKey,
        encoder.encode(body).byteLength,
        () => this.store.putIfAbsent(manifestKey, body, 'application/json'),
        'created',
      )
    } catch (error) {
      if (!sameStory) {
        const problem = { message: `could not write the run manifest ${manifestKey}: ${messageOf(error)}` }
        this.errors.push(problem)
        if (this.afterActivities) final.errors.push(problem)
      }
      if (exitCode === EXIT.ok) exitCode = exitCodeOf(error)
    }
    return this.afterActivities ? { ...final, exitCode, partial: exitCode !== EXIT.ok } : activities()
  }

  /** What this run stored (a dry run: would have stored), for the datasets that follow it. */
  private storedActivities(): StoredActivities {
    let oldest: string | undefined
    for (const start of this.progress.seen.values())
      if (oldest === undefined || start < oldest) oldest = start
    return { ids: new Set(this.progress.seen.keys()), ...(oldest ? { oldestStartTimeGMT: oldest } : {}) }
  }

  /** lastRun from the whole run's report (activities and datasets). */
  private recordRun(report: SyncReport): void {
    const previous = this.progress.lastRun
    if (!previous) return
    const datasets = report.datasets
      ? Object.fromEntries(
          Object.entries(report.datasets).map(([name, c]) => [
            name,
            { created: c.created, failed: c.failed, ...(c.error === undefined ? {} : { error: c.error }) },
          ]),
        )
      : undefined
    this.progress.lastRun = {
      ...previous,
      finishedAt: report.finishedAt,
      durationMs: report.durationMs,
      partial: report.exitCode !== EXIT.ok,
      exitCode: report.exitCode,
      stopReason: report.stopReason,
      ...(datasets ? { datasets } : {}),
      ...(report.errors[0] && report.exitCode !== EXIT.ok && report.exitCode !== EXIT.partial
        ? { error: report.errors[0].message }
        : {}),
    }
  }
}
