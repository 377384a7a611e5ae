/**
 * `status` against moto S3, SeaweedFS and a folder, after scripted syncs from the Garmin simulator:
 * every figure matches what the syncs wrote; deleted objects show as drift that --repair fixes and
 * the next sync copies again; a bucket filled only by the original Python pipeline is reported as
 * such, and adopted by a sync.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { gatherStatus, type StatusReport } from '../../src/status/index.js'
import { DirStore } from '../../src/store/dir.js'
import { S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { activityKey, runSync } from '../../src/sync/index.js'
import { MemoryTokenStore } from '../deploy/helpers.js'
import { signIn, simClient } from '../e2e/sync-helpers.js'
import { createTestBucket, mapLimit, testS3Client } from '../helpers/s3.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { figuresOf, PREFIX, SKIP_AWS } from './helpers.js'

interface Target {
  /** A new Store instance on the same data (its request counts start at zero). */
  store(): Store
  /** Writes or deletes behind garmin-s3's back. */
  put(key: string, body: string): Promise<void>
  remove(key: string): Promise<void>
  close(): Promise<void>
}

async function s3Target(endpoint: string): Promise<Target> {
  const client: S3Client = testS3Client(endpoint)
  const bucket = await createTestBucket(client, 'status')
  return {
    store: () => new S3Store({ bucket, client }),
    put: async (Key, Body) => void (await client.send(new PutObjectCommand({ Bucket: bucket, Key, Body }))),
    remove: async (Key) => void (await client.send(new DeleteObjectCommand({ Bucket: bucket, Key }))),
    close: async () => client.destroy(),
  }
}

async function folderTarget(): Promise<Target> {
  const root = await mkdtemp(join(tmpdir(), 'garmin-s3-status-'))
  return {
    store: () => new DirStore(root, { durable: false }),
    put: async (key, body) => {
      await new DirStore(root, { durable: false }).putIfAbsent(key, body, 'application/json')
    },
    remove: (key) => rm(join(root, key)),
    close: () => rm(root, { recursive: true, force: true }),
  }
}

const TARGETS: { name: string; open: () => Promise<Target> }[] = [
  { name: 'moto S3', open: () => s3Target(inject('motoEndpoint')) },
  { name: 'SeaweedFS', open: () => s3Target(inject('seaweedEndpoint')) },
  { name: 'a folder', open: folderTarget },
]

const tokens = new MemoryTokenStore(undefined)
const status = (store: Store, extra: { deep?: boolean; repair?: boolean } = {}): Promise<StatusReport> =>
  gatherStatus(
    { prefix: PREFIX, deploymentName: 'garmin-s3', ...extra },
    { store, tokenStore: tokens, aws: SKIP_AWS },
  )

describe.each(TARGETS)('status on $name', ({ open }) => {
  let target: Target
  let sim: Simulator
  let tmp: string
  let tokenPath: string

  beforeAll(async () => {
    target = await open()
    tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-status-tokens-'))
    tokenPath = join(tmp, 'tokens.json')
    sim = await startSimulator({ activities: 80, years: 3, seed: 61 })
    await signIn(sim, tokenPath)
  })

  afterAll(async () => {
    await sim.close()
    await target.close()
    await rm(tmp, { recursive: true, force: true })
  })

  const sync = (runner: 'cli' | 'lambda' | 'github-actions') =>
    runSync(
      { prefix: PREFIX, runner, toolVersion: '0.0.0-test' },
      { garmin: simClient(sim, tokenPath), store: target.store() },
    )

  it('after scripted syncs every figure matches what was written, from two GETs (state and dataset cursors)', async () => {
    const first = await sync('cli')
    expect(first.created).toBe(80)
    sim.addActivities(4)
    const second = await sync('github-actions')
    expect(second.created).toBe(4)
    await target.put(`${PREFIX}notes.txt`, 'hello')
    const expected = figuresOf(sim.listAll())

    const store = target.store()
    const fast = await status(store)
    expect(fast.requests.store).toEqual({ GetObject: 2 })
    expect(fast.state.present).toBe(true)
    expect(fast.activities).toEqual({
      stored: 84,
      newest: expected.newest,
      oldest: expected.oldest,
      historyComplete: true,
      quarantined: 0,
      dataPresent: null,
      // The first sync listed the whole history: that counts as the first reconcile (docs/changes.md).
      changes: {
        changed: 0,
        deleted: 0,
        lastReconcileAt: expect.any(String),
        nextReconcileDue: expect.any(String),
        reconcileDays: 7,
      },
    })
    expect(fast.lastRun).toMatchObject({
      runId: second.runId,
      runner: 'github-actions',
      created: 4,
      failed: 0,
      partial: false,
      exitCode: 0,
      startedAt: second.startedAt,
      manifestKey: second.manifestKey,
    })
    // The state is saved just before the run manifest: its duration stops there.
    expect(fast.lastRun?.durationMs).toBeLessThanOrEqual(second.durationMs)
    expect(fast.recentRuns.map((r) => [r.runner, r.created])).toEqual([
      ['github-actions', 4],
      ['cli', 80],
    ])
    expect(fast.lastSuccessAt).toBe(fast.lastRun?.finishedAt)
    expect(fast.deep).toBeNull()

    const deep = await status(target.store(), { deep: true })
    expect(deep.deep).toMatchObject({
      objects: 85,
      bytes: expected.bytes + 'hello'.length,
      activities: 84,
      byYear: expected.byYear,
      byType: expected.byType,
      uncatalogued: 0,
      offLayout: { count: 1, examples: [`${PREFIX}notes.txt`] },
      drift: { detected: false, stateCount: 84, listedCount: 84, missing: { count: 0, examples: [] } },
      repair: null,
    })
    expect(Object.values(expected.byType).length).toBeGreaterThan(1)
    expect(Object.keys(expected.byYear).length).toBeGreaterThan(1)
    expect(deep.health.verdict).toBe('OK')
  })

  it('deleted activities show as drift; --repair rewrites the state and the next sync copies them again', async () => {
    const all = sim.listAll()
    const gone = [all[0]!, all[all.length - 1]!] // the newest and the oldest
    for (const e of gone) await target.remove(activityKey(PREFIX, e.activityId))

    const drifted = await status(target.store(), { deep: true })
    expect(drifted.deep?.drift).toEqual({
      detected: true,
      stateCount: 84,
      listedCount: 82,
      missing: { count: 2, examples: gone.map((e) => e.activityId).sort((a, b) => a - b) },
    })
    expect(drifted.health.verdict).toBe('WARN')
    expect(drifted.health.causes.map((c) => c.code)).toEqual(['drift'])
    expect(drifted.health.causes[0]?.next).toMatch(/--repair/)

    const repaired = await status(target.store(), { repair: true })
    expect(repaired.deep?.repair).toMatchObject({ written: true, storedBefore: 84, storedAfter: 82 })
    expect(repaired.activities.stored).toBe(82)
    expect(repaired.health.verdict).toBe('OK')
    const after = await status(target.store(), { deep: true })
    expect(after.deep?.drift.detected).toBe(false)
    expect(after.activities.stored).toBe(82)

    const resync = await sync('cli')
    expect(resync.created).toBe(2)
    const healed = await status(target.store(), { deep: true })
    expect(healed.deep).toMatchObject({ activities: 84, drift: { detected: false, stateCount: 84 } })
    expect(healed.deep?.byYear).toEqual(figuresOf(all).byYear)
  })

  it('a prefix filled only by the original Python pipeline: the fast path says so, --deep counts it', async () => {
    const other = await open()
    try {
      const pipelineSim = await startSimulator({ activities: 60, years: 2, seed: 62 })
      const pipelineTokens = join(tmp, 'pipeline-tokens.json')
      await signIn(pipelineSim, pipelineTokens)
      // The original Lambda stored the newest 40 list entries, one object each, and no state.
      const written: ActivityEntry[] = pipelineSim.listAll().slice(0, 40)
      await mapLimit(written, 8, (e) => other.put(activityKey(PREFIX, e.activityId), JSON.stringify(e)))

      const fast = await status(other.store())
      expect(fast.state.present).toBe(false)
      expect(fast.activities).toMatchObject({ stored: null, dataPresent: true })
      expect(fast.requests.store).toEqual({ GetObject: 2, ListObjectsV2: 1 })
      expect(fast.health.verdict).toBe('WARN')
      expect(fast.health.causes.map((c) => c.code)).toEqual(['no-state'])
      expect(fast.health.causes[0]?.next).toMatch(/status --deep/)
      expect(fast.health.causes[0]?.next).toMatch(/garmin-s3 sync/)

      const deep = await status(other.store(), { deep: true })
      expect(deep.deep).toMatchObject({
        objects: 40,
        bytes: figuresOf(written).bytes,
        activities: 40,
        uncatalogued: 40,
        byYear: {},
        offLayout: { count: 0 },
        drift: { detected: false, stateCount: null, listedCount: 40 },
      })
      const repair = await status(other.store(), { repair: true })
      expect(repair.deep?.repair).toMatchObject({ written: false })
      expect(repair.deep?.repair?.message).toMatch(/No state/)

      // A sync adopts the 40 without rewriting them; afterwards year and type are known for all.
      const report = await runSync(
        { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test' },
        { garmin: simClient(pipelineSim, pipelineTokens), store: other.store() },
      )
      expect(report.created).toBe(20)
      const adopted = await status(other.store(), { deep: true })
      expect(adopted.deep).toMatchObject({
        activities: 60,
        uncatalogued: 0,
        byYear: figuresOf(pipelineSim.listAll()).byYear,
        drift: { detected: false },
      })
      expect(adopted.health.verdict).toBe('OK')
      await pipelineSim.close()
    } finally {
      await other.close()
    }
  })
})

describe('a folder that does not exist yet', () => {
  it('is "nothing synced", not an error', async () => {
    const report = await status(new DirStore(join(tmpdir(), `garmin-s3-missing-${process.pid}`, 'nowhere')))
    expect(report.health.verdict).toBe('FAIL')
    expect(report.health.causes.map((c) => c.code)).toEqual(['nothing-synced'])
  })
})
