/**
 * The curate state, `<control>/curate.json` beside the curated prefix (`processed-data/_garmin-s3/` for
 * `processed-data/garmin/`): for each table-year file, the raw objects it was built from (their number
 * and a digest of their keys and ETags) and the ETag of the file written; and for each activity, the
 * year and UTC offset of its start (and the ETag of the entry they were read from), which place its
 * laps and samples without reading it again.
 * Saved by compare-and-swap (sync/cas-document.ts). Losing it is safe: the next run rebuilds every file
 * once and replaces each in one PUT.
 */
import type { Store } from '../store/types.js'
import { CasDocument, type ConditionalWrite } from '../sync/cas-document.js'
import { controlPrefixFor } from '../sync/state.js'
import { isRecord } from '../unknown.js'

const VERSION = 1

export interface FileRecord {
  key: string
  etag: string
  /** Raw objects read to build it. */
  sources: number
  /** sha256 of the sorted `key etag` lines of those objects. */
  digest: string
  rows: number
  bytes: number
}

export interface CurateState {
  version: typeof VERSION
  /** The raw activity prefix the files were built from; another one starts over. */
  rawPrefix: string
  /** `<table>/<year>` -> the file as last written. */
  files: Record<string, FileRecord>
  /**
   * Activity id -> [local start year, local minus UTC in minutes, ETag of the list entry read]. An entry
   * sync replaced since (an edit in Garmin, docs/changes.md) has another ETag and is read again.
   */
  activities: Record<string, [number, number, string]>
}

export function curateStateKey(curatedPrefix: string): string {
  return `${controlPrefixFor(curatedPrefix)}curate.json`
}

function isFileRecord(value: unknown): value is FileRecord {
  return (
    isRecord(value) &&
    typeof value.key === 'string' &&
    typeof value.etag === 'string' &&
    typeof value.digest === 'string' &&
    typeof value.sources === 'number' &&
    typeof value.rows === 'number' &&
    typeof value.bytes === 'number'
  )
}

/** The state in `text`, or undefined when it is not one (it is then rebuilt, never trusted). */
function parseCurateState(text: string): CurateState | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(value) || value.version !== VERSION || typeof value.rawPrefix !== 'string') return undefined
  const files: Record<string, FileRecord> = {}
  if (isRecord(value.files))
    for (const [k, v] of Object.entries(value.files)) if (isFileRecord(v)) files[k] = v
  const activities: Record<string, [number, number, string]> = {}
  if (isRecord(value.activities))
    for (const [k, v] of Object.entries(value.activities))
      if (
        Array.isArray(v) &&
        typeof v[0] === 'number' &&
        typeof v[1] === 'number' &&
        typeof v[2] === 'string'
      )
        activities[k] = [v[0], v[1], v[2]]
  return { version: VERSION, rawPrefix: value.rawPrefix, files, activities }
}

export function emptyCurateState(rawPrefix: string): CurateState {
  return { version: VERSION, rawPrefix, files: {}, activities: {} }
}

export function curateDocument(store: Store, curatedPrefix: string): CasDocument<CurateState> {
  return new CasDocument(store, curateStateKey(curatedPrefix), (text) => parseCurateState(text))
}

/**
 * Saves what this run learned, merged into whatever is there now (another run may have saved since):
 * its file records win for the files it wrote, the activity map is a union.
 */
export async function saveCurateState(
  document: CasDocument<CurateState>,
  mine: CurateState,
  written: ReadonlySet<string>,
  write: ConditionalWrite,
): Promise<void> {
  await document.update((current) => {
    if (!current || current.rawPrefix !== mine.rawPrefix) return mine
    const files = { ...current.files }
    for (const [k, v] of Object.entries(mine.files)) if (written.has(k) || !files[k]) files[k] = v
    return { ...mine, files, activities: { ...current.activities, ...mine.activities } }
  }, write)
}
