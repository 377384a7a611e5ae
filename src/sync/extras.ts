/**
 * `sync --data ...`: the activity pipeline (runSync) first, since per-activity datasets follow its
 * cursor, then every other selected dataset at once (each with bounded concurrency, all under one cap
 * on Garmin calls in flight and the client's one rate-limit budget). The report keeps the activity
 * fields as they were and gains per-dataset counts.
 */
import { type Clock, systemClock } from '../clock.js'
import { EXIT, type ExitCode, isGarminS3Error, UsageError } from '../errors.js'
import { messageOf } from '../unknown.js'
import { restoreArchived } from './archive.js'
import { decodeCatalog } from './catalog.js'
import { syncDaily } from './daily.js'
import { DatasetContext, emptyCounts, Limiter } from './dataset-context.js'
import { DatasetStateKeeper } from './dataset-state.js'
import {
  ACTIVITIES,
  DATASETS,
  type DatasetSource,
  type DatasetSpec,
  datasetPrefix,
  datasetSpec,
  parseDatasets,
} from './datasets.js'
import { WriteGate } from './gate.js'
import { resolveOptions } from './options.js'
import { syncPerActivity } from './per-activity.js'
import { activityIdFromKey, countsSince, runSync } from './run.js'
import { readSyncState } from './state.js'
import { utcDate } from './time.js'
import type {
  ArchiveReport,
  DatasetCounts,
  StoredActivities,
  SyncDeps,
  SyncOptions,
  SyncReport,
  SyncSource,
} from './types.js'

/** Per dataset. */
const DEFAULT_DATASET_CONCURRENCY = 2
/** Garmin calls in flight across all datasets. */
const MAX_DATASET_CALLS = 8
const MIN_DEADLINE_RESERVE_MS = 1000

/** The client's request kind per dataset (GarminClient.stats()), for per-dataset request counts. */
function requestKind(spec: DatasetSpec): string {
  return spec.kind === 'daily' ? spec.route.kind : spec.requestKind
}

function isDatasetSource(value: unknown): value is DatasetSource {
  const v = value as Partial<DatasetSource>
  return (
    typeof v.getDailyAt === 'function' &&
    typeof v.downloadOriginal === 'function' &&
    typeof v.getActivityDetails === 'function' &&
    typeof v.getActivitySplits === 'function'
  )
}

/** runSync plus the datasets of `options.datasets`; with activities only, exactly runSync. */
export async function runSyncWithDatasets(options: SyncOptions, deps: SyncDeps): Promise<SyncReport> {
  const catalogue = deps.catalogue ?? DATASETS
  const datasets = parseDatasets(options.datasets, catalogue)
  const extras = datasets.filter((d) => d !== ACTIVITIES).map((d) => datasetSpec(d, catalogue)!)
  if (extras.length === 0) return runSync(options, deps)

  const clock: Clock = deps.clock ?? systemClock
  const resolved = resolveOptions(options, clock.now())
  const reviseDays = resolved.reviseDays
  const prefixes = new Map(extras.map((spec) => [spec, datasetPrefix(options.prefix, spec.name)]))
  const candidate = deps.garmin as SyncSource & Partial<DatasetSource>
  if (!isDatasetSource(candidate)) throw new UsageError('this Garmin source cannot fetch the extra datasets')
  const source: SyncSource & DatasetSource = candidate
  const garminBefore = { ...source.stats().requests }
  const storeBefore = { ...deps.store.stats().requests }

  // One run, one record: the datasets are the run's second phase, inside runSync, which writes lastRun
  // and the manifest once both phases are done (run.ts `afterActivities`).
  return runSync(options, {
    ...deps,
    afterActivities: (report, stored) => datasetPhase(report, stored),
  })

  async function datasetPhase(report: SyncReport, stored: StoredActivities): Promise<SyncReport> {
    const activityCounts: DatasetCounts = {
      ...emptyCounts(),
      created: report.created,
      existing: report.existing,
      failed: report.failed,
      requests: (report.requests.garmin.list ?? 0) + (report.requests.garmin.count ?? 0),
    }
    const counts: Record<string, DatasetCounts> = { [ACTIVITIES]: activityCounts }
    // Without a usable activity run (fatal error, out of time) there is nothing to build on: resume next run.
    const skip =
      report.stopReason === 'fatal' || report.stopReason === 'deadline' || report.stopReason === 'interrupted'
    if (skip) {
      for (const spec of extras) counts[spec.name] = emptyCounts()
      return { ...report, datasets: counts }
    }

    const log = deps.log ?? (() => {})
    const keeper = new DatasetStateKeeper(deps.store, options.prefix, () => clock.now())
    const ctx = new DatasetContext(
      source,
      deps.store,
      new WriteGate(resolved.dryRun, log),
      keeper,
      new Limiter(MAX_DATASET_CALLS),
      DEFAULT_DATASET_CONCURRENCY,
      log,
      () =>
        deps.signal?.aborted === true ||
        (resolved.deadline !== undefined && clock.now() >= resolved.deadline - MIN_DEADLINE_RESERVE_MS),
      () => clock.now(),
    )
    const onOuterAbort = () => ctx.abort.abort()
    let archive: ArchiveReport | undefined
    let results: DatasetCounts[] | undefined
    deps.signal?.addEventListener('abort', onOuterAbort, { once: true })

    try {
      await keeper.load()
      const rebuild = keeper.unreadable !== undefined
      if (keeper.unreadable) {
        log({
          type: 'warning',
          message: `${keeper.key} cannot be read (${keeper.unreadable.problem}): the dataset cursors are rebuilt from one listing of each dataset's folder, so Garmin is asked only for what is missing; ${resolved.dryRun ? 'a real run replaces the file' : 'this run replaces the file'}.`,
        })
      }
      const activityState = await readSyncState(deps.store, options.prefix)
      const today = utcDate(clock.now())
      // This run's activities count too: a dry run wrote no state, and its plan must match a real run's.
      const oldest = [activityState?.oldestStartTimeGMT, stored.oldestStartTimeGMT]
        .filter((t): t is string => t !== undefined)
        .sort()[0]
      const since = resolved.since ?? oldest?.slice(0, 10) ?? today
      const perActivity = extras.some((s) => s.kind === 'per-activity')
      const ids = perActivity
        ? await knownActivityIds(deps, options.prefix, activityState)
        : new Set<number>()
      for (const id of perActivity ? stored.ids : []) ids.add(id)
      results = await Promise.all(
        extras.map(async (spec) => {
          const prefix = prefixes.get(spec)!
          try {
            return spec.kind === 'daily'
              ? await syncDaily(spec, prefix, ctx, {
                  today,
                  since,
                  reviseDays,
                  repair: resolved.full,
                  rebuild,
                })
              : await syncPerActivity(
                  spec,
                  prefix,
                  ctx,
                  ids,
                  resolved.trackChanges ? (activityState?.changes ?? []) : [],
                  resolved.full,
                )
          } catch (error) {
            // The dataset failed as a whole (e.g. the listing it starts from): say so in its counts,
            // unless a stop cut it short (the stop is reported once, for the run).
            const recorded = ctx.failed(error, { dataset: spec.name })
            return recorded && ctx.stopError !== error
              ? { ...emptyCounts(), error: messageOf(error) }
              : emptyCounts()
          }
        }),
      )
      // Then the archived days the daily datasets met, within the reload budget (archive.ts).
      const daily = extras.flatMap((spec) =>
        spec.kind === 'daily' ? [{ spec, prefix: prefixes.get(spec)! }] : [],
      )
      const ran = results
      const byName = Object.fromEntries(extras.map((spec, i) => [spec.name, ran[i]!]))
      const plan = { today, budget: resolved.reloadBudget, dryRun: resolved.dryRun }
      if (!ctx.stopped()) archive = await restoreArchived(ctx, daily, plan, byName)
      const after = source.stats().requests
      extras.forEach((spec, i) => {
        const kind = requestKind(spec)
        counts[spec.name] = { ...ran[i]!, requests: (after[kind] ?? 0) - (garminBefore[kind] ?? 0) }
      })
    } catch (error) {
      // Before or after the datasets ran (their cursors could not be read, ...): each dataset without
      // counts of its own failed as a whole.
      const whole = ctx.failed(error, { dataset: 'datasets' }) && ctx.stopError !== error
      extras.forEach((spec, i) => {
        counts[spec.name] ??=
          results?.[i] ?? (whole ? { ...emptyCounts(), error: messageOf(error) } : emptyCounts())
      })
    } finally {
      deps.signal?.removeEventListener('abort', onOuterAbort)
    }

    // Merge into the activity report: worst exit code wins; failures and stops make it partial.
    const errors = [...report.errors]
    let exitCode: ExitCode = report.exitCode
    let stopReason = report.stopReason
    const stop = ctx.stopError
    if (stop !== undefined) {
      const hint = isGarminS3Error(stop) ? stop.hint : undefined
      if (ctx.stopSeverity === 'fatal') {
        exitCode = isGarminS3Error(stop) && stop.exitCode !== EXIT.ok ? stop.exitCode : EXIT.failure
        stopReason = 'fatal'
        errors.unshift({ message: messageOf(stop), ...(hint ? { hint } : {}) })
      } else {
        errors.push({
          message: `stopped the datasets early: ${messageOf(stop)}`,
          hint: hint ?? 'The next run resumes where this one stopped.',
        })
      }
    }
    errors.push(...ctx.errors)
    if (deps.signal?.aborted) ctx.deadlineHit = true
    const extraFailures = ctx.errors.length > 0 || extras.some((s) => (counts[s.name]?.failed ?? 0) > 0)
    if (exitCode === EXIT.ok && (extraFailures || stop !== undefined || ctx.deadlineHit))
      exitCode = EXIT.partial
    if (ctx.deadlineHit && stopReason !== 'fatal')
      stopReason = deps.signal?.aborted ? 'interrupted' : 'deadline'
    const finishedAt = clock.now()
    return {
      ...report,
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - Date.parse(report.startedAt),
      partial: exitCode !== EXIT.ok,
      exitCode,
      stopReason,
      errors,
      requests: {
        garmin: countsSince(source.stats().requests, garminBefore),
        store: countsSince(deps.store.stats().requests, storeBefore),
      },
      datasets: counts,
      ...(archive === undefined ? {} : { archive }),
    }
  }
}

/** Every activity id the activity cursor knows; one listing of the prefix when its catalog is short. */
async function knownActivityIds(
  deps: SyncDeps,
  prefix: string,
  state: Awaited<ReturnType<typeof readSyncState>>,
): Promise<Set<number>> {
  const ids = new Set<number>(decodeCatalog(state?.catalog).keys())
  for (const [id] of state?.recent ?? []) ids.add(id)
  if (ids.size < (state?.counts.stored ?? 0)) {
    for await (const info of deps.store.list(prefix)) {
      const id = activityIdFromKey(prefix, info.key)
      if (id !== undefined) ids.add(id)
    }
  }
  return ids
}
