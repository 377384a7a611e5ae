/** The curated layer: typed Parquet tables built from the raw layer (docs/curated-tables.md). */
export {
  type CurateEvent,
  type CurateOptions,
  type CurateReport,
  curatedKey,
  DEFAULT_CURATED_PREFIX,
  parseTables,
  runCurate,
  tablesFor,
  validateCuratedPrefix,
} from './run.js'
export { type Column, type ColumnType, TABLES, type TableSpec } from './tables.js'
