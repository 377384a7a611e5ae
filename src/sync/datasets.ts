/**
 * The dataset catalogue: what `--data` can name, where each dataset lives and which Garmin call fills
 * it. Every dataset has its own prefix beside (never inside) the activity prefix, so a glob over
 * `raw-data/garmin-json/*.json` keeps matching activities only.
 */
import { UsageError } from '../errors.js'

/** The Garmin calls the extra datasets need (GarminClient has them all). */
export interface DatasetSource {
  downloadOriginal(id: number, signal?: AbortSignal): Promise<Uint8Array>
  getActivityDetails(id: number, signal?: AbortSignal): Promise<unknown>
  getActivitySplits(id: number, signal?: AbortSignal): Promise<unknown>
  /** Undefined for a day without data (HTTP 204). */
  getDaily(dataset: string, date: string, signal?: AbortSignal): Promise<unknown | undefined>
}

export interface PerActivityDataset {
  name: 'fit' | 'details' | 'splits'
  kind: 'per-activity'
  extension: 'zip' | 'json'
  contentType: string
  /** The bytes to store, exactly as Garmin sent them (JSON re-serialised without changes). */
  fetch(source: DatasetSource, activityId: number, signal?: AbortSignal): Promise<Uint8Array>
}

export interface DailyDataset {
  name:
    | 'daily-summary'
    | 'sleep'
    | 'heart-rate'
    | 'stress'
    | 'hrv'
    | 'body-battery'
    | 'body-composition'
    | 'training-readiness'
  kind: 'daily'
  /** The client's name for it (`getDaily`). */
  garminName: string
  /** True when the answer holds no data for the day (besides HTTP 204). */
  isEmpty(value: unknown): boolean
}

export type DatasetSpec = PerActivityDataset | DailyDataset
export const ACTIVITIES = 'activities'

const encoder = new TextEncoder()
const jsonBytes = (value: unknown) => encoder.encode(JSON.stringify(value))

function isEmptyValue(value: unknown): boolean {
  if (value === undefined || value === null) return true
  if (Array.isArray(value)) return value.length === 0
  return typeof value === 'object' && Object.keys(value).length === 0
}

const perActivity = (
  name: PerActivityDataset['name'],
  fetch: PerActivityDataset['fetch'],
  extension: PerActivityDataset['extension'] = 'json',
): PerActivityDataset => ({
  name,
  kind: 'per-activity',
  extension,
  contentType: extension === 'zip' ? 'application/zip' : 'application/json',
  fetch,
})

const daily = (
  name: DailyDataset['name'],
  garminName: string,
  isEmpty: (value: unknown) => boolean = isEmptyValue,
): DailyDataset => ({ name, kind: 'daily', garminName, isEmpty })

export const DATASETS: readonly DatasetSpec[] = [
  perActivity('fit', (s, id, signal) => s.downloadOriginal(id, signal), 'zip'),
  perActivity('details', async (s, id, signal) => jsonBytes(await s.getActivityDetails(id, signal))),
  perActivity('splits', async (s, id, signal) => jsonBytes(await s.getActivitySplits(id, signal))),
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

export const DATASET_NAMES: readonly string[] = [ACTIVITIES, ...DATASETS.map((d) => d.name)]

export function datasetSpec(name: string): DatasetSpec | undefined {
  return DATASETS.find((d) => d.name === name)
}

/**
 * `--data` / DATASETS: a comma list of dataset names, or `all`. Unknown names are a UsageError that
 * lists the valid ones. The result is in catalogue order, without duplicates; per-activity datasets
 * bring `activities` with them (they follow its cursor).
 */
export function parseDatasets(text: string | readonly string[] | undefined): string[] {
  const parts = (typeof text === 'string' ? text.split(',') : (text ?? []))
    .map((p) => p.trim())
    .filter((p) => p !== '')
  if (parts.length === 0) return [ACTIVITIES]
  if (parts.includes('all')) return [...DATASET_NAMES]
  const unknown = parts.filter((p) => !DATASET_NAMES.includes(p))
  if (unknown.length > 0) {
    throw new UsageError(`unknown dataset${unknown.length > 1 ? 's' : ''}: ${unknown.join(', ')}`, {
      hint: `--data takes a comma list of: ${DATASET_NAMES.join(', ')} (or all).`,
    })
  }
  const wanted = new Set(parts)
  if (DATASETS.some((d) => d.kind === 'per-activity' && wanted.has(d.name))) wanted.add(ACTIVITIES)
  return DATASET_NAMES.filter((n) => wanted.has(n))
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

/** Every prefix the selected datasets write to (for the IAM policy). */
export function datasetPrefixes(activityPrefix: string, datasets: readonly string[]): string[] {
  return datasets.map((d) => datasetPrefix(activityPrefix, d))
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
