/**
 * Cost does not grow with the lake: the fast path makes the same requests for 100 and for 20,000
 * stored activities, and --deep lists 20,000 objects in pages, in seconds. Each store is seeded with
 * the objects and the state a complete sync leaves: a folder straight onto disk, moto through its
 * test-only bulk route (test/helpers/moto-server.py), SeaweedFS one PutObject at a time, so it gets
 * 1,100 (20,000 take over a minute that way), which still spans two ListObjectsV2 pages.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { gatherStatus } from '../../src/status/index.js'
import { DirStore } from '../../src/store/dir.js'
import { S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { activityKey, stateKeyFor } from '../../src/sync/index.js'
import { MemoryTokenStore } from '../deploy/helpers.js'
import { createTestBucket, mapLimit, seedMotoBucket, testS3Client } from '../helpers/s3.js'
import { type RunningServer, startMoto } from '../helpers/servers.js'
import {
  figuresOf,
  lastRunAt,
  PREFIX,
  SKIP_AWS,
  seedFolder,
  stateAfterSync,
  syntheticActivities,
} from './helpers.js'

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0)
const clock = { now: () => NOW, sleep: async () => {} }
const status = (store: Store, deep = false) =>
  gatherStatus(
    { prefix: PREFIX, deploymentName: 'garmin-s3', deep },
    { store, clock, tokenStore: new MemoryTokenStore(undefined), aws: SKIP_AWS },
  )

const small = syntheticActivities(100)
const large = syntheticActivities(20_000)
const s3Large = large.slice(0, 1_100)
const client = testS3Client(inject('seaweedEndpoint'))
// A moto of its own: the suite's shared moto serializes every test's requests (one Python process),
// so a 20,000-key listing timed there would measure the other tests' traffic too.
let privateMoto: RunningServer
let moto: S3Client
let root: string
let buckets: { small: string; large: string }
let motoBuckets: { small: string; large: string }

const stateOf = (entries: typeof small) =>
  stateAfterSync(
    entries,
    lastRunAt(NOW - 3_600_000, { created: entries.length }),
    new Date(NOW).toISOString(),
  )

async function seedBucket(entries: typeof small): Promise<string> {
  const bucket = await createTestBucket(client, 'status-scale')
  const put = (Key: string, Body: string) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }))
  await mapLimit(entries, 32, (e) => put(activityKey(PREFIX, e.activityId), JSON.stringify(e)))
  await put(stateKeyFor(PREFIX), stateOf(entries))
  return bucket
}

async function seedMoto(entries: typeof small): Promise<string> {
  const bucket = await createTestBucket(moto, 'status-scale')
  const objects: Record<string, string> = {}
  for (const e of entries) objects[activityKey(PREFIX, e.activityId)] = JSON.stringify(e)
  objects[stateKeyFor(PREFIX)] = stateOf(entries)
  await seedMotoBucket(privateMoto.endpoint, bucket, objects)
  return bucket
}

// Folder and buckets are seeded at the same time: one waits on the disk, the other on the server.
beforeAll(async () => {
  privateMoto = await startMoto()
  moto = testS3Client(privateMoto.endpoint)
  root = await mkdtemp(join(tmpdir(), 'garmin-s3-status-scale-'))
  const [, , s, l, ms, ml] = await Promise.all([
    seedFolder(join(root, 'small'), small, stateOf(small)),
    seedFolder(join(root, 'large'), large, stateOf(large)),
    seedBucket(small),
    seedBucket(s3Large),
    seedMoto(small),
    seedMoto(large),
  ])
  buckets = { small: s, large: l }
  motoBuckets = { small: ms, large: ml }
}, 120_000)

afterAll(async () => {
  client.destroy()
  moto.destroy()
  await privateMoto.stop()
  await rm(root, { recursive: true, force: true })
})

describe('status in a folder of 100 and of 20,000 activities', () => {
  it('the fast path makes the same two GETs for both', async () => {
    const a = await status(new DirStore(join(root, 'small')))
    const b = await status(new DirStore(join(root, 'large')))
    expect(a.requests.store).toEqual({ GetObject: 2 })
    expect(b.requests.store).toEqual(a.requests.store)
    expect(a.activities.stored).toBe(100)
    expect(b.activities).toMatchObject({
      stored: 20_000,
      newest: figuresOf(large).newest,
      oldest: figuresOf(large).oldest,
      historyComplete: true,
    })
    expect(b.health.verdict).toBe('OK')
  })

  it('--deep counts 20,000 activities by year and type in seconds', async () => {
    const started = Date.now()
    const report = await status(new DirStore(join(root, 'large')), true)
    const elapsed = Date.now() - started
    const expected = figuresOf(large)
    expect(report.deep).toMatchObject({
      objects: 20_000,
      activities: 20_000,
      bytes: expected.bytes,
      byYear: expected.byYear,
      byType: expected.byType,
      uncatalogued: 0,
      drift: { detected: false, stateCount: 20_000, listedCount: 20_000 },
    })
    expect(Object.keys(expected.byYear).length).toBe(17) // 2010 to 2026
    // Nothing but the state was read besides the listing.
    expect(report.requests.store.GetObject).toBe(2)
    expect(elapsed).toBeLessThan(15_000)
  })
})

describe('status on S3 (moto) with 100 and 20,000 activities', () => {
  it('the fast path makes the same two GETs for both', async () => {
    const a = await status(new S3Store({ bucket: motoBuckets.small, client: moto }))
    const b = await status(new S3Store({ bucket: motoBuckets.large, client: moto }))
    expect(a.requests.store).toEqual({ GetObject: 2 })
    expect(b.requests.store).toEqual(a.requests.store)
    expect(a.activities.stored).toBe(100)
    expect(b.activities).toMatchObject({
      stored: 20_000,
      newest: figuresOf(large).newest,
      oldest: figuresOf(large).oldest,
      historyComplete: true,
    })
    expect(b.health.verdict).toBe('OK')
  })

  it('--deep lists 20,000 objects in 20 pages of 1,000 and counts them by year and type in seconds', async () => {
    const started = Date.now()
    const report = await status(new S3Store({ bucket: motoBuckets.large, client: moto }), true)
    const elapsed = Date.now() - started
    const expected = figuresOf(large)
    // The state lives beside the data prefix (raw-data/_garmin-s3/), so the listing holds the 20,000 only.
    expect(report.requests.store).toEqual({ GetObject: 2, ListObjectsV2: 20 })
    expect(report.deep).toMatchObject({
      objects: 20_000,
      activities: 20_000,
      listRequests: 20,
      bytes: expected.bytes,
      byYear: expected.byYear,
      byType: expected.byType,
      uncatalogued: 0,
      drift: { detected: false, stateCount: 20_000, listedCount: 20_000 },
    })
    // Seconds, not minutes: 5 s on an idle 2-core machine, more while the rest of the suite runs.
    expect(elapsed).toBeLessThan(30_000)
  })
})

describe('status on S3 (SeaweedFS) with 100 and 1,100 activities', () => {
  it('the fast path makes the same two GETs; --deep lists in pages', async () => {
    const a = await status(new S3Store({ bucket: buckets.small, client }))
    const b = await status(new S3Store({ bucket: buckets.large, client }))
    expect(a.requests.store).toEqual({ GetObject: 2 })
    expect(b.requests.store).toEqual(a.requests.store)
    expect(b.activities.stored).toBe(1_100)

    const deep = await status(new S3Store({ bucket: buckets.large, client }), true)
    expect(deep.requests.store).toEqual({ GetObject: 2, ListObjectsV2: 2 })
    expect(deep.deep).toMatchObject({
      activities: 1_100,
      listRequests: 2,
      byYear: figuresOf(s3Large).byYear,
      byType: figuresOf(s3Large).byType,
      drift: { detected: false },
    })
  })
})
