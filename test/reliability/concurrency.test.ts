/**
 * Four syncs at once on one bucket (moto) and on one folder, as separate CLI processes: every
 * activity stored once with the right content, the state object whole and consistent (its
 * compare-and-swap conflicts were retried, so no run's progress is lost). The long run repeats it
 * over incremental rounds.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DirStore, S3Store } from '../../src/store/index.js'
import type { Store } from '../../src/store/types.js'
import { readSyncState } from '../../src/sync/index.js'
import { assertBuilt, cliEnv, signIn, syncJson, tempDir } from '../e2e/sync-helpers.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'
import { auditStore, expectComplete, PREFIX } from './invariants.js'

const RUNS = 4
const ROUNDS = LONG ? 3 : 1

let home: { path: string; remove: () => Promise<void> }
const sims: Simulator[] = []
beforeAll(async () => {
  assertBuilt()
  home = await tempDir('concurrency')
})
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()))
  await home?.remove()
})

describe.concurrent.each(['s3', 'folder'] as const)('%s', (target) => {
  it(`${RUNS} syncs at once: each activity once, the state whole and consistent`, {
    timeout: LONG ? 180_000 : 60_000,
  }, async () => {
    const sim = await startSimulator({
      activities: 16,
      seed: target === 's3' ? 31 : 32,
      years: 1,
      latencyMs: 3,
    })
    sims.push(sim)
    const tokens = join(home.path, `tokens-${target}.json`)
    await signIn(sim, tokens)
    const env = cliEnv(sim, tokens, home.path)
    let store: Store
    let args: string[]
    if (target === 's3') {
      const endpoint = inject('motoEndpoint')
      const s3 = testS3Client(endpoint)
      const bucket = await createTestBucket(s3, 'concurrent')
      store = new S3Store({ bucket, client: s3 })
      args = ['--bucket', bucket, '--endpoint', endpoint, '--path-style']
    } else {
      const out = join(home.path, 'out')
      store = new DirStore(out, { durable: false })
      args = ['--out', out]
    }

    let runs = 0
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) sim.addActivities(10)
      const results = await Promise.all(Array.from({ length: RUNS }, () => syncJson(args, env)))
      for (const { result } of results) expect(result.code, result.stderr).toBe(0)
      runs += RUNS
      const served = sim.listAll()
      const created = results.reduce((n, r) => n + r.report.created, 0)
      expect(created).toBe(round === 0 ? served.length : 10)
      expectComplete(await auditStore(store, served), served, `round ${round}`)
      const state = await readSyncState(store, PREFIX)
      expect(state).toMatchObject({ backfillComplete: true, counts: { created: served.length, runs } })
      expect(state?.newestStartTimeGMT).toBe(served[0]!.startTimeGMT)
    }
    recordFigure('concurrent runs', runs)
  })
})
