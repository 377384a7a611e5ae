/**
 * Edited and deleted activities (issue 17, docs/changes.md): the lake follows Garmin and keeps every
 * version. The simulator over HTTP, the real client, a folder and SeaweedFS.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { DirStore } from '../../src/store/dir.js'
import { S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import type { SyncOptions } from '../../src/sync/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { NOW, PREFIX, signedInClient, syncer } from './helpers.js'

const HISTORY = 'raw-data/garmin-json-history/'
const DELETED = 'raw-data/garmin-json-deleted/'
const decoder = new TextDecoder()

const cleanups: Array<() => Promise<void>> = []
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c()
})

async function folderStore(): Promise<Store> {
  const root = await mkdtemp(join(tmpdir(), 'garmin-s3-changes-'))
  cleanups.push(() => rm(root, { recursive: true, force: true }))
  return new DirStore(root, { durable: false })
}

async function seaweedStore(): Promise<Store> {
  const client = testS3Client(inject('seaweedEndpoint'))
  return new S3Store({ bucket: await createTestBucket(client, 'changes'), client })
}

async function setup(activities = 40, store?: Store) {
  const sim = await startSimulator({ activities, years: 1, seed: 31, now: () => NOW })
  cleanups.push(() => sim.close())
  const clock = new FakeClock(NOW)
  const s = store ?? (await folderStore())
  const garmin = await signedInClient(sim, clock)
  const { sync, events } = syncer(garmin, s, clock)
  const run = (extra: Partial<SyncOptions> = {}) => sync({ datasets: ['activities'], ...extra })
  return { sim, clock, store: s, run, events, garmin, sync }
}

async function text(store: Store, key: string): Promise<string | undefined> {
  const object = await store.get(key)
  return object ? decoder.decode(object.body) : undefined
}

async function keys(store: Store, prefix: string): Promise<string[]> {
  const out: string[] = []
  for await (const info of store.list(prefix)) out.push(info.key)
  return out.sort()
}

const key = (id: number) => `${PREFIX}activity_${id}.json`

function listCalls(sim: Simulator): number {
  return Object.values(sim.stats().byRoute.activityList ?? {}).reduce((a, b) => a + b, 0)
}

describe.each([
  ['a folder', folderStore],
  ['SeaweedFS', seaweedStore],
])('rename, in %s', (_name, open) => {
  it('replaces the object and keeps the old body byte for byte in the history', async () => {
    const w = await setup(40, await open())
    expect((await w.run()).exitCode).toBe(0)
    const target = w.sim.listAll()[1]!
    const before = await text(w.store, key(target.activityId))
    w.clock.advance(60_000)
    w.sim.editActivity(target.activityId, { activityName: 'Renamed: the real route' })
    const report = await w.run()
    expect(report).toMatchObject({ exitCode: 0, changed: 1, created: 0 })
    expect(JSON.parse((await text(w.store, key(target.activityId)))!).activityName).toBe(
      'Renamed: the real route',
    )
    const history = await keys(w.store, `${HISTORY}activity_${target.activityId}/`)
    expect(history).toHaveLength(1)
    expect(history[0]).toMatch(/\/\d{8}T\d{6}\.\d{3}Z\.json$/)
    expect(await text(w.store, history[0]!)).toBe(before)
    // The next run has nothing to do: no new version, no read of the object.
    const again = await w.run()
    expect(again.changed ?? 0).toBe(0)
    expect(again.requests.store).toEqual({ GetObject: 1, PutObject: 2 })
    expect(await keys(w.store, HISTORY)).toHaveLength(1)
  })
})

describe('daily runs and reconciles', () => {
  it('a daily run compares the recent window only; --reconcile finds an edit anywhere', async () => {
    const w = await setup(60)
    await w.run()
    const old = w.sim.listAll().at(-5)!
    w.sim.editActivity(old.activityId, { distance: 4321.5 })
    expect((await w.run()).changed ?? 0).toBe(0)
    const listBefore = listCalls(w.sim)
    const report = await w.run({ reconcile: true })
    expect(report).toMatchObject({ exitCode: 0, changed: 1, reconciled: true })
    // 60 activities: one page of 1,000, then the empty page that ends the list.
    expect(listCalls(w.sim) - listBefore).toBe(2)
    expect(JSON.parse((await text(w.store, key(old.activityId)))!).distance).toBe(4321.5)
  })

  it('a deleted activity gets a tombstone after a 404 confirms it, and its object is kept', async () => {
    const w = await setup(30)
    await w.run()
    const gone = w.sim.listAll()[7]!
    const body = await text(w.store, key(gone.activityId))
    w.sim.deleteActivity(gone.activityId)
    w.clock.advance(3_600_000)
    const report = await w.run({ reconcile: true })
    expect(report).toMatchObject({ exitCode: 0, deleted: 1 })
    const tomb = JSON.parse((await text(w.store, `${DELETED}activity_${gone.activityId}.json`))!)
    expect(tomb).toEqual({
      activityId: gone.activityId,
      detectedAt: new Date(w.clock.now()).toISOString(),
      lastSeenAt: new Date(NOW).toISOString(),
    })
    expect(await text(w.store, key(gone.activityId))).toBe(body)
    expect(w.sim.stats().byRoute.activity).toEqual({ 404: 1 })
    // Known as deleted: the next reconcile does not ask again.
    await w.run({ reconcile: true })
    expect(w.sim.stats().byRoute.activity).toEqual({ 404: 1 })
    // --prune-deleted moves it into the history.
    const pruned = await w.run({ pruneDeleted: true })
    expect(pruned.pruned).toBe(1)
    expect(await text(w.store, key(gone.activityId))).toBeUndefined()
    const history = await keys(w.store, `${HISTORY}activity_${gone.activityId}/`)
    expect(history).toHaveLength(1)
    expect(await text(w.store, history[0]!)).toBe(body)
  })

  it('a reconcile becomes due by itself after --reconcile-days', async () => {
    const w = await setup(20)
    await w.run()
    const gone = w.sim.listAll()[2]!
    w.sim.deleteActivity(gone.activityId)
    w.clock.advance(6 * 86_400_000)
    expect((await w.run()).reconciled).toBeUndefined()
    w.clock.advance(86_400_000)
    expect(await w.run()).toMatchObject({ reconciled: true, deleted: 1 })
    w.clock.advance(86_400_000)
    expect((await w.run({ reconcileDays: 1 })).reconciled).toBe(true)
  })
})

describe('a listing fault in the middle of a reconcile', () => {
  it.each([
    ['a 503 page', { kind: 'status', status: 503 } as const],
    ['a truncated page', { kind: 'truncated' } as const],
  ])('%s creates no tombstone and no false change', async (_name, fault) => {
    const w = await setup(2500)
    await w.run()
    const all = w.sim.listAll()
    const gone = all[1500]!
    w.sim.deleteActivity(gone.activityId)
    // The first page of 1,000 arrives; every list call after it fails.
    const report = await runSyncWithDatasets(
      { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', datasets: ['activities'], reconcile: true },
      {
        garmin: w.garmin,
        store: w.store,
        clock: w.clock,
        log: (e) => {
          if (e.type === 'page' && e.page === 0)
            w.sim.addFault({ route: 'activityList', fault: { ...fault }, times: 1000 })
        },
      },
    )
    expect(report.stopReason).toBe('fatal')
    expect(report.requests.garmin.list).toBeGreaterThanOrEqual(2)
    expect(report.exitCode).not.toBe(0)
    expect(report.deleted ?? 0).toBe(0)
    expect(report.changed ?? 0).toBe(0)
    expect(await keys(w.store, DELETED)).toEqual([])
    expect(await keys(w.store, HISTORY)).toEqual([])
    w.sim.clearFaults()
    const clean = await w.run({ reconcile: true })
    expect(clean).toMatchObject({ deleted: 1 })
    expect(clean.changed ?? 0).toBe(0)
  })

  it('a 5xx on the confirmation is not a deletion', async () => {
    const w = await setup(30)
    await w.run()
    const gone = w.sim.listAll()[3]!
    w.sim.deleteActivity(gone.activityId)
    w.sim.addFault({ route: 'activity', fault: { kind: 'status', status: 500 } })
    const report = await w.run({ reconcile: true })
    expect(report.deleted ?? 0).toBe(0)
    expect(await keys(w.store, DELETED)).toEqual([])
    w.sim.clearFaults()
    expect((await w.run({ reconcile: true })).deleted).toBe(1)
  })
})

describe('per-activity datasets of an edited activity', () => {
  it('fetches details and splits again (old ones kept in their history), never the FIT original', async () => {
    const w = await setup(20)
    const data = ['activities', 'fit', 'details', 'splits']
    expect((await w.sync({ datasets: data })).exitCode).toBe(0)
    const target = w.sim.listAll()[0]!
    const detailsKey = `raw-data/garmin-details/activity_${target.activityId}.json`
    const splitsKey = `raw-data/garmin-splits/activity_${target.activityId}.json`
    const oldDetails = await text(w.store, detailsKey)
    const oldSplits = await text(w.store, splitsKey)
    const downloads = w.sim.stats().byRoute.download
    w.sim.editActivity(target.activityId, {
      duration: Number(target.duration) / 2,
      distance: Number(target.distance) / 2,
    })
    const report = await w.sync({ datasets: data })
    expect(report.exitCode).toBe(0)
    expect(report.changed).toBe(1)
    expect(report.datasets?.details).toMatchObject({ updated: 1 })
    expect(report.datasets?.splits).toMatchObject({ updated: 1 })
    expect(w.sim.stats().byRoute.download).toEqual(downloads)
    expect(await text(w.store, detailsKey)).not.toBe(oldDetails)
    const detailsHistory = await keys(
      w.store,
      `raw-data/garmin-details-history/activity_${target.activityId}/`,
    )
    expect(detailsHistory).toHaveLength(1)
    expect(await text(w.store, detailsHistory[0]!)).toBe(oldDetails)
    const splitsHistory = await keys(w.store, `raw-data/garmin-splits-history/activity_${target.activityId}/`)
    expect(await text(w.store, splitsHistory[0]!)).toBe(oldSplits)
    // Done: the next run fetches nothing again.
    const again = await w.sync({ datasets: data })
    expect(again.datasets?.details?.requests).toBe(0)
    expect(again.datasets?.splits?.requests).toBe(0)
  })
})

describe('seed compatibility and concurrency', () => {
  it('--no-track-changes keeps the skip-only behaviour', async () => {
    const w = await setup(20)
    await w.run()
    const target = w.sim.listAll()[0]!
    const before = await text(w.store, key(target.activityId))
    w.sim.editActivity(target.activityId, { activityName: 'not followed' })
    const report = await w.run({ trackChanges: false })
    expect(report.changed ?? 0).toBe(0)
    expect(await text(w.store, key(target.activityId))).toBe(before)
    expect(await keys(w.store, HISTORY)).toEqual([])
  })

  it('--dry-run reports the replacement and the deletion, and writes neither', async () => {
    const w = await setup(20)
    await w.run()
    const [target, gone] = [w.sim.listAll()[0]!, w.sim.listAll()[5]!]
    const before = await text(w.store, key(target.activityId))
    w.sim.editActivity(target.activityId, { activityName: 'planned only' })
    w.sim.deleteActivity(gone.activityId)
    const report = await w.run({ dryRun: true, reconcile: true })
    expect(report).toMatchObject({ changed: 1, deleted: 1, dryRun: true })
    expect(await text(w.store, key(target.activityId))).toBe(before)
    expect(await keys(w.store, HISTORY)).toEqual([])
    expect(await keys(w.store, DELETED)).toEqual([])
    const lines = w.events.flatMap((e) => (e.type === 'dry-run' ? [e.message] : []))
    expect(lines.some((l) => l.startsWith('would write activity history '))).toBe(true)
    expect(lines.some((l) => l.startsWith('would write tombstone '))).toBe(true)
  })

  it.each([
    ['a folder', folderStore],
    ['SeaweedFS', seaweedStore],
  ])('two reconciles at once lose no version, in %s', async (_name, open) => {
    const w = await setup(50, await open())
    await w.run()
    const edited = w.sim.listAll().slice(0, 10)
    const before = new Map<number, string>()
    for (const e of edited) before.set(e.activityId, (await text(w.store, key(e.activityId)))!)
    for (const e of edited) w.sim.editActivity(e.activityId, { activityName: `v2 ${e.activityId}` })
    const second = syncer(await signedInClient(w.sim, w.clock), w.store, w.clock)
    const [a, b] = await Promise.all([
      w.run({ reconcile: true }),
      second.sync({ datasets: ['activities'], reconcile: true }),
    ])
    expect([a.exitCode, b.exitCode]).toEqual([0, 0])
    for (const e of edited) {
      expect(JSON.parse((await text(w.store, key(e.activityId)))!).activityName).toBe(`v2 ${e.activityId}`)
      const history = await keys(w.store, `${HISTORY}activity_${e.activityId}/`)
      const bodies = await Promise.all(history.map((k) => text(w.store, k)))
      expect(bodies).toContain(before.get(e.activityId))
    }
  })
})
