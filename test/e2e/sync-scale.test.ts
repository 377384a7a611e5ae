/**
 * `garmin-s3 sync` at scale and against existing data: a run with nothing new costs the same for
 * 1,000 and 10,000 stored activities; a bucket filled by the original Python pipeline is adopted
 * without rewriting anything; a missing bucket fails before anything happens.
 */
import { join } from 'node:path'
import { PutObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { DirStore, S3Store } from '../../src/store/index.js'
import { runSync } from '../../src/sync/index.js'
import { createTestBucket, mapLimit, testS3Client } from '../helpers/s3.js'
import {
  bucketActivities,
  bucketSnapshot,
  e2eHome,
  etagOf,
  PREFIX,
  runCli,
  simClient,
  syncJson,
} from './sync-helpers.js'

const home = e2eHome('scale')
// Every test has its own simulator and target, so they run concurrently.
const options = { prefix: PREFIX, runner: 'cli' as const, toolVersion: 'test' }

/** What `json.dumps(entry)` wrote in the original Python Lambda: ", " / ": " separators, non-ASCII escaped. */
function pythonJsonDumps(value: unknown): string {
  const str = (s: string) =>
    JSON.stringify(s).replace(
      /[\u007f-\uffff]/g,
      (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
    )
  if (value === null || typeof value !== 'object')
    return typeof value === 'string' ? str(value) : JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(pythonJsonDumps).join(', ')}]`
  return `{${Object.entries(value)
    .map(([k, v]) => `${str(k)}: ${pythonJsonDumps(v)}`)
    .join(', ')}}`
}

describe.concurrent('a run with nothing new', () => {
  it('costs the same Garmin calls and storage requests for 1,000 and 10,000 stored activities', async () => {
    const costs: Array<{ garmin: number; list: number; store: Record<string, number> }> = []
    for (const [count, seed] of [
      [1000, 3],
      [10_000, 4],
    ] as const) {
      const {
        sim: s,
        tokens,
        env,
      } = await home.account(`idle-${count}`, { activities: count, years: 10, seed })
      const out = join(home.path(), `out-${count}`)
      // The backfill itself is not under test here: in process, without fsync.
      const first = await runSync(options, {
        garmin: simClient(s, tokens),
        store: new DirStore(out, { durable: false }),
      })
      expect(first.created).toBe(count)

      s.resetStats()
      const { report, result } = await syncJson(['--out', out], env)
      expect(result.code, result.stderr).toBe(0)
      expect(report.created).toBe(0)
      costs.push({
        garmin: s.stats().total,
        list: s.stats().byRoute.activityList?.['200'] ?? 0,
        store: report.requests.store,
      })
    }
    expect(costs[0]).toEqual(costs[1])
    expect(costs[0]!.garmin).toBeLessThanOrEqual(2)
    expect(costs[0]!.list).toBe(1)
    expect(Object.values(costs[0]!.store).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(4)
  }, 120_000)
})

describe.concurrent('a bucket filled by the original pipeline', () => {
  it('is adopted: no existing object rewritten (ETags unchanged), only the missing ones added', async () => {
    const { sim: s, tokens } = await home.account('adopt', { activities: 300, seed: 21 })
    const client = testS3Client(inject('motoEndpoint'))
    const bucket = await createTestBucket(client, 'e2e-adopt')
    const served = s.listAll()
    const old = served.filter((_, i) => i % 3 !== 0)
    await mapLimit(old, 8, (a: ActivityEntry) =>
      client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `${PREFIX}activity_${a.activityId}.json`,
          Body: pythonJsonDumps(a),
          ContentType: 'application/json',
        }),
      ),
    )
    const before = await bucketSnapshot(client, bucket)

    const store = new S3Store({ bucket, client })
    const report = await runSync(options, { garmin: simClient(s, tokens), store })
    expect(report).toMatchObject({ created: 100, existing: 200, exitCode: 0 })
    expect(report.requests.store.ListObjectsV2).toBe(1)
    expect(report.requests.store.HeadObject ?? 0).toBe(0)
    expect(report.requests.store.PutObject).toBeLessThanOrEqual(100 + 5)

    const after = await bucketSnapshot(client, bucket)
    for (const [key, value] of before) expect(after.get(key), key).toBe(value)
    const added = served.filter((_, i) => i % 3 === 0)
    for (const a of added) {
      expect(after.get(`${PREFIX}activity_${a.activityId}.json`)?.split(' ')[0]).toBe(
        etagOf(JSON.stringify(a)),
      )
    }
    expect([...after.keys()].filter((k) => k.startsWith(PREFIX))).toHaveLength(300)
    // The original's objects still read as the same activities (its own escaping kept).
    const sample = old.slice(0, 20)
    const texts = await bucketActivities(
      client,
      bucket,
      sample.map((a) => `${PREFIX}activity_${a.activityId}.json`),
    )
    for (const a of sample)
      expect(JSON.parse(texts.get(`${PREFIX}activity_${a.activityId}.json`)!)).toEqual(a)
  })
})

describe.concurrent('a bucket that does not exist', () => {
  it('fails with one line and a next step, exit 1, before contacting Garmin or writing anything', async () => {
    const { sim: s, env } = await home.account('missing', { activities: 10, seed: 2 })
    s.resetStats()
    const endpoint = inject('motoEndpoint')
    const result = await runCli(
      ['sync', '--bucket', 'garmin-s3-no-such-bucket-e2e', '--endpoint', endpoint, '--path-style'],
      { env },
    )
    expect(result.code).toBe(1)
    expect(result.stderr).toMatch(/^Error: bucket garmin-s3-no-such-bucket-e2e does not exist/m)
    expect(result.stderr).toMatch(/^ {2}-> .*never creates buckets/m)
    expect(s.stats().total).toBe(0)
  })
})
