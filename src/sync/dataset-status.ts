/**
 * What `status` can say about the datasets besides activities, from the cursors alone (two GETs, no
 * listing): per dataset how much is stored, the newest day, and the gaps inside the covered range.
 */
import type { Store } from '../store/types.js'
import { decodeCatalog } from './catalog.js'
import { daysBetween, decodeDays, encodeDays, readDatasetState } from './dataset-state.js'
import { DATASETS, datasetPrefix } from './datasets.js'
import { decodeIds } from './id-list.js'
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
  /** Per-activity: activities known to the activity cursor without this dataset yet. */
  missing?: number
  /** Per-activity: activities Garmin no longer has (404). */
  gone?: number
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
  const [file, activities] = await Promise.all([
    readDatasetState(store, activityPrefix),
    activityState === undefined ? readSyncState(store, activityPrefix) : activityState,
  ])
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
    const withData = daysBetween(section.from, section.through).filter(
      (d) => !pending.has(d) && !noData.has(d),
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
    })
  }
  return out
}
