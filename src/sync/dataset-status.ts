/**
 * What `status` can say about the datasets besides activities, from the cursors alone (two GETs, no
 * listing): per dataset how much is stored, the newest day, and the gaps inside the covered range.
 */
import type { Store } from '../store/types.js'
import { decodeCatalog } from './catalog.js'
import {
  type DatasetStateFile,
  type DatasetStateSummary,
  daysBetween,
  decodeDays,
  encodeDays,
  inspectDatasetState,
} from './dataset-state.js'
import { DATASETS, datasetPrefix } from './datasets.js'
import { decodeIds } from './id-list.js'
import { DEFAULT_RELOAD_BUDGET } from './options.js'
import { type DatasetState, readSyncState } from './state.js'

export interface DatasetStatus {
  dataset: string
  kind: 'per-activity' | 'daily'
  prefix: string
  /** Objects stored (days with data, or activities). */
  stored: number
  /** Daily: the covered range and its newest day with data. */
  from?: string
  through?: string
  newest?: string
  /** Daily: day ranges still to fetch (failed or not reached yet). */
  pending?: string[]
  /** Daily: day ranges Garmin had no data for. */
  noData?: string[]
  /** Daily: day ranges Garmin sent archived (summary without samples), waiting for a reload. */
  archived?: string[]
  /** Per-activity: activities known to the activity cursor without this dataset yet. */
  missing?: number
  /** Per-activity: activities Garmin no longer has (404). */
  gone?: number
}

/** Archived days across the daily datasets and their reloads (sync/archive.ts, docs/archive.md). */
export interface ArchiveStatus {
  /** Days still archived in at least one dataset (one reload each). */
  pending: number
  oldest: string | null
  /** Days reloaded and stored so far; days Garmin had no files for. */
  restored: number
  noFiles: number
  /** Reloads per run, as the last sync used it. */
  budget: number
  /** The UTC day Garmin last answered DENIED (its quota spent), or null. */
  deniedOn: string | null
  /** Daily runs it takes to restore the rest at `budget` a day; null when reloads are off (0). */
  daysToRestore: number | null
}

/**
 * One entry per dataset that has a cursor; datasets never synced are left out. A caller that has
 * already read the activity state passes it, so this costs one GET (the dataset cursors).
 */
export async function datasetStatuses(
  store: Store,
  activityPrefix: string,
  activityState?: DatasetState | null,
): Promise<DatasetStatus[]> {
  return (await datasetReport(store, activityPrefix, activityState)).datasets
}

/**
 * The dataset statuses and the archive's, from the same GET, and what was found of the cursor file
 * itself (a file that cannot be read counts as no cursors: `state` says why). `archive` is null
 * before any archived day.
 */
export async function datasetReport(
  store: Store,
  activityPrefix: string,
  activityState?: DatasetState | null,
): Promise<{ datasets: DatasetStatus[]; archive: ArchiveStatus | null; state: DatasetStateSummary }> {
  const [{ file, summary }, activities] = await Promise.all([
    inspectDatasetState(store, activityPrefix),
    activityState === undefined ? readSyncState(store, activityPrefix) : activityState,
  ])
  return {
    datasets: statusesOf(file, activityPrefix, activities ?? null),
    archive: archiveStatusOf(file),
    state: summary,
  }
}

function archiveStatusOf(file: DatasetStateFile): ArchiveStatus | null {
  const days = new Set<string>()
  for (const section of Object.values(file.datasets))
    if (section.kind === 'daily') for (const d of decodeDays(section.archived ?? [])) days.add(d)
  const record = file.datasets.archive
  const reloads = record?.kind === 'archive' ? record : undefined
  if (days.size === 0 && reloads === undefined) return null
  const budget = reloads?.budget ?? DEFAULT_RELOAD_BUDGET
  return {
    pending: days.size,
    oldest: [...days].sort()[0] ?? null,
    restored: reloads?.restored ?? 0,
    noFiles: reloads?.noFiles ?? 0,
    budget,
    deniedOn: reloads?.deniedOn ?? null,
    daysToRestore: budget > 0 ? Math.ceil(days.size / budget) : null,
  }
}

function statusesOf(
  file: DatasetStateFile,
  activityPrefix: string,
  activities: DatasetState | null,
): DatasetStatus[] {
  const known = new Set<number>(decodeCatalog(activities?.catalog).keys())
  for (const [id] of activities?.recent ?? []) known.add(id)
  const out: DatasetStatus[] = []
  for (const spec of DATASETS) {
    const prefix = datasetPrefix(activityPrefix, spec.name)
    const section = file.datasets[prefix]
    if (!section || section.kind !== spec.kind) continue
    if (section.kind === 'per-activity') {
      const done = decodeIds(section.done)
      const gone = decodeIds(section.gone)
      out.push({
        dataset: spec.name,
        kind: 'per-activity',
        prefix,
        stored: done.size,
        missing: [...known].filter((id) => !done.has(id) && !gone.has(id)).length,
        gone: gone.size,
      })
      continue
    }
    const pending = decodeDays(section.pending)
    const noData = decodeDays(section.noData)
    const archived = decodeDays(section.archived ?? [])
    const withData = daysBetween(section.from, section.through).filter(
      (d) => !pending.has(d) && !noData.has(d) && !archived.has(d),
    )
    out.push({
      dataset: spec.name,
      kind: 'daily',
      prefix,
      stored: withData.length,
      from: section.from,
      through: section.through,
      ...(withData.length > 0 ? { newest: withData[withData.length - 1] } : {}),
      pending: encodeDays(pending),
      noData: encodeDays(noData),
      ...(archived.size > 0 ? { archived: encodeDays(archived) } : {}),
    })
  }
  return out
}
