/**
 * The invariant every reliability test checks after a fault, a kill or a race: every object in the
 * store is whole (valid JSON, or a ZIP for FIT originals), the state never claims an activity that is
 * not stored, and — after a clean rerun — the store holds exactly the served set, each once.
 */
import { expect } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { RESERVED_NAME_PREFIX } from '../../src/store/keys.js'
import type { Store } from '../../src/store/types.js'
import { intervalContaining } from '../../src/sync/coverage.js'
import { activityIdFromKey, readSyncState } from '../../src/sync/index.js'

export const PREFIX = 'raw-data/garmin-json/'
const decoder = new TextDecoder('utf-8', { fatal: true })

export interface StoreAudit {
  /** Data keys (activities and other datasets), reserved bookkeeping files excluded. */
  keys: string[]
  activityIds: Set<number>
  /** Keys whose body is not whole: not JSON (or not a ZIP, for `.zip`). */
  broken: string[]
  /** Activity ids the state's coverage or recent list claims, but that are not stored. */
  stateAhead: number[]
}

function isWhole(key: string, body: Uint8Array): boolean {
  if (key.endsWith('.zip') || key.endsWith('.fit')) {
    // A ZIP ends with an end-of-central-directory record (PK\5\6) in its last 64 KiB + 22 bytes.
    const tail = Buffer.from(body.subarray(Math.max(0, body.length - 65_557)))
    return key.endsWith('.zip')
      ? body[0] === 0x50 && body[1] === 0x4b && tail.includes('PK\u0005\u0006')
      : body.length > 12
  }
  try {
    JSON.parse(decoder.decode(body))
    return true
  } catch {
    return false
  }
}

/** Reads every object under `root` and the state of `prefix`; `served` is the account as Garmin serves it. */
export async function auditStore(
  store: Store,
  served: readonly ActivityEntry[],
  prefix = PREFIX,
  root = 'raw-data/',
): Promise<StoreAudit> {
  const keys: string[] = []
  for await (const o of store.list(root)) {
    const name = o.key.slice(o.key.lastIndexOf('/') + 1)
    if (!name.startsWith(RESERVED_NAME_PREFIX)) keys.push(o.key)
  }
  const broken: string[] = []
  const queue = [...keys]
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        const object = await store.get(key)
        if (!object || !isWhole(key, object.body)) broken.push(key)
      }
    }),
  )
  const activityIds = new Set<number>()
  for (const key of keys) {
    const id = activityIdFromKey(prefix, key)
    if (id !== undefined) activityIds.add(id)
  }
  const state = await readSyncState(store, prefix)
  const stateAhead: number[] = []
  if (state) {
    for (const a of served) {
      const claimed =
        intervalContaining(state.covered, a.startTimeGMT) !== undefined ||
        state.recent.some(([id]) => id === a.activityId)
      if (claimed && !activityIds.has(a.activityId)) stateAhead.push(a.activityId)
    }
  }
  return { keys, activityIds, broken, stateAhead }
}

/** Mid-failure: nothing broken, the state claims nothing unstored, only served ids stored. */
export function expectConsistent(audit: StoreAudit, served: readonly ActivityEntry[], label = ''): void {
  expect(audit.broken, `${label} partial objects`).toEqual([])
  expect(audit.stateAhead, `${label} state ahead of the store`).toEqual([])
  const ids = new Set(served.map((a) => a.activityId))
  expect(
    [...audit.activityIds].filter((id) => !ids.has(id)),
    `${label} objects never served`,
  ).toEqual([])
}

/** After a clean run: consistent, and exactly the served activities, each once. */
export function expectComplete(audit: StoreAudit, served: readonly ActivityEntry[], label = ''): void {
  expectConsistent(audit, served, label)
  expect(audit.activityIds.size, `${label} activity count`).toBe(served.length)
  const activityKeys = audit.keys.filter((k) => activityIdFromKey(PREFIX, k) !== undefined)
  expect(activityKeys.length, `${label} duplicated activity keys`).toBe(served.length)
}
