export { type Interval, SORT_SLACK_MS } from './coverage.js'
export { describeEvent } from './describe.js'
export { type ResolvedOptions, resolveOptions as validateSyncOptions } from './options.js'
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
