/**
 * SIGKILL at seeded random moments: the built CLI (`npm run build` first) is killed during backfill,
 * incremental and multi-dataset (`--data fit,sleep`) runs, into a folder and into S3 (moto). After
 * each kill nothing in the store is partial and the state claims nothing unstored; a rerun then
 * restores "the store holds exactly the expected set, every object whole, nothing twice".
 * CI kills 5 times in each of the six scenarios (30); GARMIN_S3_RELIABILITY_LONG=1 kills 7 times (42).
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import { DirStore, S3Store } from '../../src/store/index.js'
import type { Store } from '../../src/store/types.js'
import { runSyncWithDatasets, type SyncOptions } from '../../src/sync/index.js'
import { assertBuilt, cliEnv, runCli, signIn, tempDir } from '../e2e/sync-helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { mulberry32 } from '../sim/prng.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'
import { auditStore, expectComplete, expectConsistent, PREFIX } from './invariants.js'
import { killSwitch } from './kill.js'
import { startS3FaultProxy } from './s3-fault-proxy.js'

/** Per scenario: CI kills 5 times in each of the six (30), the long run 7 times (42). */
const KILLS = LONG ? 7 : 5
const DAYS_BACK = 45

type Mode = 'backfill' | 'incremental' | 'multi-dataset'
type Target = 'folder' | 's3'
const SCENARIOS: Array<{ mode: Mode; target: Target; seed: number }> = [
  { mode: 'backfill', target: 'folder', seed: 1 },
  { mode: 'backfill', target: 's3', seed: 2 },
  { mode: 'incremental', target: 'folder', seed: 3 },
  { mode: 'incremental', target: 's3', seed: 4 },
  { mode: 'multi-dataset', target: 'folder', seed: 5 },
  { mode: 'multi-dataset', target: 's3', seed: 6 },
]

let home: { path: string; remove: () => Promise<void> }
const sims: Simulator[] = []
const closers: Array<() => Promise<void>> = []

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('crashes')
})
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()))
  await Promise.all(closers.map((c) => c()))
  await home?.remove()
})

function optionsFor(mode: Mode): SyncOptions {
  const base = { prefix: PREFIX, runner: 'cli' as const, toolVersion: 'test' }
  return mode === 'multi-dataset' ? { ...base, datasets: ['fit', 'sleep'], daysBack: DAYS_BACK } : base
}

async function activityFiles(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('activity_')).length
}

async function countObjects(store: Store): Promise<number> {
  let n = 0
  for await (const _ of store.list('raw-data/')) n++
  return n
}

/** Data keys (control objects excluded: run manifests differ from run to run). */
function dataKeys(keys: string[]): string[] {
  return keys.filter((k) => !k.includes('/_garmin-s3/')).sort()
}

describe.concurrent.each(SCENARIOS)('SIGKILL during a $mode run into a $target', ({ mode, target, seed }) => {
  it('kills at seeded moments; each rerun restores the exact set', {
    timeout: LONG ? 240_000 : 180_000,
  }, async () => {
    // A moment is the N-th event of the run: an activity written (S3: a PutObject seen by a proxy;
    // folder: a new file), or for multi-dataset runs a Garmin call. The kill lands inside the sync,
    // not in the CLI's start-up.
    let onEvent: (() => void) | undefined
    const sim = await startSimulator({
      activities: 40,
      seed,
      years: 1,
      latencyMs: 8,
      onRequest: () => {
        if (mode === 'multi-dataset') onEvent?.()
      },
    })
    sims.push(sim)
    const proxy = await startS3FaultProxy(inject('motoEndpoint'), (operation, key) => {
      if (mode !== 'multi-dataset' && operation === 'PutObject' && key.includes('/activity_')) onEvent?.()
    })
    closers.push(() => proxy.close())
    const tokens = join(home.path, `tokens-${mode}-${target}.json`)
    await signIn(sim, tokens)
    const env = cliEnv(sim, tokens, home.path)
    const client = new GarminClient({
      tokenStore: new FileTokenStore(tokens),
      endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
      clock: new FakeClock(Date.now()),
      random: () => 0.5,
    })
    const endpoint = inject('motoEndpoint')
    const s3 = testS3Client(endpoint)
    const options = optionsFor(mode)

    let n = 0
    const fresh = async (): Promise<{ store: Store; args: string[]; dir: string | undefined }> => {
      const label = `${mode}-${target}-${n++}`
      if (target === 'folder') {
        const out = join(home.path, label)
        return { store: new DirStore(out, { durable: false }), args: ['--out', out], dir: join(out, PREFIX) }
      }
      const bucket = await createTestBucket(s3, `crash-${seed}`)
      return {
        store: new S3Store({ bucket, client: s3 }),
        args: ['--bucket', bucket, '--endpoint', proxy.url, '--path-style'],
        dir: undefined,
      }
    }
    const extra = mode === 'multi-dataset' ? ['--data', 'fit,sleep', '--days-back', String(DAYS_BACK)] : []

    // What a clean run stores, as the reference for multi-dataset runs.
    const reference = await fresh()
    expect((await runSyncWithDatasets(options, { garmin: client, store: reference.store })).exitCode).toBe(0)
    const expected = dataKeys((await auditStore(reference.store, sim.listAll())).keys)

    const random = mulberry32(9000 + seed)
    let target_ = mode === 'incremental' ? reference : undefined
    let kills = 0
    let midWrite = 0
    for (let i = 0; i < KILLS; i++) {
      if (mode === 'incremental') sim.addActivities(8)
      const run = target_ ?? (await fresh())
      const before = await countObjects(run.store)
      const writes = mode === 'incremental' ? 8 : 40
      const moment = 1 + Math.floor(random() * (mode === 'multi-dataset' ? 60 : writes - 1))
      const filesBefore = run.dir ? await activityFiles(run.dir) : 0
      const result = await runCli(['sync', ...run.args, ...extra], {
        env,
        onSpawn: (child) => {
          const observed =
            run.dir && mode !== 'multi-dataset'
              ? async () => (await activityFiles(run.dir!)) - filesBefore
              : undefined
          const kill = killSwitch(child, moment, observed)
          onEvent = () => kill.event()
          child.on('exit', () => {
            onEvent = undefined
          })
        },
      })
      if (result.signal === 'SIGKILL') kills++
      else expect(result.code, result.stderr).toBe(0)

      const served = sim.listAll()
      const afterKill = await auditStore(run.store, served)
      expectConsistent(afterKill, served, `killed at event ${moment}`)
      if (result.signal === 'SIGKILL' && (await countObjects(run.store)) > before) midWrite++

      const rerun = await runSyncWithDatasets(options, { garmin: client, store: run.store })
      expect(rerun.exitCode, rerun.errors[0]?.message).toBe(0)
      const audit = await auditStore(run.store, served)
      if (mode === 'multi-dataset') {
        expectConsistent(audit, served)
        expect(dataKeys(audit.keys)).toEqual(expected)
      } else {
        expectComplete(audit, served, `rerun after a kill at event ${moment}`)
      }
      if (mode === 'incremental') target_ = run
    }
    recordFigure('kills', kills)
    recordFigure('kills mid-write', midWrite)
  })
})
