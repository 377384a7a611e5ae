/**
 * A compact list of activity ids, as kept in the catalog (catalog.ts) and the per-activity dataset
 * cursors (dataset-state.ts): sorted ascending, the first in base 36 and each next one as the base-36
 * difference to the previous, comma separated (5 to 7 bytes per activity). `[5, 7, 100]` -> `5,2,2l`.
 */

export function encodeIds(ids: Iterable<number>): string {
  const sorted = [...new Set(ids)].sort((a, b) => a - b)
  let previous = 0
  const parts: string[] = []
  for (const id of sorted) {
    parts.push((id - previous).toString(36))
    previous = id
  }
  return parts.join(',')
}

/**
 * The ids of an encoded list. A list with a malformed part yields no ids at all: every id after it
 * would be shifted, and an id wrongly known is worse than one not known (the caller fetches again).
 */
export function decodeIds(text: string): Set<number> {
  const out = new Set<number>()
  let current = 0
  for (const part of text === '' ? [] : text.split(',')) {
    if (!/^[0-9a-z]{1,11}$/.test(part)) return new Set()
    current += Number.parseInt(part, 36)
    if (!Number.isSafeInteger(current)) return new Set()
    out.add(current)
  }
  return out
}
