/** The curated layer: typed Parquet tables built from the raw layer (docs/curated-tables.md). */

export { DEFAULT_CURATED_PREFIX, validateCuratedPrefix } from './options.js'
export {
  type CurateEvent,
  type CurateOptions,
  type CurateReport,
  curatedKey,
  parseTables,
  runCurate,
  tablesFor,
} from './run.js'
export { type Column, type ColumnType, TABLES, type TableSpec } from './tables.js'
