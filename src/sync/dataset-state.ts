/**
 * Cursors of the datasets other than activities, in their own control object
 * (`<controlPrefix>datasets.json`) so the activity state keeps its shape. One section per dataset
 * prefix. Saved by compare-and-swap (cas-document.ts); on a conflict the remote object is re-read and this run's
 * sections replace theirs (a lost section only costs fetching again: writes are idempotent).
 */
import type { Store } from '../store/types.js'
import { isRecord } from '../unknown.js'
import { CasDocument, type ConditionalWrite } from './cas-document.js'
import {
  absentControlObject,
  type ControlObject,
  type ControlObjectSummary,
  type ControlProblemKind,
  parseControlObject,
  unreadableReason,
} from './control-object.js'
import { controlPrefixFor } from './state.js'
import { addDays, isIsoDate } from './time.js'

// 2: daily sections may hold `archived` days, which version 1 would take for stored ones. A version 1
// file (no archived days) reads as it is.
const DATASET_STATE_VERSION = 2

/** A per-activity dataset: which activities have it stored, and which Garmin no longer has (404). */
export interface PerActivityState {
  kind: 'per-activity'
  /** Activity ids (an id list, id-list.ts). */
  done: string
  gone: string
  /** Activities whose list entry changed since this dataset was fetched: fetched again (docs/changes.md). */
  stale?: string
  /** The newest activity change (state.json `changes`) already added to `stale`. */
  changesThrough?: string
  updatedAt?: string
}

/**
 * A daily dataset: every day in [from, through] is stored, except `pending` (to fetch again),
 * `noData` (Garmin had nothing: not fetched again once outside the revision window) and `archived`
 * (Garmin sent the summary without the samples: fetched again once reloaded, archive.ts). All are
 * day ranges (`YYYY-MM-DD` or `YYYY-MM-DD..YYYY-MM-DD`).
 */
export interface DailyState {
  kind: 'daily'
  from: string
  through: string
  pending: string[]
  noData: string[]
  archived?: string[]
  updatedAt?: string
}

/** The reloads of archived days (archive.ts), under the key `archive` (a prefix always ends in "/"). */
export interface ArchiveState {
  kind: 'archive'
  /** The UTC day Garmin last answered DENIED: no reload is asked for again that day. */
  deniedOn?: string
  /** Days brought back so far, and days Garmin had no files for. */
  restored: number
  noFiles: number
  /** The reload budget of the last run (for status's estimate). */
  budget: number
  updatedAt?: string
}

export type ExtraDatasetState = PerActivityState | DailyState | ArchiveState

export type DatasetStateFile = ControlObject<ExtraDatasetState>

export function datasetStateKeyFor(activityPrefix: string): string {
  return `${controlPrefixFor(activityPrefix)}datasets.json`
}

/** Days -> sorted ranges. */
export function encodeDays(days: Iterable<string>): string[] {
  const sorted = [...new Set(days)].sort()
  const out: string[] = []
  let start: string | undefined
  let end: string | undefined
  for (const day of sorted) {
    if (end !== undefined && addDays(end, 1) === day) {
      end = day
      continue
    }
    if (start !== undefined && end !== undefined) out.push(start === end ? start : `${start}..${end}`)
    start = day
    end = day
  }
  if (start !== undefined && end !== undefined) out.push(start === end ? start : `${start}..${end}`)
  return out
}

export function decodeDays(ranges: readonly string[]): Set<string> {
  const out = new Set<string>()
  for (const range of ranges) {
    const [a = '', b = a] = range.split('..')
    if (!isIsoDate(a) || !isIsoDate(b) || b < a) continue
    for (let d = a; d <= b; d = addDays(d, 1)) out.add(d)
  }
  return out
}

/** Inclusive day range. */
export function daysBetween(from: string, to: string): string[] {
  const out: string[] = []
  for (let d = from; d <= to; d = addDays(d, 1)) out.push(d)
  return out
}

const strings = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []

function parseSection(value: unknown): ExtraDatasetState | undefined {
  if (!isRecord(value)) return undefined
  const updatedAt = typeof value.updatedAt === 'string' ? { updatedAt: value.updatedAt } : {}
  if (value.kind === 'per-activity') {
    return {
      kind: 'per-activity',
      done: typeof value.done === 'string' ? value.done : '',
      gone: typeof value.gone === 'string' ? value.gone : '',
      ...(typeof value.stale === 'string' && value.stale !== '' ? { stale: value.stale } : {}),
      ...(typeof value.changesThrough === 'string' ? { changesThrough: value.changesThrough } : {}),
      ...updatedAt,
    }
  }
  if (value.kind === 'daily' && typeof value.from === 'string' && typeof value.through === 'string') {
    if (!isIsoDate(value.from) || !isIsoDate(value.through)) return undefined
    return {
      kind: 'daily',
      from: value.from,
      through: value.through,
      pending: strings(value.pending),
      noData: strings(value.noData),
      ...(Array.isArray(value.archived) ? { archived: strings(value.archived) } : {}),
      ...updatedAt,
    }
  }
  if (value.kind === 'archive') return parseArchiveSection(value, updatedAt)
  return undefined
}

function parseArchiveSection(value: Record<string, unknown>, updatedAt: object): ArchiveState {
  const count = (v: unknown) => (Number.isSafeInteger(v) && (v as number) >= 0 ? (v as number) : 0)
  return {
    kind: 'archive',
    ...(typeof value.deniedOn === 'string' && isIsoDate(value.deniedOn) ? { deniedOn: value.deniedOn } : {}),
    restored: count(value.restored),
    noFiles: count(value.noFiles),
    budget: count(value.budget),
    ...updatedAt,
  }
}

function parseDatasetStateFile(text: string, key: string): DatasetStateFile | undefined {
  return parseControlObject(text, key, DATASET_STATE_VERSION, parseSection, 1)
}

/** Reads the dataset cursors; an unreadable file counts as none, one of a newer version throws. */
export async function readDatasetState(store: Store, activityPrefix: string): Promise<DatasetStateFile> {
  const key = datasetStateKeyFor(activityPrefix)
  const object = await store.get(key)
  const parsed = object ? parseDatasetStateFile(new TextDecoder().decode(object.body), key) : undefined
  return parsed ?? emptyFile()
}

/** What a reader learns about the cursor file itself (status reports it like the state's). */
export type DatasetStateSummary = ControlObjectSummary

const emptyFile = (): DatasetStateFile => ({ version: DATASET_STATE_VERSION, updatedAt: '', datasets: {} })

/** Reads the dataset cursors (for `status`-like readers); an unreadable file is reported, not thrown. */
export async function inspectDatasetState(
  store: Store,
  activityPrefix: string,
): Promise<{ file: DatasetStateFile; summary: DatasetStateSummary }> {
  const key = datasetStateKeyFor(activityPrefix)
  const summary: DatasetStateSummary = absentControlObject(key)
  const object = await store.get(key)
  if (!object) return { file: emptyFile(), summary }
  const text = new TextDecoder().decode(object.body)
  const unreadable = (problemKind: ControlProblemKind, problem: string) => ({
    file: emptyFile(),
    summary: { ...summary, present: true, readable: false, problem, problemKind },
  })
  let parsed: DatasetStateFile | undefined
  try {
    parsed = parseDatasetStateFile(text, key)
  } catch (error) {
    // parseControlObject throws only for a file written by a newer version.
    return unreadable('newer-version', error instanceof Error ? error.message : String(error))
  }
  if (!parsed) {
    const { kind, problem } = unreadableReason(text, 'a dataset cursor file')
    return unreadable(kind, problem)
  }
  return { file: parsed, summary: { ...summary, present: true, updatedAt: parsed.updatedAt || null } }
}

/** Gaps of a daily dataset: days inside [from, through] without a stored object. */
export function dailyGaps(state: DailyState): { pending: number; noData: number; stored: number } {
  const total = daysBetween(state.from, state.through).length
  const pending = decodeDays(state.pending).size
  const noData = decodeDays(state.noData).size
  const archived = decodeDays(state.archived ?? []).size
  return { pending, noData, stored: Math.max(0, total - pending - noData - archived) }
}

/** Loads once, then saves this run's sections by compare-and-swap; saves are serialised in-process. */
export class DatasetStateKeeper {
  readonly key: string
  private readonly doc: CasDocument<DatasetStateFile>
  /** What was read last (kept when a later read is unreadable: its sections are the best guess). */
  private file: DatasetStateFile = emptyFile()
  /**
   * Why the file found at the first load could not be read (corrupt, not a cursor file): its cursors
   * are then rebuilt from listings (daily.ts, per-activity.ts). Undefined when it was read or absent.
   */
  unreadable: { kind: ControlProblemKind; problem: string } | undefined
  private loaded = false
  private readonly mine = new Map<string, ExtraDatasetState>()
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    store: Store,
    activityPrefix: string,
    private readonly now: () => number,
  ) {
    this.key = datasetStateKeyFor(activityPrefix)
    this.doc = new CasDocument(store, this.key, (text, key) => {
      const parsed = parseDatasetStateFile(text, key)
      if (!this.loaded && !parsed) this.unreadable = unreadableReason(text, 'a dataset cursor file')
      return parsed
    })
  }

  async load(): Promise<DatasetStateFile> {
    try {
      this.file = (await this.doc.load()).value ?? this.file
    } finally {
      this.loaded = true
    }
    return this.file
  }

  section(prefix: string): ExtraDatasetState | undefined {
    return this.mine.get(prefix) ?? this.file.datasets[prefix]
  }

  /** Records a section and saves (in order with other saves of this run). */
  save(prefix: string, state: ExtraDatasetState, write: ConditionalWrite): Promise<void> {
    const { updatedAt: _, ...current } = this.section(prefix) ?? { updatedAt: '' }
    if (JSON.stringify(current) === JSON.stringify({ ...state, updatedAt: undefined }))
      return this.queue.then(() => {})
    this.mine.set(prefix, { ...state, updatedAt: new Date(this.now()).toISOString() })
    const run = this.queue.then(() => this.flush(write))
    this.queue = run.catch(() => {})
    return run
  }

  private async flush(write: ConditionalWrite): Promise<void> {
    const written = await this.doc.update((latest) => {
      this.file = latest ?? this.file
      return {
        version: DATASET_STATE_VERSION,
        updatedAt: new Date(this.now()).toISOString(),
        datasets: { ...this.file.datasets, ...Object.fromEntries(this.mine) },
      }
    }, write)
    if (written) this.file = written
  }
}
