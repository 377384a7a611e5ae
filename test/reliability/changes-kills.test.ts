/**
 * Issue 17: a run killed between writing an old version into the history and replacing the object,
 * at seeded moments. The store stops answering right after the N-th history write (what a SIGKILL at
 * that instant leaves: the history written, the replacement not), then the next run completes. After
 * every round each activity's versions are all there, each exactly once: the old ones in the history,
 * the newest as the object. Deterministic: the moment is a count of writes, never a time.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { DirStore } from '../../src/store/dir.js'
import { S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { runSync } from '../../src/sync/run.js'
import { NOW, PREFIX, signedInClient } from '../datasets/helpers.js'
import { assertBuilt, cliEnv, runCli, signIn, tempDir } from '../e2e/sync-helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { mulberry32 } from '../sim/prng.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { recordFigure } from './figures.js'
import { killSwitch } from './kill.js'
import { startS3FaultProxy } from './s3-fault-proxy.js'

const HISTORY = 'raw-data/garmin-json-history/'
const KILLS = 12
const KILLS_CLI = 10
const EDITED = 15
const decoder = new TextDecoder()

/** A store that dies (every call fails, nothing more is written) right after its `after`-th history write. */
function dyingStore(inner: Store, after: number): Store {
  let historyWrites = 0
  let dead = false
  const check = () => {
    if (dead) throw new StoreError('the process was killed', { hint: 'run again' })
  }
  return {
    location: inner.location,
    stats: () => inner.stats(),
    async putIfAbsent(key, body, type) {
      check()
      const result = await inner.putIfAbsent(key, body, type)
      if (key.startsWith(HISTORY) && ++historyWrites >= after) dead = true
      return result
    },
    async putIfMatch(key, body, type, etag) {
      check()
      return inner.putIfMatch(key, body, type, etag)
    },
    async delete(key) {
      check()
      return inner.delete(key)
    },
    async probe(key, body, type) {
      check()
      return inner.probe(key, body, type)
    },
    async get(key) {
      check()
      return inner.get(key)
    },
    async head(key) {
      check()
      return inner.head(key)
    },
    async *list(prefix) {
      check()
      yield* inner.list(prefix)
    },
  }
}

let sim: Simulator
let root: string
beforeAll(async () => {
  sim = await startSimulator({ activities: 40, years: 1, seed: 1717, now: () => NOW })
  root = await mkdtemp(join(tmpdir(), 'garmin-s3-change-kills-'))
})
afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

async function historyCount(store: Store): Promise<number> {
  let n = 0
  for await (const _ of store.list(HISTORY)) n++
  return n
}

async function text(store: Store, key: string): Promise<string | undefined> {
  const o = await store.get(key)
  return o ? decoder.decode(o.body) : undefined
}

it(`${KILLS} kills between the history write and the replacement lose no version and duplicate none`, {
  timeout: 120_000,
}, async () => {
  const clock = new FakeClock(NOW)
  const store = new DirStore(root, { durable: false })
  const garmin = await signedInClient(sim, clock)
  const run = (s: Store, reconcile: boolean) =>
    runSync(
      { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', reconcile },
      { garmin, store: s, clock },
    )
  expect((await run(store, false)).exitCode).toBe(0)
  const random = mulberry32(17_017)
  const edited = sim.listAll().slice(0, EDITED)
  /** Every version each activity had in the lake, oldest first. */
  const versions = new Map<number, string[]>()
  for (const e of edited)
    versions.set(e.activityId, [(await text(store, `${PREFIX}activity_${e.activityId}.json`))!])

  for (let round = 1; round <= KILLS; round++) {
    for (const e of edited)
      sim.editActivity(e.activityId, { activityName: `round ${round} of ${e.activityId}` })
    const moment = 1 + Math.floor(random() * EDITED)
    clock.advance(1000)
    const killed = await run(dyingStore(store, moment), true)
    expect(killed.exitCode, `round ${round}`).not.toBe(0)
    clock.advance(1000)
    const next = await run(store, true)
    expect(next.exitCode, `round ${round}: the next run completes`).toBe(0)
    for (const e of edited) {
      const current = (await text(store, `${PREFIX}activity_${e.activityId}.json`))!
      expect(JSON.parse(current).activityName).toBe(`round ${round} of ${e.activityId}`)
      const history: string[] = []
      for await (const info of store.list(`${HISTORY}activity_${e.activityId}/`)) history.push(info.key)
      history.sort()
      const bodies = await Promise.all(history.map((k) => text(store, k) as Promise<string>))
      // Every earlier version exactly once, in order; the newest is the object.
      expect(bodies, `round ${round}, activity ${e.activityId}`).toEqual(versions.get(e.activityId))
      versions.get(e.activityId)!.push(current)
    }
  }
})

/**
 * The built CLI into S3 (moto) through a proxy that passes every history PUT on to S3 and holds its
 * answer: at the N-th one the CLI is SIGKILLed before it hears the answer. So each kill lands exactly
 * between a history write (done) and its replacement (never sent: the process is gone).
 */
it(`${KILLS_CLI} SIGKILLs of the CLI between a history write and its replacement lose no version`, {
  timeout: 300_000,
}, async () => {
  assertBuilt()
  const home = await tempDir('change-sigkills')
  const account = await startSimulator({ activities: 30, years: 1, seed: 1718 })
  let onHistoryWritten: (() => Promise<void>) | undefined
  const proxy = await startS3FaultProxy(inject('motoEndpoint'))
  try {
    proxy.addFault({
      operation: 'PutObject',
      keyContains: '/garmin-json-history/',
      fault: { kind: 'beforeAnswer', hook: async () => onHistoryWritten?.() },
      times: 1_000_000,
    })
    const s3 = testS3Client(inject('motoEndpoint'))
    const bucket = await createTestBucket(s3, 'change-kills')
    const store = new S3Store({ bucket, client: s3 })
    const tokens = join(home.path, 'tokens.json')
    await signIn(account, tokens)
    const env = cliEnv(account, tokens, home.path)
    const args = ['sync', '--bucket', bucket, '--endpoint', proxy.url, '--path-style', '--reconcile']
    const first = await runCli(args, { env })
    expect(first.code, first.stderr).toBe(0)
    const edited = account.listAll().slice(0, 12)
    const versions = new Map<number, string[]>()
    for (const e of edited)
      versions.set(e.activityId, [(await text(store, `${PREFIX}activity_${e.activityId}.json`))!])
    const random = mulberry32(17_018)
    let kills = 0
    for (let round = 1; kills < KILLS_CLI; round++) {
      expect(round, 'runs that finished before their kill').toBeLessThan(2 * KILLS_CLI)
      for (const e of edited)
        account.editActivity(e.activityId, { activityName: `cli round ${round} of ${e.activityId}` })
      const moment = 1 + Math.floor(random() * edited.length)
      const historyBefore = await historyCount(store)
      const killed = await runCli(args, {
        env,
        onSpawn: (child) => {
          const kill = killSwitch(child, moment)
          const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
          onHistoryWritten = async () => {
            kill.event()
            // Killed by this event: the answer waits until the process is gone.
            if (child.signalCode !== null || child.killed) await exited
          }
          child.on('exit', () => {
            onHistoryWritten = undefined
          })
        },
      })
      if (killed.signal === 'SIGKILL') {
        kills++
        // The cut is where it should be: the held history write is in S3, the replacement is not.
        expect(await historyCount(store), `round ${round}`).toBeGreaterThanOrEqual(historyBefore + moment)
      } else expect(killed.code, killed.stderr).toBe(0)
      const next = await runCli(args, { env })
      expect(next.code, `round ${round}: the next run completes\n${next.stderr}`).toBe(0)
      for (const e of edited) {
        const current = (await text(store, `${PREFIX}activity_${e.activityId}.json`))!
        expect(JSON.parse(current).activityName).toBe(`cli round ${round} of ${e.activityId}`)
        const history: string[] = []
        for await (const info of store.list(`${HISTORY}activity_${e.activityId}/`)) history.push(info.key)
        history.sort()
        const bodies = await Promise.all(history.map((k) => text(store, k) as Promise<string>))
        expect(bodies, `round ${round}, activity ${e.activityId}`).toEqual(versions.get(e.activityId))
        versions.get(e.activityId)!.push(current)
      }
    }
    recordFigure('change kills', kills)
  } finally {
    await proxy.close()
    await account.close()
    await home.remove()
  }
})
