/**
 * The daily pipeline, for one dataset: backfill from `since`, fetch every new day up to today, and the
 * last `reviseDays` days again (Garmin revises recent days), replacing an object only when its content
 * changed (compare-and-swap on the old ETag). Days without data are remembered, so outside the
 * revision window they are never asked for again; failed days stay pending for the next run. Archived
 * days (a summary without samples, archive-marks.ts) are not stored: they wait for a reload (archive.ts).
 * With `repair` (`sync --full`) one listing of the prefix finds the days the cursor has as stored that
 * are missing: they are fetched again like pending ones. Without a cursor, with `repair` or after the
 * cursor file was found unreadable (`rebuild`), the listing builds one: only the days it lacks are fetched.
 */
import { isArchivedAnswer } from './archive-marks.js'
import { type DatasetContext, emptyCounts, sameBytes } from './dataset-context.js'
import { type DailyState, daysBetween, decodeDays, encodeDays } from './dataset-state.js'
import { type DailyDataset, dailyKey, dayOfKey } from './datasets.js'
import { addDays } from './time.js'
import type { DatasetCounts } from './types.js'

const CHECKPOINT_EVERY = 60
const encoder = new TextEncoder()

export interface DailyPlan {
  /** Today (UTC date of the run's clock). */
  today: string
  /** The first day wanted. */
  since: string
  reviseDays: number
  /** Check the cursor against a listing of the prefix (`sync --full`). */
  repair?: boolean
  /**
   * The cursor file could not be read (datasets.json corrupt): without a cursor, build one from a
   * listing of the prefix rather than fetching the whole range again (as `repair` does).
   */
  rebuild?: boolean
}

export type Outcome = 'created' | 'updated' | 'unchanged'

export async function syncDaily(
  spec: DailyDataset,
  prefix: string,
  ctx: DatasetContext,
  plan: DailyPlan,
): Promise<DatasetCounts> {
  const counts = emptyCounts()
  const previous = ctx.keeper.section(prefix)
  let before = previous?.kind === 'daily' ? previous : undefined
  // No cursor to trust, but maybe days stored: one listing says which (then no repair listing).
  const adopted = !before && (plan.rebuild === true || plan.repair === true)
  if (adopted) before = await listedState(ctx, spec, prefix, plan.today)
  let from = before?.from ?? plan.since
  const through = before?.through ?? addDays(from, -1)
  const pending = decodeDays(before?.pending ?? [])
  const noData = decodeDays(before?.noData ?? [])
  const archivedBefore = decodeDays(before?.archived ?? [])
  if (plan.since < from) {
    // An earlier --since than before: the days in between are a backfill still to do.
    for (const d of daysBetween(plan.since, addDays(from, -1))) pending.add(d)
    from = plan.since
  }
  if (plan.today < from) return counts
  if (plan.repair && before && !adopted) {
    for (const day of await missingDays(ctx, spec, prefix, before)) pending.add(day)
  }

  const windowStart = [from, addDays(plan.today, -(plan.reviseDays - 1))].sort()[1]!
  const newDays = daysBetween([from, addDays(through, 1)].sort()[1]!, plan.today)
  const tasks = [...new Set([...pending, ...newDays, ...daysBetween(windowStart, plan.today)])]
    // An archived day is asked for again only after a reload (or when it is back in the revision window).
    .filter((d) => d <= plan.today && (!archivedBefore.has(d) || d >= windowStart))
    .sort()
  // Days that were stored before may exist: compare before writing. New days: create-only.
  const mayExist = (d: string) => before !== undefined && d <= before.through && !pending.has(d)
  const unsettled = new Set([...pending, ...newDays])
  const settled = new Set<string>()
  const failed = new Set<string>()
  const stored = new Set<string>()
  const empty = new Set<string>()
  const archived = new Set<string>()

  const snapshot = (): DailyState => {
    const stillPending = [...unsettled].filter((d) => !settled.has(d))
    const nextNoData = [...noData].filter((d) => !stored.has(d))
    const stillArchived = [...archivedBefore].filter((d) => !stored.has(d) && !empty.has(d))
    const nextArchived = encodeDays([...stillArchived, ...archived])
    return {
      kind: 'daily',
      from,
      through: [through, plan.today].sort()[1]!,
      pending: encodeDays([...stillPending, ...failed]),
      noData: encodeDays([...nextNoData, ...empty]),
      ...(nextArchived.length > 0 ? { archived: nextArchived } : {}),
    }
  }

  const job = { dataset: spec.name, prefix, every: CHECKPOINT_EVERY, counts, snapshot }
  await ctx.poolWithCheckpoints(tasks, job, async (day) => {
    try {
      const value = await ctx.limiter.run(() => ctx.source.getDailyAt(spec.route, day, ctx.signal))
      if (spec.isEmpty(value)) {
        empty.add(day)
        counts.noData++
      } else if (isArchivedAnswer(spec, value)) {
        archived.add(day)
        counts.archived = (counts.archived ?? 0) + 1
      } else {
        const outcome = await writeDay(
          ctx,
          spec,
          dailyKey(prefix, spec, day),
          encoder.encode(JSON.stringify(value)),
          mayExist(day),
        )
        stored.add(day)
        counts[outcome]++
      }
      settled.add(day)
    } catch (error) {
      if (!ctx.failed(error, { dataset: spec.name, date: day })) return false
      failed.add(day)
      counts.failed++
    }
    return true
  })
  await ctx.save(prefix, snapshot())
  return counts
}

/** The days stored under the prefix (one listing), up to `today`. */
async function listedDays(
  ctx: DatasetContext,
  spec: DailyDataset,
  prefix: string,
  today: string,
): Promise<Set<string>> {
  const present = new Set<string>()
  for await (const info of ctx.store.list(prefix)) {
    const day = dayOfKey(prefix, spec, info.key)
    if (day !== undefined && day <= today) present.add(day)
  }
  return present
}

/**
 * A cursor rebuilt from what is stored: [first, last] day listed, the days between without an object
 * pending (fetched again: some had no data, which the lost cursor knew). Undefined when nothing is.
 */
async function listedState(
  ctx: DatasetContext,
  spec: DailyDataset,
  prefix: string,
  today: string,
): Promise<DailyState | undefined> {
  const present = [...(await listedDays(ctx, spec, prefix, today))].sort()
  const [first, last] = [present[0], present.at(-1)]
  if (first === undefined || last === undefined) return undefined
  const stored = new Set(present)
  const missing = daysBetween(first, last).filter((d) => !stored.has(d))
  return { kind: 'daily', from: first, through: last, pending: encodeDays(missing), noData: [] }
}

/** Days of [from, through] the cursor has as stored whose object is not under the prefix (one listing). */
async function missingDays(
  ctx: DatasetContext,
  spec: DailyDataset,
  prefix: string,
  state: DailyState,
): Promise<string[]> {
  const present = await listedDays(ctx, spec, prefix, state.through)
  const notStored = new Set([
    ...decodeDays(state.pending),
    ...decodeDays(state.noData),
    ...decodeDays(state.archived ?? []),
  ])
  return daysBetween(state.from, state.through).filter((d) => !present.has(d) && !notStored.has(d))
}

/**
 * One day's object: create-only when it cannot exist yet, else replaced only when its bytes changed
 * (compare-and-swap on the old ETag).
 */
export async function writeDay(
  ctx: DatasetContext,
  spec: DailyDataset,
  key: string,
  body: Uint8Array,
  exists: boolean,
): Promise<Outcome> {
  if (!exists) {
    const created = await ctx.gate.write(
      spec.name,
      key,
      body.byteLength,
      () => ctx.store.putIfAbsent(key, body, 'application/json'),
      'created' as const,
    )
    if (created === 'created') return 'created'
  }
  const current = await ctx.store.get(key)
  if (current && sameBytes(current.body, body)) return 'unchanged'
  const result = await ctx.gate.write(
    `revised ${spec.name}`,
    key,
    body.byteLength,
    () => ctx.store.putIfMatch(key, body, 'application/json', current?.etag ?? null),
    { ok: true, etag: '' },
  )
  if (!result.ok) throw new Error(`${key} changed while it was being replaced; it is fetched again next run`)
  return current ? 'updated' : 'created'
}
