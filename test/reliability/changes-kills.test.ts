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
import { afterAll, beforeAll, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { DirStore } from '../../src/store/dir.js'
import type { Store } from '../../src/store/types.js'
import { runSync } from '../../src/sync/run.js'
import { NOW, PREFIX, signedInClient } from '../datasets/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { mulberry32 } from '../sim/prng.js'
import { type Simulator, startSimulator } from '../sim/server.js'

const HISTORY = 'raw-data/garmin-json-history/'
const KILLS = 12
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
