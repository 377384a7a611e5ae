/**
 * Cost does not grow with the lake: the fast path makes the same requests for 100 and for 20,000
 * stored activities, and --deep lists 20,000 objects in pages, in seconds. Each store is seeded with
 * the objects and the state a complete sync leaves: a folder straight onto disk, moto through its
 * test-only bulk route (test/helpers/moto-server.py), SeaweedFS one PutObject at a time, 64 in flight
 * (~30 s alone, ~80 s while the rest of the suite runs: this file is the suite's longest, in parallel
 * with the others).
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
  await mapLimit(entries, 64, (e) => put(activityKey(PREFIX, e.activityId), JSON.stringify(e)))
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
    seedBucket(large),
    seedMoto(small),
    seedMoto(large),
  ])
  buckets = { small: s, large: l }
  motoBuckets = { small: ms, large: ml }
}, 240_000)

afterAll(async () => {
  client.destroy()
  moto.destroy()
  await privateMoto.stop()
  await rm(root, { recursive: true, force: true })
})

interface LargeTarget {
  name: string
  open: (size: 'small' | 'large') => Store
  /** ListObjectsV2 pages of 1,000 (S3 only; a folder is read directory by directory). */
  listPages?: number
}

const LARGE: LargeTarget[] = [
  { name: 'a folder', open: (size) => new DirStore(join(root, size)) },
  {
    name: 'S3 (moto)',
    open: (size) => new S3Store({ bucket: motoBuckets[size], client: moto }),
    // The state lives beside the data prefix (raw-data/_garmin-s3/): the listing holds the 20,000 only.
    listPages: 20,
  },
  {
    name: 'S3 (SeaweedFS)',
    open: (size) => new S3Store({ bucket: buckets[size], client }),
    listPages: 20,
  },
]

describe.each(LARGE)('status in $name with 100 and 20,000 activities', (target) => {
  it('the fast path makes the same two GETs for both', async () => {
    const a = await status(target.open('small'))
    const b = await status(target.open('large'))
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

  it('--deep counts 20,000 activities by year and type, listing in pages', async () => {
    const report = await status(target.open('large'), true)
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
    if (target.listPages !== undefined) {
      expect(report.requests.store.ListObjectsV2).toBe(target.listPages)
      expect(report.deep?.listRequests).toBe(target.listPages)
    }
  })
})
