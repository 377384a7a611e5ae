import { expect } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { runSync } from '../../src/sync/index.js'
import type { SyncEvent, SyncOptions, SyncReport } from '../../src/sync/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { FakeGarmin, type FakeGarminOptions } from './fake-garmin.js'

export const PREFIX = 'raw-data/garmin-json/'
export const STATE_KEY = 'raw-data/_garmin-s3/state.json'

export interface World {
  clock: FakeClock
  garmin: FakeGarmin
  store: MemoryStore
  events: SyncEvent[]
  sync(options?: Partial<SyncOptions>): Promise<SyncReport>
}

export function world(options: FakeGarminOptions & { store?: MemoryStore } = {}): World {
  const clock = new FakeClock(Date.UTC(2026, 10, 28, 12, 0, 0))
  const garmin = new FakeGarmin({ clock, ...options })
  const store = options.store ?? new MemoryStore()
  const events: SyncEvent[] = []
  let runs = 0
  return {
    clock,
    garmin,
    store,
    events,
    sync: (extra = {}) =>
      runSync(
        { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', ...extra },
        { garmin, store, clock, log: (e) => events.push(e), newRunId: () => `run${++runs}` },
      ),
  }
}

/** Activity ids stored under the prefix. */
export function storedIds(store: MemoryStore, prefix = PREFIX): number[] {
  return store
    .keys(prefix)
    .map((k) => /^activity_(\d+)\.json$/.exec(k.slice(prefix.length))?.[1])
    .filter((id): id is string => id !== undefined)
    .map(Number)
    .sort((a, b) => a - b)
}

/** Every activity is stored exactly as served, and nothing else is in the data prefix. */
export function expectExactly(store: MemoryStore, activities: ActivityEntry[], prefix = PREFIX): void {
  expect(store.keys(prefix)).toHaveLength(activities.length)
  for (const a of activities) {
    const key = `${prefix}activity_${a.activityId}.json`
    const text = store.text(key)
    expect(text, key).toBeDefined()
    expect(JSON.parse(text!)).toEqual(a)
    expect(store.objects.get(key)!.contentType).toBe('application/json')
  }
}

export function stateOf(store: MemoryStore, prefix = PREFIX) {
  const text = store.text(STATE_KEY)
  return text === undefined ? undefined : JSON.parse(text).datasets[prefix]
}
