import type { ControlObjectSummary } from '../sync/control-object.js'
import type { DatasetStateSummary } from '../sync/dataset-state.js'
import type { ArchiveStatus, DatasetStatus } from '../sync/dataset-status.js'
import type { RepairSummary } from '../sync/repair.js'
/**
 * The `status --json` object (documented in docs/json.md). Stable: fields are only ever added. Times are ISO 8601
 * UTC strings, activity times Garmin's `YYYY-MM-DD HH:MM:SS` (UTC); what could not be learned is
 * `null` (with a `reason` where there is one), never left out.
 */
import type { NextRun } from './schedule.js'

export const STATUS_SCHEMA_VERSION = 1

export type Verdict = 'OK' | 'WARN' | 'FAIL'

export type HealthCode =
  | 'nothing-synced'
  | 'auth-failed'
  | 'no-state'
  | 'state-unreadable'
  | 'datasets-state-unreadable'
  | 'stale'
  | 'last-run-failures'
  | 'quarantined'
  | 'refresh-token-old'
  | 'drift'
  | 'alarm'
  | 'alerts-unconfirmed'

export interface HealthCause {
  code: HealthCode
  level: 'WARN' | 'FAIL'
  /** What is wrong, in one sentence. */
  message: string
  /** What to do about it. */
  next: string
}

export interface Health {
  verdict: Verdict
  /** Worst first; empty when OK. */
  causes: HealthCause[]
  /** The one next step for OK (e.g. nothing to do). */
  next: string | null
}

export interface RunSummary {
  runId: string
  startedAt: string
  finishedAt: string
  durationMs: number | null
  /** `cli`, `lambda` or `github-actions`. */
  runner: string
  created: number
  existing: number
  failed: number
  /** Items of the other datasets (`--data`) that failed, by dataset; `{}` when none did. */
  datasetsFailed: Record<string, number>
  /**
   * The other datasets that failed as a whole (none of their items was tried, e.g. a listing failed),
   * with the error's message; `{}` when none did.
   */
  datasetsErrored: Record<string, string>
  partial: boolean
  exitCode: number
  stopReason: string | null
  error: string | null
  manifestKey: string
}

/** The state object (`_garmin-s3/state.json`) as status found it. */
export type StateSummary = ControlObjectSummary

export interface ActivitySummary {
  /** From the state; null without one. */
  stored: number | null
  newest: string | null
  oldest: string | null
  /** True once the whole history has been copied. */
  historyComplete: boolean | null
  /** List entries sync quarantined (src/sync/quarantine.ts): not storable, reported by every run. */
  quarantined: number | null
  /** Only looked at when there is no state: does the data prefix hold anything at all? */
  dataPresent: boolean | null
  /** Edits and deletions followed (docs/changes.md); null without a state. */
  changes: ChangeSummary | null
}

export interface ChangeSummary {
  /** Activities replaced by a newer version from Garmin (old versions in the history), over all runs. */
  changed: number
  /** Activities confirmed deleted in Garmin (a tombstone each). */
  deleted: number
  /** When the whole list was last compared; null before the first reconcile. */
  lastReconcileAt: string | null
  /** When the next automatic reconcile is due; null when automatic ones are off (or none ran yet: the next run). */
  nextReconcileDue: string | null
  /** The interval of automatic reconciles the last one recorded (0: only `sync --reconcile`). */
  reconcileDays: number | null
}

export interface DeepSummary {
  /** Every object under the data prefix (control objects excluded). */
  objects: number
  bytes: number
  /** Objects named `activity_<id>.json`. */
  activities: number
  /** Activities by local start year / by `activityType.typeKey`, from the state's catalog. */
  byYear: Record<string, number>
  byType: Record<string, number>
  /** Listed activities the catalog does not know (written by another tool, or before garmin-s3 kept one). */
  uncatalogued: number
  /** Keys under the prefix that are not `activity_<id>.json` (first 10 as examples). */
  offLayout: { count: number; examples: string[] }
  drift: DriftSummary
  repair: RepairSummary | null
  /** Backend requests the listing took (`ListObjectsV2` pages). */
  listRequests: number
  durationMs: number
}

export interface DriftSummary {
  detected: boolean
  /** `counts.stored` of the state (null without state). */
  stateCount: number | null
  listedCount: number
  /** Activities the state knows as stored that the listing does not have (first 10 ids as examples). */
  missing: { count: number; examples: number[] }
}

export type Presence = 'present' | 'absent' | 'unknown'

export interface FunctionSummary {
  status: Presence
  name: string
  runtime: string | null
  lastModified: string | null
  state: string | null
  /** Where the function writes (its BUCKET / PREFIX environment). */
  bucket: string | null
  prefix: string | null
  reason: string | null
}

export interface ScheduleSummary {
  status: Presence
  /** `schedule` (EventBridge Scheduler) or `rule` (EventBridge rule, UTC). */
  kind: 'schedule' | 'rule' | null
  name: string
  expression: string | null
  timezone: string | null
  enabled: boolean | null
  /** The next three runs; null when unknown (unsupported expression, rate() without a start). */
  nextRuns: NextRun[] | null
  reason: string | null
}

export interface TokenParameterSummary {
  status: Presence
  name: string
  lastModified: string | null
  reason: string | null
}

export interface AlarmSummary {
  name: string
  /** `sign-in-needed`, `no-successful-run`, `no-new-activity` or `failed-items` (docs/alerts.md). */
  kind: string
  /** CloudWatch's `OK`, `ALARM` or `INSUFFICIENT_DATA`. */
  state: string | null
  since: string | null
  /** What happened, from the alarm's description. */
  description: string | null
  /** The next step, from the alarm's description. */
  next: string | null
}

export interface AlertsSummary {
  /** `present` when the failure destination or any alarm exists. */
  status: Presence
  /** Where the function reports a run that still failed after Lambda's retries; null: nowhere. */
  failureDestination: string | null
  /** The topic the alarms notify. */
  topicArn: string | null
  /** Email subscriptions of that topic; null when they could not be read. */
  subscriptions: { endpoint: string; pending: boolean }[] | null
  alarms: AlarmSummary[]
  reason: string | null
}

export interface DeploymentSummary {
  name: string
  /** False when not looked at; `reason` says why (a folder target without --name, no AWS credentials). */
  checked: boolean
  /** True when any part of it exists. */
  deployed: boolean | null
  reason: string | null
  function: FunctionSummary | null
  schedule: ScheduleSummary | null
  tokenParameter: TokenParameterSummary | null
  /** `deploy --alert-email` / `--alert-topic-arn`: the failure destination, the alarms, the subscriptions. */
  alerts: AlertsSummary | null
}

export interface TokenSummary {
  /** A file path or `ssm:/<name>`. */
  location: string
  status: Presence
  displayName: string | null
  accessTokenExpiresAt: string | null
  /** When the refresh token last changed (login or rotation); null in older token files. */
  refreshTokenRotatedAt: string | null
  /** When these tokens were obtained (login or last refresh): the rotation happened at or before it. */
  obtainedAt: string | null
  reason: string | null
  /** No tokens (`absent`): the command that stores them here, naming this store; else null. */
  next: string | null
}

export interface TokensSummary {
  /** The token store this machine uses (--token-store, GARMIN_S3_TOKEN_STORE or the default file). */
  local: TokenSummary
  /** The deployment's token parameter, when it could be read. */
  deployed: TokenSummary | null
}

export interface StatusReport {
  schemaVersion: typeof STATUS_SCHEMA_VERSION
  generatedAt: string
  location: string
  prefix: string
  mode: 'fast' | 'deep'
  state: StateSummary
  activities: ActivitySummary
  /** Datasets besides the activity list (`sync --data`) that have a cursor; empty when none. */
  datasets: DatasetStatus[]
  /** The dataset cursors' file (`_garmin-s3/datasets.json`): whether it is there and can be read. */
  datasetsState: DatasetStateSummary
  /** Days Garmin holds archived and their reloads (docs/archive.md); null before any archived day. */
  archive: ArchiveStatus | null
  lastRun: RunSummary | null
  lastSuccessAt: string | null
  /** Newest first, at most 10. */
  recentRuns: RunSummary[]
  deep: DeepSummary | null
  deployment: DeploymentSummary
  tokens: TokensSummary
  health: Health
  /** Storage requests this status made, by operation. */
  requests: { store: Record<string, number> }
}
