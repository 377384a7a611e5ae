/**
 * Poison entries: a list entry that cannot be stored safely (no usable id or start time, nested too
 * deep, too large) is quarantined instead of failing the run. It is recorded as `invalid` with its
 * reason in the run report, the run manifest and the state; the run stores the others and exits 5
 * while any remain. The state keeps each one with a fingerprint of its content, so later runs report
 * the same entries without a request of their own (the list page is fetched for the others anyway), and
 * a later valid version of the same id is stored like any activity and leaves the quarantine.
 *
 * Checking is cheap and stack-safe: the nesting depth is measured with an explicit stack before
 * anything recursive (JSON.stringify) touches the entry, so 10,000 levels cost a loop, not a crash.
 */
import { createHash } from 'node:crypto'
import { isRecord } from '../unknown.js'
import { parseGmt } from './time.js'

/** A Garmin list entry is a few levels deep (summary DTOs inside the entry); far beyond that is hostile. */
export const MAX_ENTRY_DEPTH = 64
/** 1 MiB: a list entry is about 3 KB; one a thousand times that is not an activity summary. */
const MAX_ENTRY_BYTES = 1_048_576
/** Entries kept in the state (and listed in a report): beyond that only the count grows. */
export const MAX_QUARANTINED = 1000
const MAX_ID_CHARS = 40

/** One quarantined entry, as the state, the report and the manifest hold it. */
export interface QuarantinedEntry {
  /** The activityId as Garmin sent it, as JSON text (`123`, `"../../x"`, `null`), at most 40 characters. */
  id: string
  /** Why it was not stored, for people. */
  reason: string
  /** sha256 (16 hex digits) of the entry's JSON: a changed entry is checked and reported afresh. */
  fingerprint: string
  /** When a run first saw this version of it (ISO time). */
  since: string
}

export type EntryCheck =
  | { ok: true; body: string }
  | { ok: false; id: string; reason: string; fingerprint: string }

/** The depth of nested arrays and objects in `value`, counted iteratively; stops once past `limit`. */
export function nestingDepth(value: unknown, limit = Number.POSITIVE_INFINITY): number {
  let deepest = 0
  const stack: Array<[unknown, number]> = [[value, 1]]
  while (stack.length > 0) {
    const [node, depth] = stack.pop()!
    if (node === null || typeof node !== 'object') continue
    if (depth > deepest) deepest = depth
    if (deepest > limit) return deepest
    for (const child of Array.isArray(node) ? node : Object.values(node)) {
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1])
    }
  }
  return deepest
}

/**
 * JSON.stringify without recursion, for values from JSON.parse (no undefined, functions or toJSON):
 * the same text, at any depth. Only quarantined entries go through it (for their fingerprint).
 */
export function stringifyDeep(value: unknown): string {
  const out: string[] = []
  // Either a value still to write, or literal text (a closing bracket, a comma, a key).
  const todo: Array<{ value: unknown } | { text: string }> = [{ value }]
  while (todo.length > 0) {
    const next = todo.pop()!
    if ('text' in next) {
      out.push(next.text)
      continue
    }
    const v = next.value
    if (v === null || typeof v !== 'object') {
      out.push(JSON.stringify(v) ?? 'null')
      continue
    }
    const array = Array.isArray(v)
    const items: Array<{ value: unknown } | { text: string }> = []
    const entries = array ? v.map((x, i) => [i, x] as const) : Object.entries(v)
    entries.forEach(([key, child], i) => {
      if (i > 0) items.push({ text: ',' })
      if (!array) items.push({ text: `${JSON.stringify(key)}:` })
      items.push({ value: child })
    })
    out.push(array ? '[' : '{')
    todo.push({ text: array ? ']' : '}' })
    for (let i = items.length - 1; i >= 0; i--) todo.push(items[i]!)
  }
  return out.join('')
}

function fingerprintOf(entry: unknown, body?: string): string {
  return createHash('sha256')
    .update(body ?? stringifyDeep(entry))
    .digest('hex')
    .slice(0, 16)
}

/** The id as JSON text, short enough for a log line (never the whole of a hostile value). */
function idText(entry: unknown): string {
  if (!isRecord(entry)) return 'null'
  const id = entry.activityId
  const text =
    id === null || typeof id !== 'object'
      ? (JSON.stringify(id) ?? 'null')
      : Array.isArray(id)
        ? '[...]'
        : '{...}'
  return text.length > MAX_ID_CHARS ? `${text.slice(0, MAX_ID_CHARS - 3)}...` : text
}

function bad(entry: unknown, reason: string, body?: string): EntryCheck {
  return { ok: false, id: idText(entry), reason, fingerprint: fingerprintOf(entry, body) }
}

/** Checks one list entry as Garmin sent it: its JSON text to store, or why it cannot be stored. */
export function checkEntry(entry: unknown): EntryCheck {
  if (!isRecord(entry)) return bad(entry, 'the entry is not a JSON object')
  if (nestingDepth(entry, MAX_ENTRY_DEPTH) > MAX_ENTRY_DEPTH)
    return bad(entry, `the entry is nested deeper than ${MAX_ENTRY_DEPTH} levels`)
  const body = JSON.stringify(entry)
  const bytes = Buffer.byteLength(body)
  if (bytes > MAX_ENTRY_BYTES)
    return bad(entry, `the entry is ${bytes} bytes, more than ${MAX_ENTRY_BYTES} (1 MiB)`, body)
  const id = entry.activityId
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id <= 0)
    return bad(entry, 'activityId is not a positive whole number', body)
  if (parseGmt(entry.startTimeGMT) === undefined)
    return bad(entry, 'startTimeGMT is not a time like "2024-05-01 07:30:00"', body)
  return { ok: true, body }
}

/**
 * The quarantine after a run. `seen` are the entries this run found invalid, `cleared` the ids it
 * found valid. A run that walked the whole list (`complete`) saw every entry still there, so what it
 * did not see is gone; a run that stopped early keeps the earlier ones it did not reach.
 */
export function nextQuarantine(
  before: readonly QuarantinedEntry[],
  seen: ReadonlyMap<string, QuarantinedEntry>,
  cleared: ReadonlySet<string>,
  complete: boolean,
): QuarantinedEntry[] {
  const previous = new Map(before.map((q) => [q.id, q]))
  const out = new Map<string, QuarantinedEntry>()
  for (const [id, q] of seen) {
    const old = previous.get(id)
    out.set(id, old && old.fingerprint === q.fingerprint ? { ...q, since: old.since } : q)
  }
  if (!complete) {
    for (const q of before) if (!out.has(q.id) && !cleared.has(q.id)) out.set(q.id, q)
  }
  return [...out.values()].slice(0, MAX_QUARANTINED)
}

export function isQuarantinedEntry(value: unknown): value is QuarantinedEntry {
  return (
    isRecord(value) &&
    typeof value.id === 'string' &&
    typeof value.reason === 'string' &&
    typeof value.fingerprint === 'string' &&
    typeof value.since === 'string'
  )
}
