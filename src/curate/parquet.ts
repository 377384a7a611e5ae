/**
 * A table's rows as one Parquet file, with hyparquet-writer (pure JavaScript, so it also runs in the
 * Lambda bundle). The schema comes from the table's columns (tables.ts), never from the data, so an
 * empty column still has its type and every file of a table has the same schema. Snappy-compressed;
 * row groups of ROW_GROUP_ROWS rows so engines can skip by statistics.
 */
import type { parquetWriteRows } from 'hyparquet-writer'
import type { Row } from './extract.js'
import type { ColumnType, TableSpec } from './tables.js'

const ROW_GROUP_ROWS = 20_000
const DAY_MS = 86_400_000

type SchemaElement = NonNullable<Parameters<typeof parquetWriteRows>[0]['schema']>[number]

/** The Parquet leaf of each column type (all columns are OPTIONAL: Garmin leaves out what it lacks). */
const PARQUET: Record<ColumnType, Omit<SchemaElement, 'name'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  int: { type: 'INT32' },
  bigint: { type: 'INT64' },
  double: { type: 'DOUBLE' },
  boolean: { type: 'BOOLEAN' },
  timestamp: { type: 'INT64', converted_type: 'TIMESTAMP_MILLIS' },
  date: { type: 'INT32', converted_type: 'DATE' },
}

export function parquetSchemaOf(table: TableSpec): SchemaElement[] {
  return [
    { name: 'schema', num_children: table.columns.length },
    ...table.columns.map((c) => ({ name: c.name, repetition_type: 'OPTIONAL' as const, ...PARQUET[c.type] })),
  ]
}

function convert(type: ColumnType, value: unknown): unknown {
  if (value === null || value === undefined) return null
  switch (type) {
    case 'bigint':
    case 'timestamp':
      return typeof value === 'number' && Number.isSafeInteger(Math.round(value))
        ? BigInt(Math.round(value))
        : null
    case 'date':
      return typeof value === 'string' ? Math.floor(Date.parse(`${value}T00:00:00Z`) / DAY_MS) : null
    case 'int':
      return typeof value === 'number' ? Math.round(value) : null
    case 'double':
      return typeof value === 'number' ? value : null
    case 'boolean':
      return typeof value === 'boolean' ? value : null
    case 'string':
      return typeof value === 'string' ? value : null
  }
}

/**
 * The Parquet bytes of `rows` (in the order given) for `table`, and how many rows there were. Rows are
 * pulled one row group at a time, so memory holds one group and the compressed output, whatever the
 * number of rows.
 */
export async function encodeParquet(
  table: TableSpec,
  rows: AsyncIterable<Row> | Iterable<Row>,
): Promise<{ bytes: Uint8Array; rows: number }> {
  let count = 0
  async function* converted(): AsyncGenerator<Record<string, unknown>> {
    for await (const row of rows) {
      const out: Record<string, unknown> = {}
      for (const column of table.columns) out[column.name] = convert(column.type, row[column.name])
      count++
      yield out
    }
  }
  // The writer loads on the first table written, not when the CLI starts (docs/performance.md).
  const { ByteWriter, parquetWriteRows } = await import('hyparquet-writer')
  const writer = new ByteWriter()
  await parquetWriteRows({
    writer,
    rows: converted(),
    columns: table.columns.map((c) => ({ name: c.name })),
    schema: parquetSchemaOf(table),
    rowGroupSize: ROW_GROUP_ROWS,
    createdBy: 'garmin-s3 (hyparquet-writer)',
  })
  return { bytes: new Uint8Array(writer.getBuffer()), rows: count }
}
