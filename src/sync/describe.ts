import { messageOf } from '../unknown.js'
import type { StopReason, SyncEvent } from './types.js'

/**
 * One line of plain text per event, for logs without a terminal (CI, Lambda, --verbose).
 * Progress events return undefined: they are for progress bars, one per write would flood a log.
 */
export function describeEvent(event: SyncEvent): string | undefined {
  switch (event.type) {
    case 'start': {
      const what =
        event.mode === 'first-run'
          ? 'first sync: adopting what is already there, then copying the whole history'
          : event.mode === 'full'
            ? 'full rescan of the history'
            : `incremental sync (newest stored: ${event.newestStored ?? 'none'}${event.backfillComplete ? '' : ', history not complete yet'})`
      const range = event.since ? `, activities since ${event.since}` : ''
      return `${event.dryRun ? '[dry run] ' : ''}${what}${range} -> ${event.location}/${event.prefix}`
    }
    case 'listing-store':
      return `listing ${event.prefix} to learn which activities are already stored`
    case 'listed-store':
      return `${event.keys} activities already stored`
    case 'estimate':
      return `about ${event.toWrite} activities to copy`
    case 'page':
      return `page ${event.page + 1}: ${event.received} activities listed${event.oldest ? ` (back to ${event.oldest})` : ''}, ${event.toWrite} to write`
    case 'progress':
      return undefined
    case 'dataset-progress':
      return event.done === event.total
        ? `${event.dataset}: ${event.created} new, ${event.updated} updated, ${event.noData} without data, ${event.failed} failed`
        : undefined
    case 'dry-run':
      return event.message
    case 'checkpoint':
      return `checkpoint saved to ${event.key}`
    case 'warning':
      return `warning: ${event.message}`
    case 'version':
      return event.action === 'replaced'
        ? `activity ${event.activityId} changed in Garmin: replaced, the old version kept in the history`
        : event.action === 'deleted'
          ? `activity ${event.activityId} was deleted in Garmin: tombstone ${event.key}`
          : `activity ${event.activityId} (deleted in Garmin) moved into the history`
    case 'reconcile':
      return event.reason === 'asked'
        ? 'reconciling: comparing the whole activity list'
        : 'reconcile due: comparing the whole activity list'
    case 'stop':
      return event.message
  }
}

/** Why paging ended, in words (the `stop` event's message). */
export function describeStop(reason: StopReason, fatal?: unknown): string {
  switch (reason) {
    case 'caught-up':
      return 'caught up: everything older is already stored'
    case 'end-of-history':
      return 'reached the oldest activity'
    case 'since':
      return 'reached the start date'
    case 'deadline':
      return 'stopped before the time limit; the next run resumes here'
    case 'interrupted':
      return 'stopped on request; the next run resumes here'
    case 'fatal':
      return `stopped: ${messageOf(fatal)}`
  }
}
