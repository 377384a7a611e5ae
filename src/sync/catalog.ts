/**
 * The catalog: which activity ids are stored, by year and activity type, kept in the state by sync.
 * A listing of the bucket gives keys but not what is inside them (S3 lists no metadata), so this is
 * what lets `status --deep` count activities per year and per type, and name what went missing,
 * without downloading every object. It is a set of facts like the rest of the state: merging two
 * runs' catalogs is a union, so it never double counts.
 *
 * Encoded compactly: year -> type -> an id list (id-list.ts, 5 to 7 bytes per activity).
 */
import type { ActivityEntry } from '../garmin/types.js'
import { decodeIds, encodeIds } from './id-list.js'

/** `{"2024": {"running": "8x1kq2,3f,1a0"}}` */
export type Catalog = Record<string, Record<string, string>>

export interface CatalogEntry {
  /** The activity's local start year (`startTimeLocal`), else its UTC year. */
  year: string
  /** `activityType.typeKey` (e.g. `running`), or `unknown`. */
  type: string
}

const UNKNOWN_TYPE = 'unknown'
const YEAR = /^\d{4}$/
// Type keys become object keys: only plain names (never `__proto__` and friends).
const TYPE_KEY = /^[a-z0-9][a-z0-9_-]{0,63}$/i

export function catalogEntryOf(entry: ActivityEntry): CatalogEntry {
  const local = typeof entry.startTimeLocal === 'string' ? entry.startTimeLocal.slice(0, 4) : ''
  const year = YEAR.test(local) ? local : entry.startTimeGMT.slice(0, 4)
  const typeKey = (entry.activityType as { typeKey?: unknown } | undefined)?.typeKey
  const type = typeof typeKey === 'string' && TYPE_KEY.test(typeKey) ? typeKey : UNKNOWN_TYPE
  return { year, type }
}

/** id -> year and type. Malformed parts are skipped (a catalog only ever adds knowledge). */
export function decodeCatalog(catalog: Catalog | undefined): Map<number, CatalogEntry> {
  const out = new Map<number, CatalogEntry>()
  for (const [year, types] of Object.entries(catalog ?? {})) {
    if (!YEAR.test(year)) continue
    for (const [type, text] of Object.entries(types)) {
      if (!TYPE_KEY.test(type) || typeof text !== 'string') continue
      for (const id of decodeIds(text)) out.set(id, { year, type })
    }
  }
  return out
}

export function encodeCatalog(entries: ReadonlyMap<number, CatalogEntry>): Catalog {
  const groups = new Map<string, Map<string, number[]>>()
  for (const [id, { year, type }] of entries) {
    const byType = groups.get(year) ?? new Map<string, number[]>()
    groups.set(year, byType)
    const ids = byType.get(type) ?? []
    byType.set(type, ids)
    ids.push(id)
  }
  const catalog: Catalog = {}
  for (const year of [...groups.keys()].sort()) {
    const types: Record<string, string> = {}
    const byType = groups.get(year)!
    for (const type of [...byType.keys()].sort()) types[type] = encodeIds(byType.get(type)!)
    catalog[year] = types
  }
  return catalog
}

/** The union; for an id known twice, `added` wins (its type may have been changed in Garmin since). */
export function mergeCatalog(
  current: Catalog | undefined,
  added: ReadonlyMap<number, CatalogEntry>,
): Catalog {
  const merged = decodeCatalog(current)
  for (const [id, entry] of added) merged.set(id, entry)
  return encodeCatalog(merged)
}

export function isCatalog(value: unknown): value is Catalog {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every(
    (types) =>
      typeof types === 'object' &&
      types !== null &&
      !Array.isArray(types) &&
      Object.values(types).every((ids) => typeof ids === 'string'),
  )
}
