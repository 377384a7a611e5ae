/**
 * Parsing of the versioned control objects (`state.json`, `datasets.json`): one JSON object with a
 * `version`, an `updatedAt` and a section per prefix. What is malformed is dropped (always safe: the
 * next run rebuilds it); an object written by a newer version is refused, so it is never overwritten.
 */
import { StoreError } from '../errors.js'
import { isRecord } from '../unknown.js'

export interface ControlObject<S> {
  version: number
  updatedAt: string
  datasets: Record<string, S>
}

/**
 * The object in `text` with its sections kept by `parseSection`; undefined when it is not one of
 * version `version`. Throws StoreError for a newer version.
 */
export function parseControlObject<S>(
  text: string,
  key: string,
  version: number,
  parseSection: (value: unknown) => S | undefined,
  /** The oldest version this one still reads as it is (a newer version only added fields). */
  oldest: number = version,
): ControlObject<S> | undefined {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(raw)) return undefined
  if (typeof raw.version === 'number' && raw.version > version) {
    throw new StoreError(`${key} was written by a newer garmin-s3 (version ${raw.version})`, {
      hint: 'Upgrade garmin-s3 (npm install -g garmin-s3@latest) before syncing into this location.',
    })
  }
  const readable = typeof raw.version === 'number' && raw.version >= oldest && raw.version <= version
  if (!readable || !isRecord(raw.datasets)) return undefined
  const datasets: Record<string, S> = {}
  for (const [prefix, section] of Object.entries(raw.datasets)) {
    const parsed = parseSection(section)
    if (parsed) datasets[prefix] = parsed
  }
  return { version, updatedAt: typeof raw.updatedAt === 'string' ? raw.updatedAt : '', datasets }
}

/** Why a control object cannot be read. */
export type ControlProblemKind = 'not-json' | 'not-a-state' | 'newer-version'

/** What a reader (status) learns about a control object itself: the state, the dataset cursors. */
export interface ControlObjectSummary {
  key: string
  present: boolean
  /** False when an object is there that this version cannot read. */
  readable: boolean
  updatedAt: string | null
  problem: string | null
  /**
   * Why it cannot be read: not JSON at all (corrupt, cut short), JSON but not a garmin-s3 state, or
   * written by a newer garmin-s3 (which this one never overwrites). Null when it can be read.
   */
  problemKind: ControlProblemKind | null
}

/** The summary of a control object not read yet: absent until the reader finds it. */
export function absentControlObject(key: string): ControlObjectSummary {
  return { key, present: false, readable: true, updatedAt: null, problem: null, problemKind: null }
}

/**
 * Why `text`, which the parser refused without throwing, is not a readable control object: not JSON
 * at all (corrupt, cut short), or JSON of another shape. `what` names the object ("state").
 */
export function unreadableReason(
  text: string,
  what: string,
): { kind: Exclude<ControlProblemKind, 'newer-version'>; problem: string } {
  try {
    JSON.parse(text)
  } catch {
    return { kind: 'not-json', problem: 'it is not valid JSON (corrupt, or cut short)' }
  }
  return { kind: 'not-a-state', problem: `it is JSON, but not ${what} garmin-s3 can read` }
}
