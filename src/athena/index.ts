/**
 * `garmin-s3 catalog athena`: the Glue database and tables that let Athena query the curated layer
 * (and the raw activity JSON), reconciled like deploy: read what is there, change only what differs,
 * so a second run makes no write. `--remove` deletes the tables garmin-s3 made (and the database, when
 * it made it and nothing else is left in it); never an S3 object.
 */
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  DeleteDatabaseCommand,
  DeleteTableCommand,
  GetDatabaseCommand,
  GetTableCommand,
  GetTablesCommand,
  type GlueClient,
  type Table,
  type TableInput,
  UpdateTableCommand,
} from '@aws-sdk/client-glue'
import { awsErrorIs, explainAwsError } from '../aws/errors.js'
import { TABLES } from '../curate/tables.js'
import { UsageError } from '../errors.js'
import {
  type CatalogTarget,
  curatedTableInput,
  MANAGED_BY,
  MANAGED_VALUE,
  rawActivitiesTableInput,
} from './tables.js'

export { GLUE_TYPE } from './tables.js'

export interface CatalogOptions extends CatalogTarget {
  database: string
  dryRun?: boolean
}

interface CatalogChange {
  resource: 'database' | 'table'
  name: string
  action: 'create' | 'update' | 'unchanged' | 'delete' | 'absent'
}

export interface CatalogResult {
  database: string
  dryRun: boolean
  changes: CatalogChange[]
  /** Glue calls that changed something (0 on a second run). */
  writes: number
}

function notFound(error: unknown): boolean {
  return awsErrorIs(error, 'EntityNotFoundException')
}

/** What of a table its definition says, in a fixed form, so two definitions compare as strings. */
function comparable(table: TableInput | Table): string {
  const sd = table.StorageDescriptor
  return JSON.stringify({
    Description: table.Description ?? '',
    TableType: table.TableType,
    // Only the parameters garmin-s3 sets: Glue may add its own (transient_lastDdlTime, ...).
    PartitionKeys: (table.PartitionKeys ?? []).map((c) => [c.Name, c.Type]),
    Columns: (sd?.Columns ?? []).map((c) => [c.Name, c.Type, c.Comment ?? '']),
    Location: sd?.Location,
    InputFormat: sd?.InputFormat,
    OutputFormat: sd?.OutputFormat,
    Serde: sd?.SerdeInfo?.SerializationLibrary,
    SerdeParameters: Object.entries(sd?.SerdeInfo?.Parameters ?? {}).sort(),
  })
}

function sameTable(desired: TableInput, actual: Table): boolean {
  const params = actual.Parameters ?? {}
  const sameParams = Object.entries(desired.Parameters ?? {}).every(([k, v]) => params[k] === v)
  return sameParams && comparable(desired) === comparable(actual)
}

/** Every table the curated layer needs, in order: the curated ones, then the raw activity JSON. */
function desiredTables(target: CatalogTarget): TableInput[] {
  return [...TABLES.map((t) => curatedTableInput(t, target)), rawActivitiesTableInput(target)]
}

async function getTable(glue: GlueClient, database: string, name: string): Promise<Table | undefined> {
  try {
    return (await glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table
  } catch (error) {
    if (notFound(error)) return undefined
    throw explainAwsError(error, `reading the Glue table ${database}.${name}`)
  }
}

async function databaseExists(
  glue: GlueClient,
  database: string,
): Promise<Record<string, string> | undefined> {
  try {
    return (await glue.send(new GetDatabaseCommand({ Name: database }))).Database?.Parameters ?? {}
  } catch (error) {
    if (notFound(error)) return undefined
    throw explainAwsError(error, `reading the Glue database ${database}`)
  }
}

export async function reconcileCatalog(glue: GlueClient, options: CatalogOptions): Promise<CatalogResult> {
  const { database } = options
  const dryRun = options.dryRun ?? false
  const changes: CatalogChange[] = []
  let writes = 0
  const write = async (what: string, send: () => Promise<unknown>) => {
    if (dryRun) return
    try {
      await send()
      writes++
    } catch (error) {
      throw explainAwsError(error, what)
    }
  }

  if ((await databaseExists(glue, database)) === undefined) {
    changes.push({ resource: 'database', name: database, action: 'create' })
    await write(`creating the Glue database ${database}`, () =>
      glue.send(
        new CreateDatabaseCommand({
          DatabaseInput: {
            Name: database,
            Description: 'garmin-s3: Garmin Connect data (docs/curated-tables.md)',
            Parameters: { [MANAGED_BY]: MANAGED_VALUE },
          },
        }),
      ),
    )
  } else changes.push({ resource: 'database', name: database, action: 'unchanged' })

  const databaseNew = changes[0]?.action === 'create'
  for (const desired of desiredTables(options)) {
    const name = desired.Name!
    const actual = dryRun && databaseNew ? undefined : await getTable(glue, database, name)
    if (!actual) {
      changes.push({ resource: 'table', name, action: 'create' })
      await write(`creating the Glue table ${database}.${name}`, () =>
        glue.send(new CreateTableCommand({ DatabaseName: database, TableInput: desired })),
      )
    } else if (actual.Parameters?.[MANAGED_BY] !== MANAGED_VALUE) {
      throw new UsageError(`the Glue table ${database}.${name} exists and garmin-s3 did not make it`, {
        hint: `Nothing was changed in it. Choose another database (--database), or drop that table yourself.`,
      })
    } else if (sameTable(desired, actual)) {
      changes.push({ resource: 'table', name, action: 'unchanged' })
    } else {
      changes.push({ resource: 'table', name, action: 'update' })
      await write(`updating the Glue table ${database}.${name}`, () =>
        glue.send(new UpdateTableCommand({ DatabaseName: database, TableInput: desired })),
      )
    }
  }
  return { database, dryRun, changes, writes }
}

/** Deletes the tables garmin-s3 made in `database`, then the database if garmin-s3 made it and it is empty. */
export async function removeCatalog(
  glue: GlueClient,
  options: { database: string; dryRun?: boolean },
): Promise<CatalogResult> {
  const { database } = options
  const dryRun = options.dryRun ?? false
  const changes: CatalogChange[] = []
  let writes = 0
  const parameters = await databaseExists(glue, database)
  if (parameters === undefined) {
    return { database, dryRun, changes: [{ resource: 'database', name: database, action: 'absent' }], writes }
  }
  const tables: Table[] = []
  let token: string | undefined
  try {
    do {
      const page = await glue.send(new GetTablesCommand({ DatabaseName: database, NextToken: token }))
      tables.push(...(page.TableList ?? []))
      token = page.NextToken
    } while (token)
  } catch (error) {
    throw explainAwsError(error, `listing the tables of the Glue database ${database}`)
  }
  const ours = tables.filter((t) => t.Parameters?.[MANAGED_BY] === MANAGED_VALUE)
  for (const table of ours) {
    changes.push({ resource: 'table', name: table.Name!, action: 'delete' })
    if (dryRun) continue
    try {
      await glue.send(new DeleteTableCommand({ DatabaseName: database, Name: table.Name! }))
      writes++
    } catch (error) {
      if (!notFound(error)) throw explainAwsError(error, `deleting the Glue table ${database}.${table.Name}`)
    }
  }
  if (parameters[MANAGED_BY] === MANAGED_VALUE && ours.length === tables.length) {
    changes.push({ resource: 'database', name: database, action: 'delete' })
    if (!dryRun) {
      try {
        await glue.send(new DeleteDatabaseCommand({ Name: database }))
        writes++
      } catch (error) {
        if (!notFound(error)) throw explainAwsError(error, `deleting the Glue database ${database}`)
      }
    }
  } else changes.push({ resource: 'database', name: database, action: 'unchanged' })
  return { database, dryRun, changes, writes }
}
