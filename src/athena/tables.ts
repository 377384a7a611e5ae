/**
 * The Glue tables of the curated layer, as data: one Parquet table per curated table (tables.ts),
 * partitioned by `year` with partition projection (no crawler, no MSCK REPAIR), plus one JSON table
 * over the raw activity list entries. Pure: the same input gives the same definitions, which is what
 * makes a second `catalog athena` run find nothing to change.
 */
import type { Column as GlueColumn, TableInput } from '@aws-sdk/client-glue'
import type { ColumnType, TableSpec } from '../curate/tables.js'

/** The table parameter that says garmin-s3 made a table (and may change or remove it). */
export const MANAGED_BY = 'garmin-s3:managed-by'
export const MANAGED_VALUE = 'garmin-s3 catalog athena'
/** Years partition projection covers: an absent year costs one S3 LIST, nothing else. */
const PROJECTED_YEARS = '2000,2099'
const RAW_ACTIVITIES_TABLE = 'activities_raw'

/** The Glue (Hive) type of each column type: what Athena reads the Parquet column as. */
export const GLUE_TYPE: Record<ColumnType, string> = {
  string: 'string',
  int: 'int',
  bigint: 'bigint',
  double: 'double',
  boolean: 'boolean',
  timestamp: 'timestamp',
  date: 'date',
}

export interface CatalogTarget {
  bucket: string
  /** The curated prefix (`processed-data/garmin/`). */
  curatedPrefix: string
  /** The raw activity prefix (`raw-data/garmin-json/`). */
  rawPrefix: string
}

const PARQUET_SERDE = {
  InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    Parameters: { 'serialization.format': '1' },
  },
}

const JSON_SERDE = {
  InputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
  OutputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
  SerdeInfo: {
    SerializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
    // A field that is not valid JSON for its column is NULL instead of failing the query.
    Parameters: { 'ignore.malformed.json': 'true', 'case.insensitive': 'true' },
  },
}

export function curatedTableInput(table: TableSpec, target: CatalogTarget): TableInput {
  const location = `s3://${target.bucket}/${target.curatedPrefix}${table.name}/`
  return {
    Name: table.name,
    Description: `garmin-s3 curated table: ${table.row} (docs/curated-tables.md)`,
    TableType: 'EXTERNAL_TABLE',
    Parameters: {
      EXTERNAL: 'TRUE',
      classification: 'parquet',
      'parquet.compression': 'SNAPPY',
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.year.range': PROJECTED_YEARS,
      'storage.location.template': `${location}year=\${year}/`,
      [MANAGED_BY]: MANAGED_VALUE,
    },
    PartitionKeys: [{ Name: 'year', Type: 'int' }],
    StorageDescriptor: {
      Columns: table.columns.map((c) => ({ Name: c.name, Type: GLUE_TYPE[c.type], Comment: c.description })),
      Location: location,
      ...PARQUET_SERDE,
    },
  }
}

/** The fields of an activity list entry the raw table shows (Athena lower-cases names; the SerDe matches). */
const RAW_COLUMNS: GlueColumn[] = [
  ['activityid', 'bigint'],
  ['activityname', 'string'],
  ['starttimelocal', 'string'],
  ['starttimegmt', 'string'],
  ['activitytype', 'struct<typekey:string,typeid:int>'],
  ['eventtype', 'struct<typekey:string>'],
  ['distance', 'double'],
  ['duration', 'double'],
  ['movingduration', 'double'],
  ['elevationgain', 'double'],
  ['elevationloss', 'double'],
  ['averagehr', 'double'],
  ['maxhr', 'double'],
  ['calories', 'double'],
  ['averagespeed', 'double'],
  ['deviceid', 'bigint'],
  ['locationname', 'string'],
].map(([Name, Type]) => ({ Name, Type }))

export function rawActivitiesTableInput(target: CatalogTarget): TableInput {
  return {
    Name: RAW_ACTIVITIES_TABLE,
    Description:
      'garmin-s3 raw layer: one activity list entry per object, as Garmin sent it (docs/layout.md)',
    TableType: 'EXTERNAL_TABLE',
    Parameters: { EXTERNAL: 'TRUE', classification: 'json', [MANAGED_BY]: MANAGED_VALUE },
    PartitionKeys: [],
    StorageDescriptor: {
      Columns: RAW_COLUMNS,
      Location: `s3://${target.bucket}/${target.rawPrefix}`,
      ...JSON_SERDE,
    },
  }
}
