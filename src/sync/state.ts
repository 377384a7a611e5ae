/**
 * The sync state object (`<controlPrefix>state.json`): a checkpoint, not data. One object per control
 * prefix holds a section per data prefix, so two data prefixes under one parent never collide.
 * Saved by compare-and-swap (cas-document.ts); on a conflict the remote state is re-read and this run's progress is
 * merged into it again (progress is a set of facts, so merging is a union), so concurrent runs never
 * lose each other's checkpoints.
 */
import type { Store } from '../store/types.js'
import { isRecord } from '../unknown.js'
import { CasDocument, type ConditionalWrite } from './cas-document.js'
import { type Catalog, type CatalogEntry, decodeCatalog, encodeCatalog, isCatalog } from './catalog.js'
import { parseControlObject } from './control-object.js'
import { type Interval, isInterval, mergeIntervals } from './coverage.js'
import { ACTIVITIES } from './datasets.js'
import { decodeFingerprints, encodeFingerprints } from './fingerprint.js'
import { decodeIds, encodeIds } from './id-list.js'
import { isQuarantinedEntry, MAX_QUARANTINED, type QuarantinedEntry } from './quarantine.js'
import { DAY_MS, formatGmt, parseGmt } from './time.js'

export const STATE_VERSION = 1
const MAX_RECENT = 1000
/** Run summaries kept in the state, newest first, so `status` needs no listing of the run manifests. */
const MAX_RECENT_RUNS = 10
const MAX_ERROR_CHARS = 300
/** Changes remembered (for the per-activity datasets to fetch again): the newest ones. */
const MAX_CHANGES = 1000

/**
 * Where control objects (state, run manifests) live for a data prefix: a `_garmin-s3/` folder beside
 * it, so `raw-data/garmin-json/*.json` keeps matching activities only.
 * `raw-data/garmin-json/` -> `raw-data/_garmin-s3/`; `garmin-json/` -> `_garmin-s3/`; `` -> `_garmin-s3/`.
 */
export function controlPrefixFor(prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  const slash = trimmed.lastIndexOf('/')
  return `${slash < 0 ? '' : trimmed.slice(0, slash + 1)}_garmin-s3/`
}

export function stateKeyFor(prefix: string): string {
  return `${controlPrefixFor(prefix)}state.json`
}

export interface LastRun {
  runId: string
  startedAt: string
  finishedAt: string
  runner: string
  created: number
  existing: number
  failed: number
  /** List entries quarantined after the run (absent in states written before quarantine). */
  invalid?: number
  partial: boolean
  exitCode: number
  manifestKey: string
  /** Why paging ended (absent in states written before it was recorded). */
  stopReason?: string
  /** The error that stopped the run, when one did (a message for users: never a token). */
  error?: string
  /** The whole run's duration (absent in states written before it was recorded). */
  durationMs?: number
  /**
   * Per-dataset created/failed, for a run with `--data` (the manifest has the full counts); `error`
   * when the dataset failed as a whole (none of its items was tried).
   */
  datasets?: Record<string, { created: number; failed: number; error?: string }>
}

/** A run's counts, as the run record and the report both have them. */
interface RunFailures {
  failed: number
  datasets?: Record<string, { failed: number; error?: string }> | undefined
}

/**
 * The run record's per-dataset failures other than activities' (whose `failed` repeats the run's):
 * failed items, and the error of each dataset that failed as a whole. Read defensively: the record
 * may come from an older or damaged state.
 */
export function datasetFailures(run: RunFailures): {
  failed: Record<string, number>
  errored: Record<string, string>
} {
  const failed: Record<string, number> = {}
  const errored: Record<string, string> = {}
  for (const [name, counts] of Object.entries(run.datasets ?? {})) {
    if (name === ACTIVITIES || typeof counts !== 'object' || counts === null) continue
    if (Number.isSafeInteger(counts.failed) && counts.failed > 0) failed[name] = counts.failed
    if (typeof counts.error === 'string') errored[name] = counts.error
  }
  return { failed, errored }
}

/**
 * Items a run could not store, by dataset: its activities (the run's `failed`), each other dataset's
 * failed items, and one for a dataset that failed as a whole. Datasets without failures may be absent.
 */
export function failedItemsByDataset(run: RunFailures): Record<string, number> {
  const { failed, errored } = datasetFailures(run)
  const items: Record<string, number> = { [ACTIVITIES]: Number.isSafeInteger(run.failed) ? run.failed : 0 }
  for (const [name, n] of Object.entries(failed)) items[name] = n
  for (const name of Object.keys(errored)) items[name] = (items[name] ?? 0) + 1
  return items
}

/** Items a run could not store: its activities, the other datasets' items, one per dataset failed whole. */
export function failedItems(run: RunFailures): number {
  return Object.values(failedItemsByDataset(run)).reduce((sum, n) => sum + n, 0)
}

/**
 * How many runs in a row, this one included, left items they could not store (failedItems): this
 * run's failures and the state's recent runs (newest first) before it. 0 when this run stored everything.
 */
export function failedRunsInARow(previous: readonly LastRun[] | undefined, failedNow: number): number {
  if (failedNow === 0) return 0
  let streak = 1
  for (const run of previous ?? []) {
    if (failedItems(run) === 0) break
    streak++
  }
  return streak
}

export interface DatasetState {
  /** The newest `startTimeGMT` stored. */
  newestStartTimeGMT?: string
  /** Stretches of history known to be fully stored (see coverage.ts). */
  covered: Interval[]
  /** True once the coverage reaches the beginning of the history. Derived from `covered`, for readers. */
  backfillComplete: boolean
  /** Ids (with start times) stored within the overlap window of the newest: re-checked by id, not by time. */
  recent: Array<[activityId: number, startTimeGMT: string]>
  counts: { stored: number; created: number; runs: number }
  lastRun?: LastRun
  /** The oldest `startTimeGMT` stored (as far as sync has seen). */
  oldestStartTimeGMT?: string
  /** The last MAX_RECENT_RUNS runs, newest first. */
  recentRuns?: LastRun[]
  /** When the last run without a fatal error (exit 0 or 5) finished. */
  lastSuccessAt?: string
  /** Stored activity ids by year and type (catalog.ts), for `status --deep`. */
  catalog?: Catalog
  /** List entries that cannot be stored, with their reasons (quarantine.ts). */
  quarantine?: QuarantinedEntry[]
  /** Content fingerprints aligned with the catalog's ids (fingerprint.ts, docs/changes.md). */
  fingerprints?: string
  /** Activities Garmin confirmed deleted (a tombstone written), an id list (id-list.ts). */
  deleted?: string
  /** The newest activity replacements: id and when (ISO), oldest first; per-activity datasets follow them. */
  changes?: Array<[activityId: number, at: string]>
  /** Activities replaced by a newer version from Garmin, over all runs. */
  changed?: number
  /** The last complete reconcile (the whole list compared), and the interval of automatic ones. */
  reconcile?: { lastAt: string; days: number }
}

export interface StateFile {
  version: typeof STATE_VERSION
  updatedAt: string
  datasets: Record<string, DatasetState>
}

function isLastRun(value: unknown): value is LastRun {
  return isRecord(value) && typeof value.runId === 'string' && typeof value.startedAt === 'string'
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0
}

/** Keeps what is valid of one dataset section; anything malformed is dropped, which is always safe. */
function parseDataset(value: unknown): DatasetState | undefined {
  if (!isRecord(value)) return undefined
  const covered = Array.isArray(value.covered) ? value.covered.filter(isInterval) : []
  const recent = Array.isArray(value.recent)
    ? value.recent.filter(
        (r): r is [number, string] =>
          Array.isArray(r) && Number.isSafeInteger(r[0]) && parseGmt(r[1]) !== undefined,
      )
    : []
  const counts = isRecord(value.counts) ? value.counts : {}
  const newest =
    parseGmt(value.newestStartTimeGMT) === undefined ? undefined : (value.newestStartTimeGMT as string)
  const oldest =
    parseGmt(value.oldestStartTimeGMT) === undefined ? undefined : (value.oldestStartTimeGMT as string)
  const recentRuns = Array.isArray(value.recentRuns) ? value.recentRuns.filter(isLastRun) : undefined
  const merged = mergeIntervals(covered)
  return {
    ...(newest ? { newestStartTimeGMT: newest } : {}),
    covered: merged,
    backfillComplete: merged.some((i) => i.from === null),
    recent,
    counts: { stored: count(counts.stored), created: count(counts.created), runs: count(counts.runs) },
    ...(isRecord(value.lastRun) ? { lastRun: value.lastRun as unknown as LastRun } : {}),
    ...(oldest ? { oldestStartTimeGMT: oldest } : {}),
    ...(recentRuns ? { recentRuns: recentRuns.slice(0, MAX_RECENT_RUNS) } : {}),
    ...(typeof value.lastSuccessAt === 'string' ? { lastSuccessAt: value.lastSuccessAt } : {}),
    ...(isCatalog(value.catalog) ? { catalog: value.catalog } : {}),
    ...(Array.isArray(value.quarantine)
      ? { quarantine: value.quarantine.filter(isQuarantinedEntry).slice(0, MAX_QUARANTINED) }
      : {}),
    ...(typeof value.fingerprints === 'string' ? { fingerprints: value.fingerprints } : {}),
    ...(typeof value.deleted === 'string' ? { deleted: value.deleted } : {}),
    ...(Array.isArray(value.changes)
      ? {
          changes: value.changes
            .filter(
              (c): c is [number, string] =>
                Array.isArray(c) && Number.isSafeInteger(c[0]) && typeof c[1] === 'string',
            )
            .slice(-MAX_CHANGES),
        }
      : {}),
    ...(count(value.changed) > 0 ? { changed: count(value.changed) } : {}),
    ...(isRecord(value.reconcile) && typeof value.reconcile.lastAt === 'string'
      ? { reconcile: { lastAt: value.reconcile.lastAt, days: count(value.reconcile.days) } }
      : {}),
  }
}

/** Parses a state object. Throws StoreError for a state written by a newer version (never overwrite it). */
export function parseStateFile(text: string, key: string): StateFile | undefined {
  return parseControlObject(text, key, STATE_VERSION, parseDataset) as StateFile | undefined
}

/** Reads the state of one data prefix (for `status`-like readers). Undefined when there is none. */
export async function readSyncState(store: Store, prefix: string): Promise<DatasetState | undefined> {
  const key = stateKeyFor(prefix)
  const object = await store.get(key)
  if (!object) return undefined
  return parseStateFile(new TextDecoder().decode(object.body), key)?.datasets[prefix]
}

/** This run's progress, re-applied to whatever the remote state is at each save. */
export interface Progress {
  claims: Interval[]
  /** Stored activities seen in this run: candidates for `recent`. */
  seen: Map<number, string>
  newest?: string
  /** Created since the last successful save. */
  createdUnsaved: number
  /** Activities counted by a listing of the store in this run (plus those created after it). */
  listedStored?: number
  overlapDays: number
  lastRun?: LastRun
  /** Count this run in `counts.runs` (only on the final save). */
  countRun: boolean
  /** Year and type of the stored activities seen in this run (for the catalog). */
  catalog?: Map<number, CatalogEntry>
  /** The quarantine as this run leaves it (set on the final save only). */
  quarantine?: QuarantinedEntry[]
  /** Fingerprints of entries this run compared or wrote (fingerprint.ts). */
  fingerprints?: Map<number, string>
  /** Tombstones written by this run, and data objects it moved into the history (--prune-deleted). */
  deleted?: Set<number>
  pruned?: Set<number>
  /** Replacements made by this run (id, ISO time); `changedUnsaved` counts those since the last save. */
  changes?: Array<[number, string]>
  changedUnsaved?: number
  /** Set once this run compared the whole list. */
  reconcile?: { lastAt: string; days: number }
}

/** The catalog and the fingerprints aligned with it, with this run's facts applied. */
function catalogAndFingerprints(
  current: DatasetState | undefined,
  p: Progress,
): { catalog?: Catalog; fingerprints?: string } {
  const added = p.catalog?.size ?? 0
  const pruned = p.pruned?.size ?? 0
  const newFingerprints = p.fingerprints?.size ?? 0
  if (added === 0 && pruned === 0 && newFingerprints === 0)
    return {
      ...(current?.catalog ? { catalog: current.catalog } : {}),
      ...(current?.fingerprints ? { fingerprints: current.fingerprints } : {}),
    }
  const entries = decodeCatalog(current?.catalog)
  const before = [...entries.keys()].sort((a, b) => a - b)
  const known = decodeFingerprints(before, current?.fingerprints)
  for (const [id, entry] of p.catalog ?? []) entries.set(id, entry)
  for (const [id, fp] of p.fingerprints ?? []) if (entries.has(id)) known.set(id, fp)
  for (const id of p.pruned ?? []) entries.delete(id)
  const ids = [...entries.keys()].sort((a, b) => a - b)
  const fingerprints = known.size > 0 ? encodeFingerprints(ids, known) : undefined
  return {
    ...(entries.size > 0 ? { catalog: encodeCatalog(entries) } : {}),
    ...(fingerprints ? { fingerprints } : {}),
  }
}
export function applyProgress(current: DatasetState | undefined, p: Progress): DatasetState {
  const covered = mergeIntervals([...(current?.covered ?? []), ...p.claims])
  const candidates = [current?.newestStartTimeGMT, p.newest].filter((t): t is string => t !== undefined)
  const newest = candidates.sort().at(-1)
  const recentMap = new Map<number, string>(current?.recent ?? [])
  for (const [id, start] of p.seen) recentMap.set(id, start)
  const windowStart = newest ? formatGmt(parseGmt(newest)! - p.overlapDays * DAY_MS) : undefined
  const recent = [...recentMap]
    .filter(([, start]) => windowStart === undefined || start >= windowStart)
    .sort((a, b) => (a[1] < b[1] ? 1 : a[1] > b[1] ? -1 : a[0] - b[0]))
    .slice(0, MAX_RECENT)
  const stored = Math.max((current?.counts.stored ?? 0) + p.createdUnsaved, p.listedStored ?? 0)
  const lastRun = p.lastRun ?? current?.lastRun
  let oldest = current?.oldestStartTimeGMT
  for (const start of p.seen.values()) if (oldest === undefined || start < oldest) oldest = start
  const recentRuns = p.lastRun
    ? [
        boundedRun(p.lastRun),
        ...(current?.recentRuns ?? (current?.lastRun ? [current.lastRun] : [])).filter(
          (r) => r.runId !== p.lastRun?.runId,
        ),
      ].slice(0, MAX_RECENT_RUNS)
    : current?.recentRuns
  const succeeded = p.lastRun && (p.lastRun.exitCode === 0 || p.lastRun.exitCode === 5)
  const lastSuccessAt = succeeded ? p.lastRun?.finishedAt : current?.lastSuccessAt
  const { catalog, fingerprints } = catalogAndFingerprints(current, p)
  const quarantine = p.quarantine ?? current?.quarantine
  const deleted = decodeIds(current?.deleted ?? '')
  for (const id of p.deleted ?? []) deleted.add(id)
  const changes = [...(current?.changes ?? [])]
  const had = new Set(changes.map(([id, at]) => `${id} ${at}`))
  for (const change of p.changes ?? []) if (!had.has(`${change[0]} ${change[1]}`)) changes.push(change)
  changes.sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : a[0] - b[0]))
  const changed = (current?.changed ?? 0) + (p.changedUnsaved ?? 0)
  const reconcile =
    p.reconcile && (!current?.reconcile || current.reconcile.lastAt <= p.reconcile.lastAt)
      ? p.reconcile
      : current?.reconcile
  return {
    ...(newest ? { newestStartTimeGMT: newest } : {}),
    covered,
    backfillComplete: covered.some((i) => i.from === null),
    recent,
    counts: {
      stored,
      created: (current?.counts.created ?? 0) + p.createdUnsaved,
      runs: (current?.counts.runs ?? 0) + (p.countRun ? 1 : 0),
    },
    ...(lastRun ? { lastRun: boundedRun(lastRun) } : {}),
    ...(oldest ? { oldestStartTimeGMT: oldest } : {}),
    ...(recentRuns ? { recentRuns } : {}),
    ...(lastSuccessAt ? { lastSuccessAt } : {}),
    ...(catalog ? { catalog } : {}),
    ...(quarantine && quarantine.length > 0 ? { quarantine } : {}),
    ...(fingerprints ? { fingerprints } : {}),
    ...(deleted.size > 0 ? { deleted: encodeIds(deleted) } : {}),
    ...(changes.length > 0 ? { changes: changes.slice(-MAX_CHANGES) } : {}),
    ...(changed > 0 ? { changed } : {}),
    ...(reconcile ? { reconcile } : {}),
  }
}

function boundedRun(run: LastRun): LastRun {
  return run.error !== undefined && run.error.length > MAX_ERROR_CHARS
    ? { ...run, error: `${run.error.slice(0, MAX_ERROR_CHARS - 3)}...` }
    : run
}

/** Loads and saves the state object by compare-and-swap, re-reading and re-applying on conflict. */
export class StateKeeper {
  private readonly doc: CasDocument<StateFile>
  readonly key: string

  constructor(
    store: Store,
    private readonly prefix: string,
    private readonly now: () => number,
    private readonly onWarning: (message: string) => void,
  ) {
    this.key = stateKeyFor(prefix)
    this.doc = new CasDocument(store, this.key, parseStateFile)
  }

  async load(): Promise<DatasetState | undefined> {
    const { present, value } = await this.doc.load()
    if (present && !value) this.onWarning(`${this.key} is not a state garmin-s3 can read; it will be rebuilt`)
    return value?.datasets[this.prefix]
  }

  current(): DatasetState | undefined {
    return this.doc.value()?.datasets[this.prefix]
  }

  /**
   * Applies `progress` to the latest state and writes it with compare-and-swap through `write`
   * (the dry-run gate decides whether it really writes). Returns false when nothing changed.
   */
  async save(progress: Progress, write: ConditionalWrite): Promise<boolean> {
    const written = await this.doc.update((file) => {
      const before = file?.datasets[this.prefix]
      const next = applyProgress(before, progress)
      if (before && !progress.lastRun && sameContent(before, next)) return undefined
      return {
        version: STATE_VERSION,
        updatedAt: new Date(this.now()).toISOString(),
        datasets: { ...(file?.datasets ?? {}), [this.prefix]: next },
      }
    }, write)
    return written !== undefined
  }
}

function sameContent(a: DatasetState, b: DatasetState): boolean {
  return JSON.stringify({ ...a, lastRun: undefined }) === JSON.stringify({ ...b, lastRun: undefined })
}
