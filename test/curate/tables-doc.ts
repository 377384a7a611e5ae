/** The tables section of docs/curated-tables.md, as it must read for the tables of src/curate/tables.ts. */
import { parquetSchemaOf } from '../../src/curate/parquet.js'
import { TABLES } from '../../src/curate/tables.js'

export const START =
  '<!-- tables:start (generated from src/curate/tables.ts; test/curate/docs.test.ts checks it) -->'
export const END = '<!-- tables:end -->'

export function tablesSection(): string {
  const parts: string[] = []
  for (const table of TABLES) {
    const leaves = parquetSchemaOf(table).slice(1)
    parts.push(`### \`${table.name}\``, '', `One row: ${table.row}. From \`${table.source}\`.`, '')
    parts.push('| column | type | Parquet | what |', '|---|---|---|---|')
    table.columns.forEach((c, i) => {
      const leaf = leaves[i]!
      const parquet = leaf.converted_type ? `${leaf.type} (${leaf.converted_type})` : leaf.type
      parts.push(`| \`${c.name}\` | ${c.type} | ${parquet} | ${c.description} |`)
    })
    parts.push('')
  }
  return `${START}\n\n${parts.join('\n')}\n${END}`
}
