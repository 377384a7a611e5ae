/**
 * Replacing a stored object with Garmin's newer version without ever losing the old one
 * (docs/changes.md): the previous body is first written create-only to the history
 * (`<history prefix>activity_<id>/<UTC time>.json`), then the object is replaced by compare-and-swap
 * against the version that was read. A run killed in between leaves the old version both current and
 * in the history; the next run sees that the newest history entry already holds it (same ETag) and
 * only replaces. Two runs replacing at once: one swap wins, the other reads again and finds the new
 * version in place.
 */
import { StoreError } from '../errors.js'
import type { Store, StoredObject } from '../store/types.js'
import type { WriteGate } from './gate.js'

const ATTEMPTS = 5
const decoder = new TextDecoder()

export type ReplaceOutcome = 'replaced' | 'unchanged' | 'created'

/** `2026-11-28T12:00:00.123Z` -> `20261128T120000.123Z`: sortable, and a safe file name everywhere. */
function historyTime(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '')
}

/** JSON bodies compare by content (a body stored by another tool may differ in spacing); others by bytes. */
function sameContent(stored: Uint8Array, body: string | Uint8Array, json: boolean): boolean {
  const text = typeof body === 'string' ? body : decoder.decode(body)
  const storedText = decoder.decode(stored)
  if (storedText === text) return true
  if (!json) return false
  try {
    return JSON.stringify(JSON.parse(storedText)) === JSON.stringify(JSON.parse(text))
  } catch {
    return false
  }
}

export interface Replacement {
  store: Store
  gate: WriteGate
  /** What is written, for dry-run lines (`activity`, `details`). */
  what: string
  key: string
  /** The folder of this object's history: `<history prefix>activity_<id>/`. */
  historyFolder: string
  body: string | Uint8Array
  contentType: string
  now: () => number
}

/** True when the newest version in the history is `current` (a replacement that was cut short). */
async function newestIsCurrent(store: Store, folder: string, current: StoredObject): Promise<boolean> {
  let newest: { key: string; etag: string; size: number } | undefined
  for await (const info of store.list(folder)) if (!newest || info.key > newest.key) newest = info
  return newest !== undefined && newest.etag === current.etag && newest.size === current.body.byteLength
}

/**
 * Writes `current` create-only into the history folder, unless the newest version there is already it
 * (a replacement cut short, or another run's). Never overwrites a version.
 */
export async function keepInHistory(
  r: Pick<Replacement, 'store' | 'gate' | 'what' | 'historyFolder' | 'now'>,
  current: StoredObject,
): Promise<void> {
  const { store } = r
  if (await newestIsCurrent(store, r.historyFolder, current)) return
  const at = historyTime(r.now())
  const name = `${r.historyFolder}${at}.json`
  const contentType = current.contentType ?? 'application/json'
  const put = await r.gate.write(
    `${r.what} history`,
    name,
    current.body.byteLength,
    () => store.putIfAbsent(name, current.body, contentType),
    'created' as const,
  )
  // The same millisecond taken by another version (two runs at once): a name of its own.
  if (put === 'exists' && (await store.head(name))?.etag !== current.etag) {
    const other = `${r.historyFolder}${at}-${current.etag.replace(/\W/g, '').slice(0, 12)}.json`
    await store.putIfAbsent(other, current.body, contentType)
  }
}

/**
 * Makes `key` hold `body`, keeping what it held before in the history. `unchanged` when it already
 * holds the same content; `created` when there was nothing to replace.
 */
export async function replaceVersioned(r: Replacement): Promise<ReplaceOutcome> {
  const { store, gate, key } = r
  const json = r.contentType === 'application/json'
  const size = typeof r.body === 'string' ? Buffer.byteLength(r.body) : r.body.byteLength
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const current = await store.get(key)
    if (!current) {
      const put = await gate.write(
        r.what,
        key,
        size,
        () => store.putIfAbsent(key, r.body, r.contentType),
        'created' as const,
      )
      if (put === 'created') return 'created'
      continue
    }
    if (sameContent(current.body, r.body, json)) return 'unchanged'
    await keepInHistory(r, current)
    const swapped = await gate.write(
      r.what,
      key,
      size,
      () => store.putIfMatch(key, r.body, r.contentType, current.etag),
      { ok: true, etag: '' },
    )
    if (swapped.ok) return 'replaced'
    // Someone replaced it in between: read it again (it may now be this very version).
    if (gate.dryRun) return 'replaced'
  }
  throw new StoreError(`${key} kept changing while replacing it (${ATTEMPTS} attempts)`, {
    hint: 'Another sync is probably running against the same location; let it finish, then run again.',
  })
}
