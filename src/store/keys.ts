/**
 * The one place that decides which keys and prefixes are acceptable and how a key becomes a file
 * path. Every store calls it before touching the backend, so path traversal cannot happen anywhere.
 */
import { isAbsolute, join, relative, sep } from 'node:path'
import { StoreError } from '../errors.js'

/** Names starting with this are the stores' own bookkeeping (temp and lock files), never objects. */
export const RESERVED_NAME_PREFIX = '.garmin-s3-'

/**
 * A folder store's own working folder, directly under its root: temp files and locks live there
 * (src/store/dir.ts), outside every data prefix. No key may point into it; listings never show it.
 */
export const DIR_WORK_FOLDER = '_garmin-s3/tmp'

/** S3's own limit on key length, in UTF-8 bytes. */
const MAX_KEY_BYTES = 1024

export class InvalidKeyError extends StoreError {
  constructor(key: string, reason: string) {
    super(`invalid object key ${JSON.stringify(key)}: ${reason}`, {
      hint: 'Keys are relative paths like "raw-data/garmin-json/activity_1.json"; this is a bug if you did not choose it.',
    })
  }
}

/**
 * Why `path` (a key, or a prefix without its trailing slash) is unsafe, or undefined when it is fine.
 * Refused: absolute paths, drive letters, backslashes, control characters (NUL among them), empty
 * segments (`a//b`), `.` and `..` segments, and reserved bookkeeping names.
 */
export function pathProblem(path: string): string | undefined {
  if (path.length === 0) return 'it is empty'
  if (Buffer.byteLength(path, 'utf8') > MAX_KEY_BYTES) return `it is longer than ${MAX_KEY_BYTES} bytes`
  if (path.startsWith('/')) return 'it must not start with "/" (keys are relative)'
  if (path.includes('\\')) return 'it must not contain a backslash'
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return 'it must not contain control characters'
  if (/^[A-Za-z]:/.test(path)) return 'it must not start with a drive letter'
  for (const segment of path.split('/')) {
    if (segment === '') return 'it must not contain empty segments ("//") or end with "/"'
    if (segment === '.' || segment === '..') return 'it must not contain "." or ".." segments'
    if (segment.startsWith(RESERVED_NAME_PREFIX))
      return `names starting with "${RESERVED_NAME_PREFIX}" are reserved`
  }
  return undefined
}

/** Returns `key` unchanged, or throws InvalidKeyError. */
export function checkKey(key: string): string {
  const problem = pathProblem(key)
  if (problem) throw new InvalidKeyError(key, problem)
  return key
}

/** A listing prefix may be empty, may end with "/" and may end mid-name (`raw/activity_1`). */
export function checkListPrefix(prefix: string): string {
  if (prefix === '') return prefix
  const problem = pathProblem(prefix.endsWith('/') ? prefix.slice(0, -1) : prefix)
  if (problem) throw new InvalidKeyError(prefix, problem)
  return prefix
}

/**
 * The file path for `key` under `root`; throws unless the result is strictly inside `root` and outside
 * its working folder.
 */
export function keyToPath(root: string, key: string): string {
  checkKey(key)
  if (key === DIR_WORK_FOLDER || key.startsWith(`${DIR_WORK_FOLDER}/`)) {
    throw new InvalidKeyError(key, `"${DIR_WORK_FOLDER}/" is the folder store's own working folder`)
  }
  const path = join(root, ...key.split('/'))
  const rel = relative(root, path)
  // Belt and braces: checkKey already refuses everything that could escape.
  if (rel === '' || rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) {
    throw new InvalidKeyError(key, 'it resolves outside the store folder')
  }
  return path
}

/** Compares keys the way S3 lists them: by UTF-8 bytes, not by UTF-16 code units. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

/**
 * A prefix beside a data prefix for its versions (docs/changes.md): `raw-data/garmin-json/` + `history`
 * -> `raw-data/garmin-json-history/`; the bucket root (``) -> `garmin-json-history/`. Never inside it,
 * so a glob over the data prefix keeps matching current objects only.
 */
export function siblingPrefix(prefix: string, suffix: string): string {
  const trimmed = prefix.replace(/\/+$/, '')
  return `${trimmed === '' ? 'garmin-json' : trimmed}-${suffix}/`
}
