/**
 * `catalog athena` against moto's Glue: the tables read back from Glue match, column for column and
 * type for type, the Parquet schemas DuckDB reports for the files curate wrote; a second run makes no
 * write; a same-named table garmin-s3 did not make is left alone (exit 2); --remove deletes only what
 * it made.
 */
import { rm } from 'node:fs/promises'
import {
  CreateDatabaseCommand,
  CreateTableCommand,
  GetTableCommand,
  GetTablesCommand,
  GlueClient,
} from '@aws-sdk/client-glue'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { GLUE_TYPE } from '../../src/athena/index.js'
import CatalogAthena from '../../src/commands/catalog/athena.js'
import { TABLES } from '../../src/curate/tables.js'
import { CURATED, curate, duckdb, syncedFolder } from '../curate/helpers.js'
import { freshMotoAccount, type MotoAccount } from '../deploy/helpers.js'
import { runCommand } from '../helpers/command.js'
import { TEST_REGION } from '../helpers/servers.js'
import type { Simulator } from '../sim/server.js'

const BUCKET = 'my-lake'
/** What DuckDB calls each Glue type of a Parquet column. */
const DUCKDB_TO_GLUE: Record<string, string> = {
  VARCHAR: 'string',
  INTEGER: 'int',
  BIGINT: 'bigint',
  DOUBLE: 'double',
  BOOLEAN: 'boolean',
  TIMESTAMP: 'timestamp',
  DATE: 'date',
}

let sim: Simulator
let root: string
let account: MotoAccount
const calls: string[] = []

function glue(): GlueClient {
  const client = new GlueClient({
    region: TEST_REGION,
    endpoint: inject('motoEndpoint'),
    credentials: account.credentials,
  })
  client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(String(context.commandName).replace(/Command$/, ''))
      return next(args)
    },
    { step: 'initialize', name: 'recordCalls' },
  )
  return client
}

class Catalog extends CatalogAthena {
  protected override async glueClient() {
    return glue()
  }
}

const writes = () => calls.filter((c) => !/^Get/.test(c))

beforeAll(async () => {
  account = await freshMotoAccount(inject('motoEndpoint'))
  const synced = await syncedFolder(60, 40)
  sim = synced.sim
  root = synced.root
  expect((await curate(synced.store)).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

it('creates the database and one table per curated table, matching the Parquet files column for column', async () => {
  calls.length = 0
  const run = await runCommand(Catalog, ['--bucket', BUCKET, '--json'])
  expect(run.exitCode, run.stdout).toBe(0)
  expect(run.json).toMatchObject({ database: 'garmin', writes: 1 + TABLES.length + 1 })
  expect(writes().sort()).toEqual(['CreateDatabase', ...Array(TABLES.length + 1).fill('CreateTable')].sort())

  const client = glue()
  for (const table of TABLES) {
    const got = (await client.send(new GetTableCommand({ DatabaseName: 'garmin', Name: table.name }))).Table!
    const file = `${CURATED}${table.name}/year=2026/${table.name}_2026.parquet`
    const parquet = duckdb(`DESCRIBE SELECT * FROM read_parquet('${file}', hive_partitioning = false)`, root)
    expect(got.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type])).toEqual(
      parquet.map((c) => [c.column_name, DUCKDB_TO_GLUE[c.column_type as string]]),
    )
    expect(got.PartitionKeys!.map((c) => [c.Name, c.Type])).toEqual([['year', 'int']])
    expect(got.StorageDescriptor!.Location).toBe(`s3://${BUCKET}/${CURATED}${table.name}/`)
    expect(got.StorageDescriptor!.SerdeInfo!.SerializationLibrary).toBe(
      'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
    )
    expect(got.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'storage.location.template': `s3://${BUCKET}/${CURATED}${table.name}/year=\${year}/`,
    })
  }
  const raw = (await client.send(new GetTableCommand({ DatabaseName: 'garmin', Name: 'activities_raw' })))
    .Table!
  expect(raw.StorageDescriptor!.Location).toBe(`s3://${BUCKET}/raw-data/garmin-json/`)
  expect(raw.StorageDescriptor!.SerdeInfo!.SerializationLibrary).toBe('org.openx.data.jsonserde.JsonSerDe')
  client.destroy()
  expect(Object.values(GLUE_TYPE).sort()).toEqual(Object.values(DUCKDB_TO_GLUE).sort())
})

it('a second run reads and changes nothing; a new prefix updates the curated tables only', async () => {
  calls.length = 0
  const again = await runCommand(Catalog, ['--bucket', BUCKET])
  expect(again.exitCode).toBe(0)
  expect(again.stdout).toContain('✔ Nothing to change: the Glue database garmin is up to date.')
  expect(writes()).toEqual([])

  calls.length = 0
  const dry = await runCommand(Catalog, ['--bucket', BUCKET, '--curated-prefix', 'lake/tables/', '--dry-run'])
  expect(dry.stdout).toContain('would update table garmin.activities')
  expect(writes()).toEqual([])

  const moved = await runCommand(Catalog, ['--bucket', BUCKET, '--curated-prefix', 'lake/tables/', '--json'])
  expect(moved.json).toMatchObject({ writes: TABLES.length })
  expect(writes()).toEqual(Array(TABLES.length).fill('UpdateTable'))
  const back = await runCommand(Catalog, ['--bucket', BUCKET, '--json'])
  expect(back.json).toMatchObject({ writes: TABLES.length })
})

it('a same-named table garmin-s3 did not make is left alone, exit 2', async () => {
  const client = glue()
  await client.send(new CreateDatabaseCommand({ DatabaseInput: { Name: 'theirs' } }))
  await client.send(
    new CreateTableCommand({
      DatabaseName: 'theirs',
      TableInput: { Name: 'sleep', StorageDescriptor: { Columns: [{ Name: 'x', Type: 'string' }] } },
    }),
  )
  const run = await runCommand(Catalog, ['--bucket', BUCKET, '--database', 'theirs'])
  expect(run.exitCode).toBe(2)
  expect(run.stderr).toContain('the Glue table theirs.sleep exists and garmin-s3 did not make it')
  const sleep = (await client.send(new GetTableCommand({ DatabaseName: 'theirs', Name: 'sleep' }))).Table!
  expect(sleep.StorageDescriptor!.Columns).toEqual([{ Name: 'x', Type: 'string' }])

  // --remove deletes only what garmin-s3 made there, and keeps a database it did not make.
  const removed = await runCommand(Catalog, [
    '--bucket',
    BUCKET,
    '--database',
    'theirs',
    '--remove',
    '--json',
  ])
  expect(removed.exitCode).toBe(0)
  const left = (await client.send(new GetTablesCommand({ DatabaseName: 'theirs' }))).TableList!.map(
    (t) => t.Name,
  )
  expect(left).toEqual(['sleep'])
  client.destroy()
  const bad = await runCommand(Catalog, ['--bucket', BUCKET, '--database', 'Bad-Name'])
  expect(bad.exitCode).toBe(2)
})

it('--remove deletes the tables and the database it made, then finds nothing', async () => {
  calls.length = 0
  const removed = await runCommand(Catalog, ['--bucket', BUCKET, '--remove'])
  expect(removed.exitCode).toBe(0)
  expect(writes().sort()).toEqual(['DeleteDatabase', ...Array(TABLES.length + 1).fill('DeleteTable')].sort())
  const again = await runCommand(Catalog, ['--bucket', BUCKET, '--remove', '--json'])
  expect(again.json).toMatchObject({ writes: 0, changes: [{ resource: 'database', action: 'absent' }] })
})
