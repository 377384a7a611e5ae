/**
 * Content fingerprints of list entries (docs/changes.md): how a run tells that Garmin's version of an
 * activity differs from the stored one without reading the stored object. A fingerprint is 36 bits of
 * the SHA-256 of the entry's canonical JSON (JSON.parse then JSON.stringify, which is what sync stores),
 * as 6 base64url characters: a change goes unnoticed with a chance of 1 in 68 billion.
 *
 * The state keeps them in one string aligned with the catalog (catalog.ts): the fingerprint of the
 * n-th smallest catalog id is characters 6n..6n+6, and `......` stands for "not known" (an activity
 * stored before fingerprints were kept, or one whose stored body was never compared). That costs 6
 * bytes per activity, and no id is written twice.
 */
import { createHash } from 'node:crypto'

const FINGERPRINT_CHARS = 6
const UNKNOWN = '.'.repeat(FINGERPRINT_CHARS)
const FINGERPRINT = /^[A-Za-z0-9_-]{6}$/

/** The fingerprint of a body that is already canonical JSON (a list entry as sync stores it). */
export function fingerprintOf(canonicalJson: string): string {
  return createHash('sha256').update(canonicalJson).digest('base64url').slice(0, FINGERPRINT_CHARS)
}

/** `ids` in ascending order (the catalog's ids) -> the aligned string. */
export function encodeFingerprints(sortedIds: readonly number[], known: ReadonlyMap<number, string>): string {
  let out = ''
  for (const id of sortedIds) out += known.get(id) ?? UNKNOWN
  return out
}

/**
 * The known fingerprints of an aligned string. One of the wrong length (the catalog and the string
 * disagree) yields none: a wrong fingerprint could hide a change, an unknown one only costs a read.
 */
export function decodeFingerprints(
  sortedIds: readonly number[],
  text: string | undefined,
): Map<number, string> {
  const out = new Map<number, string>()
  if (text === undefined || text.length !== sortedIds.length * FINGERPRINT_CHARS) return out
  sortedIds.forEach((id, i) => {
    const fp = text.slice(i * FINGERPRINT_CHARS, (i + 1) * FINGERPRINT_CHARS)
    if (FINGERPRINT.test(fp)) out.set(id, fp)
  })
  return out
}
