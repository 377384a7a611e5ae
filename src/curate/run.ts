/**
 * `garmin-s3 curate`: the raw layer in, one Parquet file per table and year out, at
 * `<curated prefix><table>/year=<YYYY>/<table>_<YYYY>.parquet` (docs/curated-tables.md).
 *
 * 1. List the raw prefix of every table's source dataset (no object is read) and group the objects by
 *    table and year: daily datasets by the date in their key, activities (and their laps and samples)
 *    by the local year of their start, which the state remembers per activity id; only activities it
 *    does not know yet are read for it.
 * 2. A table-year whose objects (keys and ETags) are those it was last built from is left alone. Any
 *    other is rebuilt from all its objects, streamed row group by row group, and replaces the old file
 *    in ONE conditional PUT (a reader sees the old file or the new one, never a part).
 * 3. The state is saved after each table, and on a stop (signal, deadline): exit 5, the next run
 *    resumes with the table-years not yet rebuilt.
 */
import { createHash } from 'node:crypto'
import type { Clock } from '../clock.js'
import { EXIT, StoreError, UsageError } from '../errors.js'
import type { ObjectInfo, Store } from '../store/types.js'
import { ACTIVITIES, datasetPrefix } from '../sync/datasets.js'
import { activityOffsetMs, activityYear, EXTRACTORS, type ExtractContext, type Row } from './extract.js'
import { encodeParquet } from './parquet.js'
import {
  type CurateState,
  curateDocument,
  curateStateKey,
  emptyCurateState,
  type FileRecord,
  saveCurateState,
} from './state.js'
import { TABLES, type TableSpec } from './tables.js'

const PARQUET_CONTENT_TYPE = 'application/vnd.apache.parquet'
const DEFAULT_CONCURRENCY = 8

export interface CurateOptions {
  /** The raw activity prefix (`raw-data/garmin-json/`); the other datasets are its siblings. */
  rawPrefix: string
  /** Where the tables go, ending in `/` (default DEFAULT_CURATED_PREFIX). */
  curatedPrefix: string
  /** Table names (default: all of TABLES). */
  tables?: readonly string[]
  /** Epoch ms after which no new table-year is started. */
  deadline?: number
  /** Raw objects read in parallel. */
  concurrency?: number
}

export type CurateEvent =
  | { type: 'plan'; toBuild: number; unchanged: number }
  | {
      type: 'file'
      table: string
      year: number
      key: string
      rows: number
      bytes: number
      done: number
      total: number
    }
  | { type: 'skipped'; key: string; reason: string }

export interface CurateDeps {
  store: Store
  clock: Clock
  signal?: AbortSignal
  log?: (event: CurateEvent) => void
}

interface CuratedFile {
  table: string
  year: number
  key: string
  rows: number
  bytes: number
  sources: number
}

export interface CurateReport {
  location: string
  rawPrefix: string
  curatedPrefix: string
  stateKey: string
  /** Files written by this run. */
  written: CuratedFile[]
  /** Table-years already up to date. */
  unchanged: number
  /** Table-years left for the next run (stopped early). */
  remaining: number
  rows: number
  bytesWritten: number
  /** Raw objects that could not be read as JSON (left out of the tables, kept in the raw layer). */
  skipped: { key: string; reason: string }[]
  stopReason: 'done' | 'interrupted' | 'deadline'
  exitCode: 0 | 5
  durationMs: number
  requests: Record<string, number>
}

/** `processed-data/garmin/activities/year=2024/activities_2024.parquet` */
export function curatedKey(curatedPrefix: string, table: string, year: number): string {
  return `${curatedPrefix}${table}/year=${year}/${table}_${year}.parquet`
}

/** The tables `--tables` names (a comma list, or all), in TABLES order; unknown names are a usage error. */
export function parseTables(text: string | undefined): string[] {
  const all = TABLES.map((t) => t.name)
  const parts = (text ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
  if (parts.length === 0 || parts.includes('all')) return all
  const unknown = parts.filter((p) => !all.includes(p))
  if (unknown.length > 0)
    throw new UsageError(`unknown table${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `--tables takes a comma list of: ${all.join(', ')} (or all).`,
    })
  return all.filter((t) => parts.includes(t))
}

/** The tables built from `datasets` (what a sync copies: `activities`, `splits`, `sleep`, ...). */
export function tablesFor(datasets: readonly string[]): string[] {
  return TABLES.filter((t) => datasets.includes(t.source)).map((t) => t.name)
}

interface Source {
  info: ObjectInfo
  context: ExtractContext
}

interface Job {
  table: TableSpec
  year: number
  sources: Source[]
  digest: string
}

const ACTIVITY_KEY = /activity_(\d{1,16})\.json$/
const DAILY_KEY = /_(\d{4})-\d{2}-\d{2}\.json$/

async function listAll(store: Store, prefix: string): Promise<ObjectInfo[]> {
  const out: ObjectInfo[] = []
  for await (const info of store.list(prefix)) {
    // Only the prefix's own objects, not a sub-folder's.
    if (!info.key.slice(prefix.length).includes('/')) out.push(info)
  }
  return out
}

function digestOf(sources: readonly Source[]): string {
  const hash = createHash('sha256')
  for (const s of sources) hash.update(`${s.info.key} ${s.info.etag}\n`)
  return hash.digest('hex')
}

/** Reads `items` `concurrency` at a time, yielding results in the order of `items`. */
async function* inOrder<T, R>(
  items: readonly T[],
  concurrency: number,
  read: (item: T) => Promise<R>,
): AsyncGenerator<R> {
  const pending: Promise<R>[] = []
  let next = 0
  while (next < items.length && pending.length < concurrency) pending.push(read(items[next++]!))
  while (pending.length > 0) {
    const result = await pending.shift()!
    if (next < items.length) pending.push(read(items[next++]!))
    yield result
  }
}

function parseJson(body: Uint8Array): unknown {
  return JSON.parse(Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8'))
}

export async function runCurate(options: CurateOptions, deps: CurateDeps): Promise<CurateReport> {
  const { store, clock } = deps
  const log = deps.log ?? (() => {})
  const startedAt = clock.now()
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY
  const wanted = new Set(options.tables ?? TABLES.map((t) => t.name))
  const tables = TABLES.filter((t) => wanted.has(t.name))
  const skipped: CurateReport['skipped'] = []
  const skip = (key: string, reason: string) => {
    skipped.push({ key, reason })
    log({ type: 'skipped', key, reason })
  }

  const document = curateDocument(store, options.curatedPrefix)
  const loaded = (await document.load()).value
  const state: CurateState =
    loaded && loaded.rawPrefix === options.rawPrefix
      ? { ...loaded, files: { ...loaded.files }, activities: { ...loaded.activities } }
      : emptyCurateState(options.rawPrefix)

  const read = async (info: ObjectInfo): Promise<{ info: ObjectInfo; value: unknown }> => {
    const object = await store.get(info.key)
    if (!object) return { info, value: undefined }
    try {
      return { info, value: parseJson(object.body) }
    } catch {
      return { info, value: undefined }
    }
  }

  // 1. Where every activity belongs: the ones the state does not know are read once for it.
  const needsActivities = tables.some((t) => ['activities', 'splits', 'details'].includes(t.source))
  const activityObjects = needsActivities ? await listAll(store, options.rawPrefix) : []
  const unknownActivities = activityObjects.filter((info) => {
    const m = ACTIVITY_KEY.exec(info.key)
    return m && state.activities[m[1]!]?.[2] !== info.etag
  })
  for await (const { info, value } of inOrder(unknownActivities, concurrency, read)) {
    const id = ACTIVITY_KEY.exec(info.key)![1]!
    const year = activityYear(value)
    if (year === undefined) continue
    state.activities[id] = [year, Math.round(activityOffsetMs(value) / 60_000), info.etag]
  }

  // 2. The table-years, and which of them changed.
  const jobs: Job[] = []
  for (const table of tables) {
    const prefix = datasetPrefix(options.rawPrefix, table.source)
    const objects = table.source === ACTIVITIES ? activityObjects : await listAll(store, prefix)
    const byYear = new Map<number, Source[]>()
    for (const info of objects) {
      let year: number
      let context: ExtractContext
      const daily = DAILY_KEY.exec(info.key)
      const activity = ACTIVITY_KEY.exec(info.key)
      if (table.source === ACTIVITIES || table.source === 'splits' || table.source === 'details') {
        const placed = activity ? state.activities[activity[1]!] : undefined
        if (!placed) {
          if (activity && table.source !== ACTIVITIES) skip(info.key, 'no activity list entry for this id')
          else if (activity) skip(info.key, 'not an activity list entry with a start time')
          continue
        }
        year = placed[0]
        context = { offsetMs: placed[1] * 60_000 }
      } else if (daily) {
        year = Number(daily[1])
        context = { date: info.key.slice(-15, -5) }
      } else continue
      const list = byYear.get(year) ?? []
      list.push({ info, context })
      byYear.set(year, list)
    }
    for (const [year, sources] of [...byYear].sort((a, b) => a[0] - b[0])) {
      sources.sort((a, b) => (a.info.key < b.info.key ? -1 : a.info.key > b.info.key ? 1 : 0))
      jobs.push({ table, year, sources, digest: digestOf(sources) })
    }
  }
  const toBuild = jobs.filter((j) => {
    const record = state.files[`${j.table.name}/${j.year}`]
    return (
      !record ||
      record.digest !== j.digest ||
      record.key !== curatedKey(options.curatedPrefix, j.table.name, j.year)
    )
  })
  log({ type: 'plan', toBuild: toBuild.length, unchanged: jobs.length - toBuild.length })

  // 3. Rebuild what changed, one table-year at a time; save the state after each table.
  const written: CuratedFile[] = []
  const writtenIds = new Set<string>()
  const write = async (key: string, body: string, expected: string | null) =>
    store.putIfMatch(key, body, 'application/json', expected)
  const save = () => saveCurateState(document, state, writtenIds, write)
  let stopReason: CurateReport['stopReason'] = 'done'
  let unsaved = false
  let index = 0
  for (const job of toBuild) {
    if (deps.signal?.aborted) stopReason = 'interrupted'
    else if (options.deadline !== undefined && clock.now() >= options.deadline) stopReason = 'deadline'
    if (stopReason !== 'done') break
    const id = `${job.table.name}/${job.year}`
    const extract = EXTRACTORS[job.table.name]!
    async function* rows(): AsyncGenerator<Row> {
      const readSource = async (s: Source) => ({ source: s, value: (await read(s.info)).value })
      for await (const { source, value } of inOrder(job.sources, concurrency, readSource)) {
        if (value === undefined) skip(source.info.key, 'not JSON (or gone since the listing)')
        else yield* extract(value, source.context)
      }
    }
    const encoded = await encodeParquet(job.table, rows())
    const key = curatedKey(options.curatedPrefix, job.table.name, job.year)
    const etag = await replace(store, key, encoded.bytes, state.files[id]?.etag ?? null)
    const record: FileRecord = {
      key,
      etag,
      sources: job.sources.length,
      digest: job.digest,
      rows: encoded.rows,
      bytes: encoded.bytes.byteLength,
    }
    state.files[id] = record
    writtenIds.add(id)
    unsaved = true
    const file = {
      table: job.table.name,
      year: job.year,
      key,
      rows: record.rows,
      bytes: record.bytes,
      sources: record.sources,
    }
    written.push(file)
    log({ type: 'file', ...file, done: ++index, total: toBuild.length })
    const nextJob = toBuild[index]
    if (!nextJob || nextJob.table !== job.table) {
      await save()
      unsaved = false
    }
  }
  // The state also holds the activity map: save it when it grew, even if no file was written (each
  // save above wrote it too). Nothing to curate at all writes nothing.
  const news = unknownActivities.length > 0 || (!loaded && jobs.length > 0)
  if (unsaved || (written.length === 0 && news)) await save()

  const exitCode = stopReason === 'done' ? EXIT.ok : EXIT.partial
  return {
    location: store.location,
    rawPrefix: options.rawPrefix,
    curatedPrefix: options.curatedPrefix,
    stateKey: curateStateKey(options.curatedPrefix),
    written,
    unchanged: jobs.length - toBuild.length,
    remaining: toBuild.length - written.length,
    rows: written.reduce((n, f) => n + f.rows, 0),
    bytesWritten: written.reduce((n, f) => n + f.bytes, 0),
    skipped,
    stopReason,
    exitCode,
    durationMs: clock.now() - startedAt,
    requests: store.stats().requests,
  }
}

/**
 * Replaces `key` with `body` in one conditional PUT on the ETag last written. When that is not the
 * ETag there (the state was lost, or a killed run wrote the file but not the state), the current one
 * is read with a HEAD and the PUT made again: the content is rebuilt from the raw layer either way.
 */
async function replace(
  store: Store,
  key: string,
  body: Uint8Array,
  expected: string | null,
): Promise<string> {
  let etag = expected
  for (let attempt = 0; attempt < 3; attempt++) {
    const result = await store.putIfMatch(key, body, PARQUET_CONTENT_TYPE, etag)
    if (result.ok) return result.etag
    etag = (await store.head(key))?.etag ?? null
  }
  throw new CuratedFileConflict(key)
}

class CuratedFileConflict extends StoreError {
  constructor(key: string) {
    super(`${key} kept changing while curate replaced it`, {
      hint: 'Another curate is probably running against the same location; let it finish, then run again.',
    })
  }
}
