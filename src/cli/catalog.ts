/**
 * The lines `catalog athena`, `deploy --athena` and `destroy --athena` print for a Glue catalog run, and
 * the Glue client they open (loaded only when asked for: other runs never pay for the Glue SDK).
 */
import type { GlueClient } from '@aws-sdk/client-glue'
import type { CatalogResult } from '../athena/index.js'
import type { AwsClientConfig } from '../aws/clients.js'

export async function openGlueClient(config: AwsClientConfig): Promise<GlueClient> {
  const { createGlueClient } = await import('../aws/clients.js')
  return createGlueClient(config)
}

export function catalogLines(result: CatalogResult, remove: boolean): string[] {
  const { database, dryRun } = result
  const done = { create: 'created', update: 'updated', delete: 'deleted' } as const
  const lines: string[] = []
  const changed = result.changes.filter((c) => c.action !== 'unchanged' && c.action !== 'absent')
  for (const c of changed) {
    const action = c.action as keyof typeof done
    const what = c.resource === 'table' ? `table ${database}.${c.name}` : `database ${c.name}`
    lines.push(dryRun ? `would ${action} ${what}` : `${done[action]} ${what}`)
  }
  if (changed.length === 0)
    lines.push(
      `✔ Nothing to change: the Glue database ${database} ${remove ? 'holds nothing garmin-s3 made' : 'is up to date'}.`,
    )
  else if (dryRun) lines.push(`Dry run: ${changed.length} Glue change(s) shown; nothing was changed.`)
  else if (remove) lines.push(`✔ Removed what garmin-s3 made in ${database}; no S3 object was touched.`)
  else
    lines.push(
      `✔ ${changed.length} Glue change(s) made. Try in Athena: SELECT type, count(*) FROM ${database}.activities GROUP BY type`,
    )
  return lines
}
