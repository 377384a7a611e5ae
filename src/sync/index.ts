export { type Interval, SORT_SLACK_MS } from './coverage.js'
export {
  type DailyState,
  dailyGaps,
  datasetStateKeyFor,
  type ExtraDatasetState,
  type PerActivityState,
  readDatasetState,
} from './dataset-state.js'
export { type ArchiveStatus, type DatasetStatus, datasetReport, datasetStatuses } from './dataset-status.js'
export {
  ACTIVITIES,
  DATASET_NAMES,
  DATASETS,
  type DatasetSource,
  datasetPrefix,
  datasetPrefixes,
  parseDatasets,
} from './datasets.js'
export { describeEvent } from './describe.js'
export { runSyncWithDatasets } from './extras.js'
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_RECONCILE_DAYS,
  DEFAULT_RELOAD_BUDGET,
  DEFAULT_REVISE_DAYS,
  MAX_CONCURRENCY,
  type ResolvedOptions,
  resolveOptions as validateSyncOptions,
} from './options.js'
export { activityIdFromKey, activityKey, runSync } from './run.js'
export {
  controlPrefixFor,
  type DatasetState,
  type LastRun,
  readSyncState,
  type StateFile,
  stateKeyFor,
} from './state.js'
export type {
  ArchiveReport,
  DatasetCounts,
  Runner,
  StopReason,
  SyncDeps,
  SyncError,
  SyncEvent,
  SyncLog,
  SyncOptions,
  SyncReport,
  SyncSource,
} from './types.js'
