/**
 * The per-activity pipeline, for one dataset (FIT original, details, splits): every activity the
 * activity cursor knows gets the dataset fetched once and written once. Completion is tracked per
 * dataset, so a run with nothing new makes no call; a failed one is retried next run; an activity
 * Garmin no longer has (404) is remembered and not asked for again. With `repair` (`sync --full`) the
 * cursor is checked against one listing of the prefix: an object that went missing is fetched again.
 */
import { NotFoundError } from '../garmin/errors.js'
import { siblingPrefix } from '../store/keys.js'
import { type DatasetContext, emptyCounts } from './dataset-context.js'
import type { PerActivityState } from './dataset-state.js'
import { activityIdOfKey, type PerActivityDataset, perActivityKey } from './datasets.js'
import { decodeIds, encodeIds } from './id-list.js'
import type { DatasetCounts } from './types.js'
import { replaceVersioned } from './versions.js'

const CHECKPOINT_EVERY = 50

export async function syncPerActivity(
  spec: PerActivityDataset,
  prefix: string,
  ctx: DatasetContext,
  activityIds: ReadonlySet<number>,
  /** The activity replacements the state remembers (state.json `changes`), oldest first. */
  changes: ReadonlyArray<readonly [number, string]> = [],
  /** Trust the listing, not the cursor, for what is stored (`sync --full`). */
  repair = false,
): Promise<DatasetCounts> {
  const counts = emptyCounts()
  const previous = ctx.keeper.section(prefix)
  const before = previous?.kind === 'per-activity' ? previous : undefined
  const done = decodeIds(before?.done ?? '')
  const gone = decodeIds(before?.gone ?? '')
  // Activities edited since this dataset last looked: their stored answers are fetched again. A dataset
  // seen for the first time starts after the changes so far (what it fetches now is current).
  const stale = decodeIds(before?.stale ?? '')
  let changesThrough = before?.changesThrough
  const newestChange = changes.at(-1)?.[1]
  if (spec.followsEdits && before && newestChange !== undefined) {
    for (const [id, at] of changes) if (changesThrough === undefined || at > changesThrough) stale.add(id)
  }
  if (spec.followsEdits && newestChange !== undefined && (changesThrough ?? '') < newestChange)
    changesThrough = newestChange
  if (!before || repair) {
    // No cursor yet: adopt what is already stored under the prefix (one listing). A repair: what is
    // stored is what the listing shows, so an object deleted since it was written is fetched again.
    done.clear()
    for await (const info of ctx.store.list(prefix)) {
      const id = activityIdOfKey(prefix, spec, info.key)
      if (id !== undefined) done.add(id)
    }
  }
  for (const id of stale) if (!done.has(id) || gone.has(id)) stale.delete(id)
  const todo = [
    ...[...stale].sort((a, b) => b - a),
    ...[...activityIds].filter((id) => !done.has(id) && !gone.has(id)).sort((a, b) => b - a),
  ]
  const snapshot = (): PerActivityState => ({
    kind: 'per-activity',
    done: encodeIds(done),
    gone: encodeIds(gone),
    ...(stale.size > 0 ? { stale: encodeIds(stale) } : {}),
    ...(changesThrough !== undefined ? { changesThrough } : {}),
  })
  const staleAtStart = stale.size
  const job = { dataset: spec.name, prefix, every: CHECKPOINT_EVERY, counts, snapshot }
  await ctx.poolWithCheckpoints(todo, job, async (id) => {
    try {
      const body = await ctx.limiter.run(() => spec.fetch(ctx.source, id, ctx.signal))
      const key = perActivityKey(prefix, spec, id)
      if (stale.has(id)) {
        const outcome = await replaceVersioned({
          store: ctx.store,
          gate: ctx.gate,
          what: spec.name,
          key,
          historyFolder: `${siblingPrefix(prefix, 'history')}activity_${id}/`,
          body,
          contentType: spec.contentType,
          now: ctx.now,
        })
        stale.delete(id)
        if (outcome === 'replaced') counts.updated++
        else if (outcome === 'created') counts.created++
        else counts.unchanged++
        return true
      }
      const result = await ctx.gate.write(
        spec.name,
        key,
        body.byteLength,
        () => ctx.store.putIfAbsent(key, body, spec.contentType),
        'created' as const,
      )
      done.add(id)
      if (result === 'created') counts.created++
      else counts.existing++
    } catch (error) {
      if (error instanceof NotFoundError) {
        stale.delete(id)
        gone.add(id)
        counts.noData++
      } else {
        if (!ctx.failed(error, { dataset: spec.name, activityId: id })) return false
        counts.failed++
      }
    }
    return true
  })
  const cursorMoved = changesThrough !== before?.changesThrough || staleAtStart > 0
  if (!before || todo.length > 0 || cursorMoved) await ctx.save(prefix, snapshot())
  return counts
}
