/**
 * What is in the lake. The fast path reads the state object only (one request whatever the bucket
 * holds; one listing request more when there is no state). `--deep` lists the data prefix once, in
 * pages, and reconciles the listing with the state: counts per year and type come from the state's
 * catalog (S3 lists no metadata, and downloading every object is what this avoids).
 */
import type { Store } from '../store/types.js'
import { decodeCatalog } from '../sync/catalog.js'
import { absentControlObject, unreadableReason } from '../sync/control-object.js'
import { decodeIds } from '../sync/id-list.js'
import {
  activityIdFromKey,
  controlPrefixFor,
  type DatasetState,
  type LastRun,
  stateKeyFor,
} from '../sync/index.js'
import { datasetFailures, parseStateFile } from '../sync/state.js'
import { DAY_MS } from '../sync/time.js'
import { messageOf } from '../unknown.js'
import type { ActivitySummary, ChangeSummary, DeepSummary, RunSummary, StateSummary } from './types.js'

const EXAMPLES = 10
/** At most one page of a listing when peeking for data without state. */
const PEEK_LIMIT = 1000

export interface StateRead {
  summary: StateSummary
  dataset: DatasetState | undefined
  /** The object as read, for a compare-and-swap rewrite (`--repair`). */
  object: { text: string; etag: string } | undefined
}

/** One GET of the state object. A state this version cannot read is reported, not thrown. */
export async function readState(store: Store, prefix: string): Promise<StateRead> {
  const key = stateKeyFor(prefix)
  const found = await store.get(key)
  const summary: StateSummary = absentControlObject(key)
  if (!found) return { summary, dataset: undefined, object: undefined }
  const text = new TextDecoder().decode(found.body)
  const object = { text, etag: found.etag }
  const unreadable = (problemKind: StateSummary['problemKind'], problem: string): StateRead => ({
    summary: { ...summary, present: true, readable: false, problem, problemKind },
    dataset: undefined,
    object,
  })
  try {
    const file = parseStateFile(text, key)
    if (!file) {
      const { kind, problem } = unreadableReason(text, 'a state')
      return unreadable(kind, problem)
    }
    const dataset = file.datasets[prefix]
    // A state object shared with other prefixes that has no section for this one: nothing synced here.
    return {
      summary: { ...summary, present: dataset !== undefined, updatedAt: file.updatedAt || null },
      dataset,
      object,
    }
  } catch (error) {
    // parseStateFile refuses only a state written by a newer version.
    return unreadable('newer-version', messageOf(error))
  }
}

function isControlKey(key: string, prefix: string): boolean {
  return key.startsWith(controlPrefixFor(prefix))
}

/** Whether the data prefix holds anything, from the first page of a listing at most. */
export async function peekData(store: Store, prefix: string): Promise<boolean> {
  let seen = 0
  for await (const info of store.list(prefix)) {
    if (!isControlKey(info.key, prefix)) return true
    if (++seen >= PEEK_LIMIT) return false
  }
  return false
}

function runSummary(run: LastRun): RunSummary {
  const started = Date.parse(run.startedAt)
  const finished = Date.parse(run.finishedAt)
  const failures = datasetFailures(run)
  return {
    runId: run.runId,
    startedAt: run.startedAt,
    finishedAt: run.finishedAt,
    durationMs: Number.isFinite(started) && Number.isFinite(finished) ? finished - started : null,
    runner: run.runner,
    created: run.created,
    existing: run.existing,
    failed: run.failed,
    datasetsFailed: failures.failed,
    datasetsErrored: failures.errored,
    partial: run.partial,
    exitCode: run.exitCode,
    stopReason: run.stopReason ?? null,
    error: run.error ?? null,
    manifestKey: run.manifestKey,
  }
}

export interface RunHistory {
  lastRun: RunSummary | null
  recentRuns: RunSummary[]
  lastSuccessAt: string | null
}

export function runHistory(dataset: DatasetState | undefined): RunHistory {
  const runs = dataset?.recentRuns ?? (dataset?.lastRun ? [dataset.lastRun] : [])
  const recentRuns = runs.map(runSummary)
  const lastSuccess = recentRuns.find((r) => r.exitCode === 0 || r.exitCode === 5)
  return {
    lastRun: dataset?.lastRun ? runSummary(dataset.lastRun) : (recentRuns[0] ?? null),
    recentRuns,
    lastSuccessAt: dataset?.lastSuccessAt ?? lastSuccess?.finishedAt ?? null,
  }
}

export function activitySummary(
  dataset: DatasetState | undefined,
  dataPresent: boolean | null,
): ActivitySummary {
  return {
    stored: dataset ? dataset.counts.stored : null,
    newest: dataset?.newestStartTimeGMT ?? null,
    oldest: dataset?.oldestStartTimeGMT ?? null,
    historyComplete: dataset ? dataset.backfillComplete : null,
    quarantined: dataset ? (dataset.quarantine?.length ?? 0) : null,
    dataPresent,
    changes: dataset ? changeSummary(dataset) : null,
  }
}

function changeSummary(dataset: DatasetState): ChangeSummary {
  const last = dataset.reconcile
  const lastMs = last ? Date.parse(last.lastAt) : Number.NaN
  const due =
    last && Number.isFinite(lastMs) && last.days > 0
      ? new Date(lastMs + last.days * DAY_MS).toISOString()
      : null
  return {
    changed: dataset.changed ?? 0,
    deleted: decodeIds(dataset.deleted ?? '').size,
    lastReconcileAt: last?.lastAt ?? null,
    nextReconcileDue: due,
    reconcileDays: last ? last.days : null,
  }
}

export interface DeepScan {
  summary: Omit<DeepSummary, 'repair' | 'durationMs'>
  /** Every activity id the listing found. */
  listed: Set<number>
}

function bump(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1
}

function sorted(counts: Record<string, number>, byValue: boolean): Record<string, number> {
  const entries = Object.entries(counts)
  entries.sort(byValue ? (a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1) : (a, b) => (a[0] < b[0] ? -1 : 1))
  return Object.fromEntries(entries)
}

/** One paginated listing of the data prefix, reconciled with the state. */
export async function deepScan(
  store: Store,
  prefix: string,
  dataset: DatasetState | undefined,
): Promise<DeepScan> {
  const before = store.stats().requests.ListObjectsV2 ?? 0
  const catalog = decodeCatalog(dataset?.catalog)
  const listed = new Set<number>()
  const byYear: Record<string, number> = {}
  const byType: Record<string, number> = {}
  const offLayout: string[] = []
  let offLayoutCount = 0
  let objects = 0
  let bytes = 0
  let uncatalogued = 0
  for await (const info of store.list(prefix)) {
    if (isControlKey(info.key, prefix)) continue
    objects++
    bytes += info.size
    const id = activityIdFromKey(prefix, info.key)
    if (id === undefined) {
      if (offLayout.length < EXAMPLES) offLayout.push(info.key)
      offLayoutCount++
      continue
    }
    listed.add(id)
    const entry = catalog.get(id)
    if (entry) {
      bump(byYear, entry.year)
      bump(byType, entry.type)
    } else {
      uncatalogued++
    }
  }
  // What the state knows as stored: the catalog, and the recent ids (older states have no catalog).
  const known = new Set<number>(catalog.keys())
  for (const [id] of dataset?.recent ?? []) known.add(id)
  const missing = [...known].filter((id) => !listed.has(id)).sort((a, b) => a - b)
  const stateCount = dataset ? dataset.counts.stored : null
  return {
    listed,
    summary: {
      objects,
      bytes,
      activities: listed.size,
      byYear: sorted(byYear, false),
      byType: sorted(byType, true),
      uncatalogued,
      offLayout: { count: offLayoutCount, examples: offLayout },
      drift: {
        detected: dataset !== undefined && (stateCount !== listed.size || missing.length > 0),
        stateCount,
        listedCount: listed.size,
        missing: { count: missing.length, examples: missing.slice(0, EXAMPLES) },
      },
      listRequests: (store.stats().requests.ListObjectsV2 ?? 0) - before,
    },
  }
}
