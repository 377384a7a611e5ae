import { UsageError } from '../errors.js'
import { addDays, isIsoDate, utcDate } from './time.js'
import type { SyncOptions } from './types.js'

export interface ResolvedOptions {
  prefix: string
  /** Effective lower bound (local start date), from `since` or `daysBack`. */
  since?: string
  full: boolean
  dryRun: boolean
  concurrency: number
  deadline?: number
  pageSize: number
  maxPageSize: number
  overlapDays: number
  /** Daily datasets: the last N days fetched again every run (0: a stored day is never fetched again). */
  reviseDays: number
  /** Reload requests per run for archived days (0: none). */
  reloadBudget: number
  trackChanges: boolean
  reconcile: boolean
  reconcileDays: number
  pruneDeleted: boolean
  original: SyncOptions
}

/** Writes (and Garmin calls of the per-activity datasets) in flight at once: `--concurrency`. */
export const DEFAULT_CONCURRENCY = 4
export const MAX_CONCURRENCY = 64
export const DEFAULT_REVISE_DAYS = 3
const MAX_REVISE_DAYS = 60
export const DEFAULT_RELOAD_BUDGET = 25
/** Garmin grants about 30 a day; more than this per run is a typo. */
const MAX_RELOAD_BUDGET = 1000
export const DEFAULT_RECONCILE_DAYS = 7
const MAX_RECONCILE_DAYS = 366
/** A century: anything larger reaches before Garmin existed (and past the range of a Date). */
const MAX_DAYS_BACK = 36_500
/** Garmin's own cap on `limit` for the activity list. */
const MAX_LIST_LIMIT = 1000

function positiveInteger(value: number | undefined, fallback: number, name: string, max: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    throw new UsageError(`${name} must be a whole number from 1 to ${max}, got ${value}`)
  }
  return value
}

/** Checks every option before anything is read or written; a bad one is a UsageError (exit 2). */
export function resolveOptions(options: SyncOptions, now: number): ResolvedOptions {
  const { prefix } = options
  if (prefix !== '' && !prefix.endsWith('/')) {
    throw new UsageError(`prefix ${JSON.stringify(prefix)} must end with "/"`, {
      hint: 'Pass a folder-like prefix such as raw-data/garmin-json/.',
    })
  }
  if (options.since !== undefined && !isIsoDate(options.since)) {
    throw new UsageError(`--since must be a date like 2024-05-01, got ${JSON.stringify(options.since)}`, {
      hint: 'Use the YYYY-MM-DD form, e.g. --since 2024-05-01.',
    })
  }
  if (options.daysBack !== undefined && (!Number.isSafeInteger(options.daysBack) || options.daysBack < 0)) {
    throw new UsageError(`--days-back must be a whole number of days, 0 or more, got ${options.daysBack}`, {
      hint: 'For example --days-back 7 (or DAYS_BACK=7) syncs the last week.',
    })
  }
  if (options.daysBack !== undefined && options.daysBack > MAX_DAYS_BACK) {
    throw new UsageError(
      `--days-back must be at most ${MAX_DAYS_BACK} (a century), got ${options.daysBack}`,
      {
        hint: 'Drop --days-back (and DAYS_BACK) to sync the whole history.',
      },
    )
  }
  if (options.since !== undefined && options.daysBack !== undefined) {
    throw new UsageError('--since and --days-back both set a start date; use one of them', {
      hint: 'Drop one (DAYS_BACK in the environment counts as --days-back).',
    })
  }
  if (options.full && (options.since !== undefined || options.daysBack !== undefined)) {
    throw new UsageError(
      '--full rescans the whole history, so it cannot be combined with --since or --days-back',
      {
        hint: 'Drop --full to sync a date range, or drop the range to rescan everything.',
      },
    )
  }
  if (
    options.overlapDays !== undefined &&
    (!Number.isFinite(options.overlapDays) || options.overlapDays < 0)
  ) {
    throw new UsageError(`overlapDays must be 0 or more, got ${options.overlapDays}`)
  }
  const reviseDays = options.reviseDays ?? DEFAULT_REVISE_DAYS
  // Checked on every run, not only when a daily dataset is asked for: a bad flag is never ignored.
  if (!Number.isSafeInteger(reviseDays) || reviseDays < 0 || reviseDays > MAX_REVISE_DAYS) {
    throw new UsageError(
      `--revise-days must be a whole number from 0 to ${MAX_REVISE_DAYS}, got ${options.reviseDays}`,
      {
        hint: 'Garmin revises the last few days: the default of 3 is enough for most accounts; 0 never fetches a stored day again.',
      },
    )
  }
  const reloadBudget = options.reloadBudget ?? DEFAULT_RELOAD_BUDGET
  if (!Number.isSafeInteger(reloadBudget) || reloadBudget < 0 || reloadBudget > MAX_RELOAD_BUDGET) {
    throw new UsageError(
      `--reload-budget must be a whole number from 0 to ${MAX_RELOAD_BUDGET}, got ${options.reloadBudget}`,
      {
        hint: `Garmin answers about 30 reloads a day: the default of ${DEFAULT_RELOAD_BUDGET} leaves room for the web page's Reload button; 0 asks for none.`,
      },
    )
  }
  const reconcileDays = options.reconcileDays ?? DEFAULT_RECONCILE_DAYS
  if (!Number.isSafeInteger(reconcileDays) || reconcileDays < 0 || reconcileDays > MAX_RECONCILE_DAYS) {
    throw new UsageError(
      `--reconcile-days must be a whole number from 0 to ${MAX_RECONCILE_DAYS}, got ${options.reconcileDays}`,
      {
        hint: `The default of ${DEFAULT_RECONCILE_DAYS} compares the whole list once a week; 0 only when --reconcile is given.`,
      },
    )
  }
  const trackChanges = options.trackChanges !== false
  if (!trackChanges && (options.reconcile || options.pruneDeleted)) {
    throw new UsageError('--no-track-changes cannot be combined with --reconcile or --prune-deleted', {
      hint: 'Drop --no-track-changes to follow edits and deletions, or drop the other flag.',
    })
  }
  const pageSize = positiveInteger(options.pageSize, 100, 'pageSize', MAX_LIST_LIMIT)
  const maxPageSize = Math.max(
    pageSize,
    positiveInteger(options.maxPageSize, 200, 'maxPageSize', MAX_LIST_LIMIT),
  )
  const since =
    options.since ?? (options.daysBack === undefined ? undefined : addDays(utcDate(now), -options.daysBack))
  return {
    prefix,
    ...(since === undefined ? {} : { since }),
    full: options.full === true,
    dryRun: options.dryRun === true,
    concurrency: positiveInteger(options.concurrency, DEFAULT_CONCURRENCY, '--concurrency', MAX_CONCURRENCY),
    ...(options.deadline === undefined ? {} : { deadline: options.deadline }),
    pageSize,
    maxPageSize,
    overlapDays: options.overlapDays ?? 7,
    reviseDays,
    reloadBudget,
    trackChanges,
    reconcile: options.reconcile === true,
    reconcileDays,
    pruneDeleted: options.pruneDeleted === true,
    original: options,
  }
}
