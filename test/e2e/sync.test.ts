/**
 * `garmin-s3 sync` end to end: the built CLI against the Garmin simulator, into a folder, moto S3
 * and SeaweedFS. The acceptance criteria of the sync issue, one describe per target.
 */
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { createTestBucket, S3_SERVERS, testS3Client } from '../helpers/s3.js'
import type { Simulator } from '../sim/server.js'
import {
  bucketActivities,
  bucketSnapshot,
  e2eHome,
  etagOf,
  expectSameActivities,
  folderActivities,
  folderSnapshot,
  PREFIX,
  runCli,
  syncJson,
  total,
} from './sync-helpers.js'

interface Target {
  args: string[]
  /** Every object: key -> a content fingerprint (ETag + size on S3, sha256 in a folder). */
  snapshot(): Promise<Map<string, string>>
  /** The stored activities are exactly `served` (`snapshot` is a fresh one). */
  verify(served: ActivityEntry[], snapshot: Map<string, string>): Promise<void>
}

const keyOf = (a: ActivityEntry) => `${PREFIX}activity_${a.activityId}.json`

const targets: Array<{ name: string; setup: (home: string) => Promise<Target> }> = [
  {
    name: 'a folder',
    setup: async (home) => {
      const out = join(home, 'garmin-data')
      return {
        args: ['--out', out],
        snapshot: () => folderSnapshot(out),
        verify: async (served) => expectSameActivities(await folderActivities(out), served),
      }
    },
  },
  ...S3_SERVERS.map((server) => ({
    name: server.name,
    setup: async (): Promise<Target> => {
      const endpoint = server.endpoint()
      const client = testS3Client(endpoint)
      const bucket = await createTestBucket(client, 'e2e-sync')
      return {
        args: ['--bucket', bucket, '--endpoint', endpoint, '--path-style'],
        snapshot: () => bucketSnapshot(client, bucket),
        verify: async (served, snapshot) => {
          // Every object's bytes, through its ETag (the MD5 of a single-part upload)...
          const activityKeys = [...snapshot.keys()].filter((k) => k.startsWith(`${PREFIX}activity_`))
          expect(activityKeys.length).toBe(served.length)
          for (const a of served)
            expect(snapshot.get(keyOf(a))?.split(' ')[0], keyOf(a)).toBe(etagOf(JSON.stringify(a)))
          // ...and a sample read back and parsed, emoji names among them.
          const emoji = served
            .filter((a) => /\p{Extended_Pictographic}/u.test(String(a.activityName)))
            .slice(0, 20)
          const sample = [...new Set([...served.slice(0, 15), ...emoji])]
          expectSameActivities(await bucketActivities(client, bucket, sample.map(keyOf)), sample)
        },
      }
    },
  })),
]

// The targets are independent, so they run concurrently; within one, the runs build on each other.
describe.concurrent.each(targets)('sync into $name', ({ setup }) => {
  const home = e2eHome('sync')
  let sim: Simulator
  let env: NodeJS.ProcessEnv
  let target: Target
  let snapshot: Map<string, string>

  beforeAll(async () => {
    ;({ sim, env } = await home.account('sync', { activities: 1000, years: 4, seed: 41 }))
    target = await setup(home.path())
  })

  it.sequential('first run writes 1,000 objects equal to what Garmin served (ids exact, emoji intact)', async () => {
    const { report, result } = await syncJson(target.args, env)
    expect(result.code, result.stderr).toBe(0)
    expect(report).toMatchObject({ created: 1000, failed: 0, partial: false, exitCode: 0, prefix: PREFIX })
    snapshot = await target.snapshot()
    await target.verify(sim.listAll(), snapshot)
    // One PUT per activity; the rest is a handful of control requests, and no HEADs.
    expect(report.requests.store.PutObject).toBeLessThanOrEqual(1000 + 10)
    expect(report.requests.store.HeadObject ?? 0).toBe(0)
  }, 120_000)

  it.sequential('a second run with nothing new makes at most 2 Garmin calls and 4 storage requests', async () => {
    sim.resetStats()
    const { report, result } = await syncJson(target.args, env)
    expect(result.code, result.stderr).toBe(0)
    expect(report.created).toBe(0)
    expect(sim.stats().total).toBeLessThanOrEqual(2)
    expect(sim.stats().byRoute.activityList).toEqual({ '200': 1 })
    expect(total(report.requests.store)).toBeLessThanOrEqual(4)
  })

  it.sequential('new activities are the only objects written, with one PUT each', async () => {
    const before = snapshot
    const added = sim.addActivities(5)
    const { report, result } = await syncJson(target.args, env)
    expect(result.code, result.stderr).toBe(0)
    expect(report.created).toBe(5)
    // 5 activities + the state + the run manifest.
    expect(report.requests.store.PutObject).toBe(5 + 2)
    snapshot = await target.snapshot()
    const written = [...snapshot.keys()].filter((k) => !before.has(k) && k.startsWith(PREFIX))
    expect(written.sort()).toEqual(added.map(keyOf).sort())
    for (const [key, value] of before) if (key.startsWith(PREFIX)) expect(snapshot.get(key), key).toBe(value)
  })

  it.sequential('--dry-run leaves the store byte-identical and says what it would write', async () => {
    sim.addActivities(3)
    const result = await runCli(['sync', ...target.args, '--dry-run'], { env })
    expect(result.code, result.stderr).toBe(0)
    expect(
      result.stderr.match(/would write activity raw-data\/garmin-json\/activity_\d+\.json/g),
    ).toHaveLength(3)
    expect(result.stderr).toMatch(/would write state raw-data\/_garmin-s3\/state\.json/)
    expect(result.stdout).toMatch(/Dry run: would copy 3 new activities to .*; nothing was written/)
    expect(await target.snapshot()).toEqual(snapshot)
  })
})
