/**
 * The dataset catalogue: what `--data` can name, where each dataset lives and which Garmin call fills
 * it. Every dataset has its own prefix beside (never inside) the activity prefix, so a glob over
 * `raw-data/garmin-json/*.json` keeps matching activities only.
 */
import { closest } from '../closest.js'
import { UsageError } from '../errors.js'
import { type DailyRoute, dailyRoute } from '../garmin/client.js'
import { siblingPrefix } from '../store/keys.js'
import { isIsoDate } from './time.js'

/** The Garmin calls the extra datasets need (GarminClient has them all). */
export interface DatasetSource {
  downloadOriginal(id: number, signal?: AbortSignal): Promise<Uint8Array>
  getActivityDetails(id: number, signal?: AbortSignal): Promise<unknown>
  getActivitySplits(id: number, signal?: AbortSignal): Promise<unknown>
  /** One day at a daily route; undefined for a day without data (HTTP 204). */
  getDailyAt(route: DailyRoute, date: string, signal?: AbortSignal): Promise<unknown | undefined>
}

export interface PerActivityDataset {
  /** What `--data` names it; also its key prefix `garmin-<name>/`. */
  name: string
  kind: 'per-activity'
  extension: 'zip' | 'json'
  contentType: string
  /** The request kind its Garmin call is counted under in the client's stats(). */
  requestKind: string
  /**
   * Derived from the activity as it is now (details, splits): fetched again, and replaced with its
   * history, when the activity's list entry changes. The FIT original is what the device recorded: never.
   */
  followsEdits: boolean
  /** The bytes to store, exactly as Garmin sent them (JSON re-serialised without changes). */
  fetch(source: DatasetSource, activityId: number, signal?: AbortSignal): Promise<Uint8Array>
}

export interface DailyDataset {
  /** What `--data` names it; also its key prefix `garmin-<name>/` and key `<name>_<date>.json`. */
  name: string
  kind: 'daily'
  /** How Garmin is asked for one day (its path builder). */
  route: DailyRoute
  /** The client's name for it: `route.kind`, its request kind in the client's stats(). */
  garminName: string
  /** True when the answer holds no data for the day (besides HTTP 204). */
  isEmpty(value: unknown): boolean
}

export type DatasetSpec = PerActivityDataset | DailyDataset

/**
 * A dataset catalogue: everything `--data` can name besides activities, in the order they run and are
 * listed. DATASETS is the production one; a test passes its own through SyncDeps.catalogue.
 */
export type DatasetCatalogue = readonly DatasetSpec[]
export const ACTIVITIES = 'activities'

const encoder = new TextEncoder()
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value))

function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null) return true
  if (Array.isArray(value)) return value.length === 0
  return typeof value === 'object' && Object.keys(value).length === 0
}

const perActivity = (
  name: string,
  requestKind: string,
  fetch: PerActivityDataset['fetch'],
  extension: PerActivityDataset['extension'] = 'json',
): PerActivityDataset => ({
  name,
  kind: 'per-activity',
  extension,
  contentType: extension === 'zip' ? 'application/zip' : 'application/json',
  requestKind,
  followsEdits: extension === 'json',
  fetch,
})

/** A daily dataset at `route`; answers that `isEmpty` are remembered as days without data. */
export const dailyDataset = (
  name: string,
  route: DailyRoute,
  isEmpty: (value: unknown) => boolean = isEmptyValue,
): DailyDataset => ({ name, kind: 'daily', route, garminName: route.kind, isEmpty })

const daily = (name: string, garminName: string, isEmpty?: (value: unknown) => boolean) =>
  dailyDataset(name, dailyRoute(garminName), isEmpty)

export const DATASETS: DatasetCatalogue = [
  perActivity('fit', 'download', (s, id, signal) => s.downloadOriginal(id, signal), 'zip'),
  perActivity('details', 'details', async (s, id, signal) =>
    jsonBytes(await s.getActivityDetails(id, signal)),
  ),
  perActivity('splits', 'splits', async (s, id, signal) => jsonBytes(await s.getActivitySplits(id, signal))),
  daily('daily-summary', 'dailySummary'),
  daily('sleep', 'sleep'),
  daily('heart-rate', 'heartRate'),
  daily('stress', 'stress'),
  daily('hrv', 'hrv'),
  daily('body-battery', 'bodyBattery'),
  // A day without a weigh-in still answers 200 with an empty list.
  daily(
    'body-composition',
    'bodyComposition',
    (v) =>
      isEmptyValue(v) ||
      (typeof v === 'object' &&
        Array.isArray((v as { dateWeightList?: unknown }).dateWeightList) &&
        (v as { dateWeightList: unknown[] }).dateWeightList.length === 0),
  ),
  daily('training-readiness', 'trainingReadiness'),
]

/** Every name `--data` takes with `catalogue`, activities first. */
function namesOf(catalogue: DatasetCatalogue): readonly string[] {
  return [ACTIVITIES, ...catalogue.map((d) => d.name)]
}

export const DATASET_NAMES: readonly string[] = namesOf(DATASETS)

export function datasetSpec(name: string, catalogue: DatasetCatalogue = DATASETS): DatasetSpec | undefined {
  return catalogue.find((d) => d.name === name)
}

/**
 * `--data` / DATASETS: a comma list of dataset names, or `all`. Unknown names are a UsageError that
 * lists the valid ones. The result is in catalogue order, without duplicates; per-activity datasets
 * bring `activities` with them (they follow its cursor).
 */
export function parseDatasets(
  text: string | readonly string[] | undefined,
  catalogue: DatasetCatalogue = DATASETS,
): string[] {
  const names = namesOf(catalogue)
  const parts = (typeof text === 'string' ? text.split(',') : (text ?? []))
    .map((p) => p.trim())
    .filter((p) => p !== '')
  if (parts.length === 0) return [ACTIVITIES]
  if (parts.includes('all')) return [...names]
  const unknown = parts.filter((p) => !names.includes(p))
  if (unknown.length > 0) {
    const named = unknown.map((p) => {
      const meant = closest(p, names)
      return meant ? `${p} (did you mean ${meant}?)` : p
    })
    throw new UsageError(`unknown dataset${unknown.length > 1 ? 's' : ''}: ${named.join(', ')}`, {
      hint: `--data takes a comma list of: ${names.join(', ')} (or all).`,
    })
  }
  const wanted = new Set(parts)
  if (catalogue.some((d) => d.kind === 'per-activity' && wanted.has(d.name))) wanted.add(ACTIVITIES)
  return names.filter((n) => wanted.has(n))
}

/**
 * THE layout rule: each dataset's prefix is a sibling of the activity prefix, named `garmin-<dataset>`.
 * `raw-data/garmin-json/` + `fit` -> `raw-data/garmin-fit/`; `activities` keeps the activity prefix.
 */
export function datasetPrefix(activityPrefix: string, dataset: string): string {
  if (dataset === ACTIVITIES) return activityPrefix
  const trimmed = activityPrefix.replace(/\/+$/, '')
  const slash = trimmed.lastIndexOf('/')
  const sibling = `${slash < 0 ? '' : trimmed.slice(0, slash + 1)}garmin-${dataset}/`
  if (sibling === activityPrefix) {
    throw new UsageError(`the prefix ${activityPrefix} is also where ${dataset} would go`, {
      hint: 'Use an activity prefix such as raw-data/garmin-json/.',
    })
  }
  return sibling
}

/**
 * Every prefix the selected datasets write to (for the IAM policy): theirs, and the history of those
 * that follow edits (docs/changes.md). The activities' own history and tombstones are the policy's.
 */
/**
 * Whether `prefix` lies inside what sync writes for `activityPrefix`: the activity folder (for the
 * empty prefix, the whole bucket or folder, only the empty prefix itself: its activities are top-level
 * files), a sibling `garmin-*` folder (datasets, history, tombstones) or the control folder beside it.
 * Another layer (the curated tables) must not: the raw prefixes hold Garmin's answers only.
 */
export function insideRawData(prefix: string, activityPrefix: string): boolean {
  const trimmed = activityPrefix.replace(/\/+$/, '')
  const parent = trimmed.slice(0, trimmed.lastIndexOf('/') + 1)
  if (prefix === activityPrefix || (activityPrefix !== '' && prefix.startsWith(activityPrefix))) return true
  if (!prefix.startsWith(parent)) return false
  const rest = prefix.slice(parent.length)
  return rest.startsWith('garmin-') || rest.startsWith('_garmin-s3/')
}

export function datasetPrefixes(
  activityPrefix: string,
  datasets: readonly string[],
  catalogue: DatasetCatalogue = DATASETS,
): string[] {
  return datasets.flatMap((d) => {
    const prefix = datasetPrefix(activityPrefix, d)
    const spec = datasetSpec(d, catalogue)
    return spec?.kind === 'per-activity' && spec.followsEdits
      ? [prefix, siblingPrefix(prefix, 'history')]
      : [prefix]
  })
}

/** `raw-data/garmin-fit/activity_123.zip` */
export function perActivityKey(prefix: string, spec: PerActivityDataset, activityId: number): string {
  return `${prefix}activity_${activityId}.${spec.extension}`
}

/** `raw-data/garmin-sleep/sleep_2026-11-28.json` */
export function dailyKey(prefix: string, spec: DailyDataset, date: string): string {
  return `${prefix}${spec.name}_${date}.json`
}

/** The activity id of a per-activity key, or undefined. */
export function activityIdOfKey(prefix: string, spec: PerActivityDataset, key: string): number | undefined {
  if (!key.startsWith(prefix)) return undefined
  const m = /^activity_(\d{1,16})\.(zip|json)$/.exec(key.slice(prefix.length))
  if (!m || m[2] !== spec.extension) return undefined
  const id = Number(m[1])
  return Number.isSafeInteger(id) ? id : undefined
}

/** The day of a daily key (`raw-data/garmin-sleep/sleep_2026-11-28.json` -> `2026-11-28`), or undefined. */
export function dayOfKey(prefix: string, spec: DailyDataset, key: string): string | undefined {
  const name = `${spec.name}_`
  if (!key.startsWith(prefix + name) || !key.endsWith('.json')) return undefined
  const day = key.slice(prefix.length + name.length, -'.json'.length)
  return isIsoDate(day) ? day : undefined
}
