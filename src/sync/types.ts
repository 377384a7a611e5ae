import type { Clock } from '../clock.js'
import type { ExitCode } from '../errors.js'
import type { ActivitySource } from '../garmin/types.js'
import type { Store } from '../store/types.js'
import type { DatasetCatalogue } from './datasets.js'
import type { QuarantinedEntry } from './quarantine.js'

export type Runner = 'cli' | 'lambda' | 'github-actions'

export interface SyncOptions {
  /** Data prefix, `a/b/` form (already validated), e.g. `raw-data/garmin-json/`. */
  prefix: string
  /** YYYY-MM-DD: only activities that started (local date) on or after this day. */
  since?: string
  /** Only the last N days (from today, UTC); the same as `since` = today - N. */
  daysBack?: number
  /** Rescan the whole history against a fresh listing of the store (repairs gaps, the datasets' too). */
  full?: boolean
  /** Plan and report, write nothing (not even state or manifest). */
  dryRun?: boolean
  /** Parallel writes, default 4. */
  concurrency?: number
  /** Epoch ms (of the injected clock): stop cleanly and checkpoint before it. */
  deadline?: number
  runner: Runner
  toolVersion: string
  /** First page size of the activity list, default 100; later pages grow up to `maxPageSize`. */
  pageSize?: number
  /**
   * Default 200: a page's entries live until all its writes are done (and the next page is fetched
   * meanwhile), so this bounds memory; the state is checkpointed once per page, about 0.5 % more requests.
   */
  maxPageSize?: number
  /** Activities that started within this many days of the newest stored one are re-checked by id, default 7. */
  overlapDays?: number
  /** What to copy (datasets.ts); default `['activities']`. Per-activity datasets imply `activities`. */
  datasets?: readonly string[]
  /** Daily datasets: the last N days are fetched again every run (Garmin revises them), default 3. */
  reviseDays?: number
  /** Reload requests per run for archived days, oldest first (default 25; 0: none). */
  reloadBudget?: number
  /**
   * Follow Garmin's edits (default true, docs/changes.md): a changed list entry replaces the stored one,
   * whose old body goes to the history. False keeps the original skip-only behaviour.
   */
  trackChanges?: boolean
  /** Compare the whole activity list now: changes and deletions everywhere. */
  reconcile?: boolean
  /** Reconcile by itself once the last one is this many days old (default 7; 0: only when asked). */
  reconcileDays?: number
  /** Move the data object of an activity Garmin deleted into the history. */
  pruneDeleted?: boolean
}

export interface SyncError {
  activityId?: number
  /** The dataset (other than activities) the error is about, with its day for daily ones. */
  dataset?: string
  date?: string
  message: string
  /** The next step, when there is one. */
  hint?: string
}

export interface SyncReport {
  runId: string
  startedAt: string
  finishedAt: string
  durationMs: number
  /** Where the data went: `s3://bucket` or a folder path. */
  location: string
  prefix: string
  /** Activities written by this run (would be written, with dryRun). */
  created: number
  /** Activities listed by Garmin that were already stored. */
  existing: number
  /** Activities listed but outside the requested range (`since` / `daysBack`). */
  skipped: number
  /** Activities replaced by Garmin's newer version, the old one kept in the history (absent: none). */
  changed?: number
  /** Activities confirmed deleted in Garmin by this run, a tombstone written (absent: none). */
  deleted?: number
  /** Data objects of deleted activities moved into the history (--prune-deleted; absent: none). */
  pruned?: number
  /** True when this run compared the whole activity list (a reconcile, docs/changes.md). */
  reconciled?: boolean
  failed: number
  /**
   * List entries quarantined (quarantine.ts): not stored because they cannot be (no usable id or start
   * time, nested too deep, over 1 MiB), and reported by every run until Garmin sends a valid version.
   */
  invalid: number
  /** Those entries (the first 100) with their reasons. */
  quarantined: QuarantinedEntry[]
  /** True when the run stopped early, some activities failed or some entries are quarantined. */
  partial: boolean
  dryRun: boolean
  /** Requests made during this run, by kind. The store counts include the run manifest's own PUT. */
  requests: { garmin: Record<string, number>; store: Record<string, number> }
  errors: SyncError[]
  /** 0 ok, 1 failure, 3 authentication needed, 4 rate limited / unavailable, 5 partial. */
  exitCode: ExitCode
  /** Why paging ended. */
  stopReason: StopReason
  /** The run manifest's key (not written with dryRun). */
  manifestKey: string
  /**
   * Runs in a row, this one included, that left items they could not store: activities, dataset items
   * or a whole dataset (the state keeps the last 10 runs). What the deployment's failed-items alarm
   * watches. 0 when this run stored them all.
   */
  failedRunsInARow?: number
  /** Per dataset, when more than activities was asked for (`--data`). */
  /** `sync --notify`: what each webhook answered (the CLI adds it; hosts only, never a URL). */
  notifications?: { host: string; shape: string; ok: boolean; status?: number; error?: string }[]
  datasets?: Record<string, DatasetCounts>
  /** Archived days and their reloads, when a daily dataset has any (docs/archive.md). */
  archive?: ArchiveReport
}

/** What one dataset did in a run. Daily datasets count days; per-activity ones count activities. */
export interface DatasetCounts {
  created: number
  /** Daily: a revised day whose content changed, replaced by compare-and-swap. */
  updated: number
  /** Fetched again, same content: not rewritten. */
  unchanged: number
  /** Already stored (write-once datasets). */
  existing: number
  /** Days without data (HTTP 204 or empty), remembered so they are not fetched again. */
  noData: number
  failed: number
  /** Garmin calls made for this dataset. */
  requests: number
  /** Days Garmin sent archived (summary without samples): not stored, kept for a reload (archive.ts). */
  archived?: number
  /** Archived days reloaded and stored by this run. */
  restored?: number
  /**
   * The dataset failed as a whole (e.g. the listing it starts from failed), so none of its items was
   * tried: the error's message. The next run tries the dataset again.
   */
  error?: string
}

/** What the reloads of archived days did in a run (archive.ts); absent when nothing is archived. */
export interface ArchiveReport {
  /** Days (across datasets) still archived after this run. */
  pending: number
  /** Reload requests sent, DENIED included. */
  reloads: number
  /** Days brought back and stored, days Garmin had no files for. */
  restored: number
  noFiles: number
  /** Garmin's daily quota was spent (now or earlier today): reloads resume the next UTC day. */
  denied: boolean
  budget: number
}

export type StopReason =
  | 'caught-up' // reached history that is already stored all the way down
  | 'end-of-history' // Garmin has nothing older
  | 'since' // reached the --since / --days-back limit
  | 'deadline' // stopped before the time budget ran out
  | 'interrupted' // the caller's signal asked to stop (Ctrl-C); stopped as cleanly as at a deadline
  | 'fatal' // an error that stops everything (authentication, rate limit, storage)

export type SyncEvent =
  | {
      type: 'start'
      mode: 'first-run' | 'incremental' | 'full'
      location: string
      prefix: string
      since?: string
      dryRun: boolean
      newestStored?: string
      backfillComplete: boolean
    }
  | { type: 'listing-store'; prefix: string }
  | { type: 'listed-store'; keys: number }
  | {
      type: 'page'
      page: number
      start: number
      limit: number
      received: number
      toWrite: number
      oldest?: string
    }
  | { type: 'estimate'; toWrite: number }
  | { type: 'progress'; done: number; total: number; created: number; existing: number; failed: number }
  | { type: 'dry-run'; message: string; key: string; bytes: number }
  | { type: 'checkpoint'; key: string }
  | { type: 'warning'; message: string; activityId?: number }
  | { type: 'version'; action: 'replaced' | 'deleted' | 'pruned'; activityId: number; key: string }
  | { type: 'reconcile'; reason: 'asked' | 'due' }
  | ({ type: 'dataset-progress'; dataset: string; done: number; total: number } & DatasetCounts)
  | { type: 'stop'; reason: StopReason; message: string }

export type SyncLog = (event: SyncEvent) => void

/** What Garmin must offer; `countActivities` (optional) only improves the progress estimate. */
export type SyncSource = ActivitySource & {
  countActivities?(signal?: AbortSignal): Promise<number>
  /** One activity (`/activity-service/activity/{id}`): a NotFoundError confirms a deletion. */
  getActivity?(id: number, signal?: AbortSignal): Promise<unknown>
}

/** The activities an activity phase stored (or, in a dry run, would have): what the datasets follow. */
export interface StoredActivities {
  ids: ReadonlySet<number>
  /** The oldest `startTimeGMT` among them. */
  oldestStartTimeGMT?: string
}

export interface SyncDeps {
  garmin: SyncSource
  store: Store
  clock?: Clock
  log?: SyncLog
  /** Aborting it stops the run cleanly, as at a deadline: writes in flight finish, the checkpoint is saved. */
  signal?: AbortSignal
  /** Run id generator (tests make it deterministic). Default: 8 random hex characters. */
  newRunId?: () => string
  /**
   * The rest of the run (the datasets, extras.ts): called after the activity checkpoint and before the
   * run record, with the activities' report; what it returns is what `lastRun`, the manifest and the
   * caller get, so the three always agree. `stored`: the activities this run stored, or in a dry run
   * would have stored, which the state read back from the store does not hold in a dry run.
   */
  afterActivities?: (report: SyncReport, stored: StoredActivities) => Promise<SyncReport>
  /**
   * What `options.datasets` names are looked up in (datasets.ts). Default: the production catalogue,
   * DATASETS; a test passes its own to add a dataset without touching the client or the pipeline.
   */
  catalogue?: DatasetCatalogue
}
