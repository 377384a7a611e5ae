/**
 * curate on S3 (SeaweedFS, a real S3 server): each table-year file is one PUT, replaced in place by
 * one conditional PUT when its raw objects change; the object read back is a Parquet file DuckDB reads.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { curatedKey } from '../../src/curate/run.js'
import { S3Store } from '../../src/store/s3.js'
import { PREFIX } from '../datasets/helpers.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import type { Simulator } from '../sim/server.js'
import { CURATED, curate, duckdb, syncedFolder } from './helpers.js'

let sim: Simulator
let root: string
let s3: S3Store
let scratch: string

beforeAll(async () => {
  const folder = await syncedFolder(60, 40)
  sim = folder.sim
  root = folder.root
  const client = testS3Client(inject('seaweedEndpoint'))
  s3 = new S3Store({ bucket: await createTestBucket(client, 'curate'), client })
  // The raw layer, copied object by object into the bucket.
  for await (const info of folder.store.list('raw-data/')) {
    if (info.key.includes('/_garmin-s3/')) continue
    const object = await folder.store.get(info.key)
    await s3.putIfAbsent(info.key, object!.body, 'application/json')
  }
  scratch = await mkdtemp(join(tmpdir(), 'garmin-s3-curate-s3-'))
}, 180_000)

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
  await rm(scratch, { recursive: true, force: true })
})

const puts = () => s3.stats().requests.PutObject ?? 0

it('one PUT per file, then one conditional PUT for the one file a new object changed', async () => {
  const before = puts()
  const first = await curate(s3)
  expect(first.exitCode).toBe(0)
  expect(first.written.length).toBe(11)
  // Every file, plus the state saved after each table.
  expect(puts() - before).toBe(first.written.length + 11)

  const key = curatedKey(CURATED, 'sleep', 2026)
  const object = await s3.get(key)
  await writeFile(join(scratch, 'sleep.parquet'), object!.body)
  const [count] = duckdb(`SELECT count(*) AS n FROM read_parquet('sleep.parquet')`, scratch)
  expect(count!.n).toBe(first.written.find((f) => f.key === key)!.rows)

  // A new activity list entry of 2026 (as sync would store it): the activities file of 2026 only.
  const listing: string[] = []
  for await (const info of s3.list(PREFIX)) listing.push(info.key)
  const entry = JSON.parse(Buffer.from((await s3.get(listing[0]!))!.body).toString('utf8'))
  entry.activityId = 99_000_000_001
  await s3.putIfAbsent(`${PREFIX}activity_99000000001.json`, JSON.stringify(entry), 'application/json')
  const mid = puts()
  const second = await curate(s3)
  expect(second.written.map((f) => f.key)).toEqual([
    curatedKey(CURATED, 'activities', Number(entry.startTimeLocal.slice(0, 4))),
  ])
  expect(puts() - mid).toBe(2) // the file, and the state
  expect(second.written[0]!.rows).toBe(first.written.find((f) => f.table === 'activities')!.rows + 1)

  const idle = puts()
  expect((await curate(s3)).written).toEqual([])
  expect(puts()).toBe(idle)
})
