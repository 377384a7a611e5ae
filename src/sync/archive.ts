/**
 * Bringing archived days back (docs/archive.md). After the daily datasets ran, the days they found
 * archived (a summary without samples, archive-marks.ts) are asked back from Garmin, oldest first, at
 * most `budget` reload requests per run: one request per day restores every wellness dataset of it.
 * Then the restored days are fetched again and stored, in the same run.
 *
 * Garmin's answers: SUBMITTED and COMPLETE (fetch again), NO_FILES_FOUND (the day is truly empty:
 * recorded as no data), DENIED (the daily quota is spent: no more reloads until the next UTC day,
 * recorded in the state; the run goes on and its exit code does not change). A run that finds nothing
 * archived sends no reload and writes nothing of this.
 */
import type { ReloadStatus } from '../garmin/client.js'
import { isArchivedAnswer } from './archive-marks.js'
import { writeDay } from './daily.js'
import type { DatasetContext } from './dataset-context.js'
import { type ArchiveState, type DailyState, decodeDays, encodeDays } from './dataset-state.js'
import { type DailyDataset, dailyKey } from './datasets.js'
import type { ArchiveReport, DatasetCounts } from './types.js'

/** The key of the reload record in datasets.json: not a prefix (those end in "/"). */
const ARCHIVE_KEY = 'archive'

/** What the reloads need of Garmin (GarminClient has it). */
interface ReloadSource {
  requestReload(date: string, signal?: AbortSignal): Promise<ReloadStatus>
}

export interface ArchivePlan {
  /** Today (UTC date of the run's clock). */
  today: string
  budget: number
  dryRun: boolean
}

interface Daily {
  spec: DailyDataset
  prefix: string
}

const encoder = new TextEncoder()
/** Checkpoint the sections every this many reloads (a lost one costs a reload, not data). */
const SAVE_EVERY = 10

function hasReload(source: unknown): source is ReloadSource {
  return typeof (source as Partial<ReloadSource>).requestReload === 'function'
}

/** The reload record as it was, or undefined when no run has seen an archived day here yet. */
function archiveRecord(ctx: DatasetContext): ArchiveState | undefined {
  const section = ctx.keeper.section(ARCHIVE_KEY)
  return section?.kind === 'archive' ? section : undefined
}

function dailySection(ctx: DatasetContext, prefix: string): DailyState | undefined {
  const section = ctx.keeper.section(prefix)
  return section?.kind === 'daily' ? section : undefined
}

/**
 * Runs the reloads after the daily datasets; adds each dataset's restored days to `counts`. Undefined
 * (and not a single request) when no selected daily dataset has an archived day.
 */
export async function restoreArchived(
  ctx: DatasetContext,
  datasets: readonly Daily[],
  plan: ArchivePlan,
  counts: Record<string, DatasetCounts>,
): Promise<ArchiveReport | undefined> {
  // Day -> the datasets that hold it archived.
  const byDay = new Map<string, Daily[]>()
  const archivedOf = new Map<string, Set<string>>()
  for (const daily of datasets) {
    const days = decodeDays(dailySection(ctx, daily.prefix)?.archived ?? [])
    archivedOf.set(daily.prefix, days)
    for (const day of days) byDay.set(day, [...(byDay.get(day) ?? []), daily])
  }
  const before = archiveRecord(ctx)
  if (byDay.size === 0 && before === undefined) return undefined

  const report: ArchiveReport = {
    pending: byDay.size,
    reloads: 0,
    restored: 0,
    noFiles: 0,
    denied: before?.deniedOn === plan.today,
    budget: plan.budget,
  }
  const emptied = new Map<string, Set<string>>(datasets.map((d) => [d.prefix, new Set<string>()]))
  const reloader = hasReload(ctx.source) ? ctx.source : undefined
  const save = async (deniedOn: string | undefined) => {
    for (const daily of datasets) await saveSection(ctx, daily.prefix, archivedOf, emptied)
    const record: ArchiveState = {
      kind: 'archive',
      ...(deniedOn === undefined ? {} : { deniedOn }),
      restored: (before?.restored ?? 0) + report.restored,
      noFiles: (before?.noFiles ?? 0) + report.noFiles,
      budget: plan.budget,
    }
    await ctx.save(ARCHIVE_KEY, record)
  }
  let deniedOn = before?.deniedOn
  const canReload = !report.denied && !plan.dryRun && reloader !== undefined
  const toFetch: string[] = []

  // Reloads one at a time, oldest day first: a DENIED ends them at once.
  for (const day of canReload ? [...byDay.keys()].sort() : []) {
    if (report.reloads >= plan.budget || ctx.stopped()) break
    let status: ReloadStatus
    try {
      report.reloads++
      status = await ctx.limiter.run(() => reloader!.requestReload(day, ctx.signal))
    } catch (error) {
      if (!ctx.failed(error, { dataset: 'archive', date: day })) break
      continue
    }
    if (status === 'DENIED') {
      report.denied = true
      deniedOn = plan.today
      ctx.log({
        type: 'warning',
        message: `Garmin's reload quota is spent for today (DENIED); archived days resume tomorrow`,
      })
      break
    }
    if (status === 'NO_FILES_FOUND') {
      // Nothing to bring back: the day is truly empty in every dataset that had it archived.
      for (const daily of byDay.get(day) ?? []) {
        archivedOf.get(daily.prefix)?.delete(day)
        emptied.get(daily.prefix)?.add(day)
        const tally = counts[daily.spec.name]
        if (tally) tally.noData++
      }
      report.noFiles++
    } else toFetch.push(day)
    if (report.reloads % SAVE_EVERY === 0) await save(deniedOn)
  }

  // Fetched after all the reloads, which gives Garmin the seconds a SUBMITTED day needs.
  await ctx.pool(toFetch, async (day) => {
    let back = 0
    const holders = byDay.get(day) ?? []
    for (const daily of holders) {
      if (await fetchAgain(ctx, daily, day, archivedOf, emptied, counts)) back++
    }
    if (back === holders.length) report.restored++
  })
  report.pending = new Set([...archivedOf.values()].flatMap((days) => [...days])).size
  await save(deniedOn)
  return report
}

/** One dataset's day after its reload; true when it is no longer archived. */
async function fetchAgain(
  ctx: DatasetContext,
  { spec, prefix }: Daily,
  day: string,
  archivedOf: Map<string, Set<string>>,
  emptied: Map<string, Set<string>>,
  counts: Record<string, DatasetCounts>,
): Promise<boolean> {
  if (ctx.stopped()) return false
  const tally = counts[spec.name]
  try {
    const value = await ctx.limiter.run(() => ctx.source.getDailyAt(spec.route, day, ctx.signal))
    // Still without samples (a SUBMITTED day not back yet): it stays archived, asked again next run.
    if (value !== undefined && isArchivedAnswer(spec, value)) return false
    if (value === undefined || spec.isEmpty(value)) {
      emptied.get(prefix)?.add(day)
      if (tally) tally.noData++
    } else {
      // Usually never stored (it was archived); an object from before archived days were known (a
      // summary without samples) is replaced by the restored day.
      const body = encoder.encode(JSON.stringify(value))
      const outcome = await writeDay(ctx, spec, dailyKey(prefix, spec, day), body, false)
      if (tally) {
        tally[outcome]++
        tally.restored = (tally.restored ?? 0) + 1
      }
    }
    archivedOf.get(prefix)?.delete(day)
    return true
  } catch (error) {
    if (ctx.failed(error, { dataset: spec.name, date: day }) && tally) tally.failed++
    return false
  }
}

/** A daily section with its archived days as they are now, and the emptied ones moved to noData. */
async function saveSection(
  ctx: DatasetContext,
  prefix: string,
  archivedOf: Map<string, Set<string>>,
  emptied: Map<string, Set<string>>,
): Promise<void> {
  const section = dailySection(ctx, prefix)
  if (!section) return
  const archived = encodeDays(archivedOf.get(prefix) ?? [])
  const { archived: _, updatedAt: __, ...rest } = section
  await ctx.save(prefix, {
    ...rest,
    noData: encodeDays([...decodeDays(section.noData), ...(emptied.get(prefix) ?? [])]),
    ...(archived.length > 0 ? { archived } : {}),
  })
}
