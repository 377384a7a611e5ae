/**
 * The fault matrix: each phase of a sync (token refresh, listing, writing objects, saving state,
 * writing the manifest) meets each fault Garmin or S3 can throw. Garmin faults come from the
 * simulator; S3 faults from a proxy in front of moto, so the AWS SDK's own retries are what is tested.
 * For every cell: the exit code and message, no partial object, the state never ahead of the store,
 * and a clean rerun ends with the complete set. Waiting on Garmin runs on a FakeClock.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { isGarminS3Error } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import { DirStore, S3Store } from '../../src/store/index.js'
import type { Store } from '../../src/store/types.js'
import { runSync, type SyncReport } from '../../src/sync/index.js'
import { signIn, tempDir } from '../e2e/sync-helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import type { FaultRule, Simulator } from '../sim/server.js'
import { startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'
import { auditStore, expectComplete, expectConsistent, PREFIX } from './invariants.js'
import { type S3FaultRule, startS3FaultProxy } from './s3-fault-proxy.js'

/** Garmin cells write to a folder; S3 cells, slower through moto, use a smaller account. */
const ACTIVITIES = 30
const S3_ACTIVITIES = 15
/** The client timeout of the cells with a slow Garmin (the others keep the default 30 s, so load cannot flake them). */
const TIMEOUT_MS = 500

interface Cell {
  phase:
    | 'token refresh'
    | 'listing'
    | 'reading state'
    | 'writing objects'
    | 'saving state'
    | 'writing manifest'
  fault: string
  garmin?: FaultRule
  /** Access token spent and refresh refused (a revoked session). */
  revoke?: boolean
  /** Force a token refresh at the first data call. */
  expire?: boolean
  s3?: S3FaultRule
  /** The fault hits one activity key only. */
  oneKey?: boolean
  /** Sign in again before the rerun. */
  relogin?: boolean
  exitCode: number
  partial: boolean
  hint?: RegExp
  /** Only with GARMIN_S3_RELIABILITY_LONG=1 (slow: real SDK back-off, or redundant with a kept cell). */
  long?: boolean
}

const G = (route: FaultRule['route'], fault: FaultRule['fault'], times = 50): FaultRule => ({
  route,
  fault,
  times,
})
const S = (
  operation: S3FaultRule['operation'],
  fault: S3FaultRule['fault'],
  keyContains: string,
  times = 1,
): S3FaultRule => ({
  operation,
  fault,
  keyContains,
  times,
})

const garminFaults: Array<[string, FaultRule['fault']]> = [
  ['429 with Retry-After', { kind: 'status', status: 429, retryAfter: 30 }],
  ['429 without Retry-After', { kind: 'status', status: 429 }],
  ['500', { kind: 'status', status: 500 }],
  ['502', { kind: 'status', status: 502 }],
  ['503', { kind: 'status', status: 503 }],
  ['connection reset', { kind: 'reset' }],
  ['slow past the timeout', { kind: 'latency', ms: TIMEOUT_MS * 3 }],
  ['HTML challenge', { kind: 'html' }],
  ['malformed JSON', { kind: 'malformed' }],
  ['truncated JSON', { kind: 'truncated' }],
]

const CELLS: Cell[] = []
for (const [name, fault] of garminFaults) {
  // Bot challenges and unreadable answers are not retried: they stop the run at once.
  const fatalAtOnce = fault.kind === 'html' || fault.kind === 'malformed'
  const code = fault.kind === 'malformed' ? 1 : 4
  CELLS.push({
    phase: 'listing',
    fault: name,
    garmin: G('activityList', fault),
    exitCode: code,
    partial: true,
  })
  CELLS.push({
    phase: 'token refresh',
    fault: name,
    garmin: G('token', fault),
    expire: true,
    exitCode: code,
    partial: true,
    // The refresh ran but its answer was lost: Garmin has rotated the refresh token, so sign in again.
    relogin: fault.kind === 'truncated',
  })
  CELLS.push({
    phase: 'listing',
    fault: `${name} once`,
    garmin: G('activityList', fault, 1),
    exitCode: fatalAtOnce ? code : 0,
    partial: fatalAtOnce,
    long: !fatalAtOnce && !(fault.kind === 'status' && (fault.status === 429 || fault.status === 503)),
  })
}
CELLS.push({
  phase: 'listing',
  fault: 'token revoked mid-run',
  revoke: true,
  exitCode: 3,
  partial: true,
  hint: /garmin-s3 login/,
})

const s3Faults: Array<[string, S3FaultRule['fault']]> = [
  ['503 SlowDown', { kind: 'slowDown' }],
  ['500', { kind: 'internal' }],
  ['connection reset', { kind: 'reset' }],
  ['403 AccessDenied', { kind: 'accessDenied' }],
  ['slow PUT', { kind: 'slow', ms: 300 }],
]
const s3Phases: Array<[Cell['phase'], S3FaultRule['operation'], string]> = [
  ['listing', 'ListObjectsV2', ''],
  ['reading state', 'GetObject', 'state.json'],
  ['writing objects', 'PutObject', 'activity_'],
  ['saving state', 'PutObject', 'state.json'],
  ['writing manifest', 'PutObject', '/runs/'],
]
/** In CI each S3 phase gets one fault retried away and one that outlasts the retries, rotating kinds. */
const CI_ONCE: S3FaultRule['fault']['kind'][] = ['slowDown', 'internal', 'reset']
const CI_REPEATED: S3FaultRule['fault']['kind'][] = ['reset', 'internal']
s3Phases.forEach(([phase, operation, key], i) => {
  for (const [name, fault] of s3Faults) {
    if (fault.kind === 'slow' && operation !== 'PutObject') continue
    const denied = fault.kind === 'accessDenied'
    // Once: the SDK retries it away (AccessDenied is not retried: it stops the run).
    CELLS.push({
      phase,
      fault: `${name} once`,
      s3: S(operation, fault, key, 1),
      exitCode: denied ? 1 : 0,
      partial: denied,
      long: denied || fault.kind === 'slow' ? phase !== 'writing objects' : fault.kind !== CI_ONCE[i % 3],
    })
    // Five times in a row on one key: more than the SDK's 3 attempts.
    if (fault.kind !== 'slow' && !denied)
      CELLS.push({
        phase,
        fault: `${name} x5`,
        s3: S(operation, fault, key, 5),
        oneKey: phase === 'writing objects',
        exitCode: phase === 'writing objects' ? 5 : 1,
        partial: true,
        long: fault.kind !== CI_REPEATED[i % 2],
      })
  }
})

let home: { path: string; remove: () => Promise<void> }
const closers: Array<() => Promise<void>> = []

beforeAll(async () => {
  home = await tempDir('matrix')
})
afterAll(async () => {
  await Promise.all(closers.map((c) => c()))
  await home?.remove()
})

function client(sim: Simulator, tokens: string, timeoutMs?: number): GarminClient {
  return new GarminClient({
    tokenStore: new FileTokenStore(tokens),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    clock: new FakeClock(Date.now()),
    random: () => 0.5,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
  })
}

/** A failure names its side and says what happened, never a bare code. */
const MESSAGE = {
  garmin: /^(Garmin|Refreshing the Garmin token)\b.{20,}/,
  s3: /(S3|access denied|run manifest)/,
}

const options = { prefix: PREFIX, runner: 'cli' as const, toolVersion: 'test', concurrency: 4 }
const RUN = CELLS.filter((c) => LONG || !c.long)
/** Cells in flight at once: most of a cell's time is the SDK's back-off, which costs no CPU. */
const PARALLEL = 8
const outcomes = new Map<Cell, Promise<void>>()

beforeAll(() => {
  // Every cell starts here, a bounded number at a time; each test below awaits its own cell.
  const queue = RUN.map((cell, id) => ({ cell, id }))
  const gates = new Map<Cell, { resolve: () => void; reject: (e: unknown) => void }>()
  for (const { cell } of queue) {
    const p = new Promise<void>((resolve, reject) => gates.set(cell, { resolve, reject }))
    p.catch(() => {})
    outcomes.set(cell, p)
  }
  const worker = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const gate = gates.get(next.cell)!
      await runCell(next.cell, next.id).then(gate.resolve, gate.reject)
    }
  }
  for (let i = 0; i < PARALLEL; i++) void worker()
})

describe.each(RUN)('$phase x $fault', (cell) => {
  it('keeps the store consistent and the next run completes it', () => outcomes.get(cell))
})

async function runCell(cell: Cell, id: number): Promise<void> {
  {
    const sim = await startSimulator({
      activities: cell.s3 ? S3_ACTIVITIES : ACTIVITIES,
      seed: 100 + id,
      years: 1,
    })
    closers.push(() => sim.close())
    const proxy = await startS3FaultProxy(inject('motoEndpoint'))
    closers.push(() => proxy.close())
    const tokens = join(home.path, `tokens-${id}.json`)
    await signIn(sim, tokens)
    let store: Store
    if (cell.s3) {
      const bucket = await createTestBucket(testS3Client(inject('motoEndpoint')), `matrix-${id}`)
      store = new S3Store({ bucket, client: testS3Client(proxy.url) })
      const target = sim.listAll()[7]!
      proxy.addFault(cell.oneKey ? { ...cell.s3, keyContains: `activity_${target.activityId}.` } : cell.s3)
    } else {
      store = new DirStore(join(home.path, `out-${id}`), { durable: false })
    }
    if (cell.garmin) sim.addFault(cell.garmin)
    if (cell.expire) sim.expireAccessTokensAfter(0)
    if (cell.revoke) {
      sim.expireAccessTokensAfter(1)
      sim.revokeRefreshTokens()
    }

    let report: Pick<SyncReport, 'exitCode' | 'partial' | 'errors' | 'created'>
    try {
      const slow = cell.garmin?.fault.kind === 'latency'
      report = await runSync(options, { garmin: client(sim, tokens, slow ? TIMEOUT_MS : undefined), store })
    } catch (error) {
      // Only before anything is written (the state cannot be read): a clear error with an exit code.
      if (!isGarminS3Error(error)) throw error
      report = { exitCode: error.exitCode, partial: true, errors: [{ message: error.message }], created: 0 }
    }
    sim.clearFaults()
    proxy.clearFaults()
    const served = sim.listAll()
    expectConsistent(await auditStore(store, served), served, 'after the fault')
    expect(report.exitCode, report.errors[0]?.message).toBe(cell.exitCode)
    expect(report.partial).toBe(cell.partial)
    if (cell.partial) expect(report.errors[0]?.message ?? '').toMatch(MESSAGE[cell.s3 ? 's3' : 'garmin'])
    if (cell.hint) expect(report.errors[0]?.hint ?? '').toMatch(cell.hint)
    recordFigure('faults', 1)

    if (cell.revoke) sim.expireAccessTokensAfter(1_000_000)
    if (cell.revoke || cell.relogin) await signIn(sim, tokens)
    const rerun = await runSync(options, { garmin: client(sim, tokens), store })
    expect(rerun.exitCode, rerun.errors[0]?.message).toBe(0)
    expectComplete(await auditStore(store, served), served, 'after the rerun')
  }
}
