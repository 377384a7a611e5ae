/**
 * What the per-activity and daily pipelines share within one run: the source, the store behind the
 * dry-run gate, the dataset cursors, one cap on Garmin calls in flight, and one stop switch (a fatal
 * error or a rate limit stops every dataset, not just the one that met it).
 */
import { EXIT, isGarminS3Error, StoreError } from '../errors.js'
import { BotChallengeError, RateLimitedError, TokenStoreError } from '../garmin/errors.js'
import type { Store } from '../store/types.js'
import { messageOf } from '../unknown.js'
import type { DatasetStateKeeper, ExtraDatasetState } from './dataset-state.js'
import type { DatasetSource } from './datasets.js'
import type { WriteGate } from './gate.js'
import type { DatasetCounts, SyncError, SyncLog } from './types.js'

/** A counting semaphore: at most `size` tasks at once. */
export class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor(private readonly size: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.active >= this.size) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.active++
    try {
      return await task()
    } finally {
      this.active--
      this.waiting.shift()?.()
    }
  }
}

/** How an error met by one item affects the run. */
export type Severity = 'fatal' | 'stop' | 'item'

function severityOf(error: unknown): Severity {
  if (error instanceof StoreError) return (error as { retryable?: boolean }).retryable ? 'item' : 'fatal'
  if (error instanceof TokenStoreError) return 'fatal'
  if (isGarminS3Error(error) && error.exitCode === EXIT.auth) return 'fatal'
  // Garmin asks us to back off: stop calling it for this run, resume next time.
  if (error instanceof RateLimitedError || error instanceof BotChallengeError) return 'stop'
  return 'item'
}

export function emptyCounts(): DatasetCounts {
  return { created: 0, updated: 0, unchanged: 0, existing: 0, noData: 0, failed: 0, requests: 0 }
}

const MAX_REPORTED_ERRORS = 100

export class DatasetContext {
  readonly abort = new AbortController()
  readonly errors: SyncError[] = []
  /** The first error that stopped every dataset (fatal or rate limit). */
  stopError: unknown
  stopSeverity: Severity | undefined
  deadlineHit = false

  constructor(
    readonly source: DatasetSource,
    readonly store: Store,
    readonly gate: WriteGate,
    readonly keeper: DatasetStateKeeper,
    readonly limiter: Limiter,
    /** Per dataset. */
    readonly concurrency: number,
    readonly log: SyncLog,
    private readonly pastDeadline: () => boolean,
    /** The injected clock (history names of replaced answers). */
    readonly now: () => number,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal
  }

  /** True once no new work may start. */
  stopped(): boolean {
    if (this.abort.signal.aborted) return true
    if (this.pastDeadline()) {
      this.deadlineHit = true
      return true
    }
    return false
  }

  /** Records an item's error; returns false when the item was only cut short by a stop. */
  failed(error: unknown, where: { dataset: string; date?: string; activityId?: number }): boolean {
    if (this.abort.signal.aborted && this.stopError !== error) return false
    const severity = severityOf(error)
    if (severity !== 'item') {
      if (this.stopError === undefined) {
        this.stopError = error
        this.stopSeverity = severity
        this.abort.abort()
      }
      return true
    }
    const what = where.date ?? (where.activityId === undefined ? '' : `activity ${where.activityId}`)
    this.log({ type: 'warning', message: `${where.dataset} ${what}: ${messageOf(error)}` })
    if (this.errors.length < MAX_REPORTED_ERRORS) {
      const hint = isGarminS3Error(error) ? error.hint : undefined
      this.errors.push({ ...where, message: messageOf(error), ...(hint ? { hint } : {}) })
    }
    return true
  }

  save(prefix: string, state: ExtraDatasetState): Promise<void> {
    return this.keeper.save(prefix, state, this.gate.conditionalWrite(this.store, 'dataset state'))
  }

  /**
   * `pool` for one dataset's items, with its progress and checkpoints: a progress event with the total
   * first, then one for each item `fn` settles (answers true: not cut short by a stop), and every `job.every` settled items the
   * dataset's `job.snapshot()` is saved.
   */
  async poolWithCheckpoints<T>(
    items: readonly T[],
    job: {
      dataset: string
      prefix: string
      every: number
      counts: DatasetCounts
      snapshot: () => ExtraDatasetState
    },
    fn: (item: T) => Promise<boolean>,
  ): Promise<void> {
    let settled = 0
    let sinceCheckpoint = 0
    // The dataset's total, before its first item is fetched (progress: docs/sync.md).
    if (items.length > 0)
      this.log({
        type: 'dataset-progress',
        dataset: job.dataset,
        done: 0,
        total: items.length,
        ...job.counts,
      })
    await this.pool(items, async (item) => {
      if (!(await fn(item))) return
      settled++
      this.log({
        type: 'dataset-progress',
        dataset: job.dataset,
        done: settled,
        total: items.length,
        ...job.counts,
      })
      if (++sinceCheckpoint >= job.every) {
        sinceCheckpoint = 0
        await this.save(job.prefix, job.snapshot())
      }
    })
  }

  /** Runs `fn` over `items` with the dataset's concurrency until done or stopped. */
  async pool<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    let next = 0
    const worker = async () => {
      while (next < items.length && !this.stopped()) await fn(items[next++] as T)
    }
    await Promise.all(Array.from({ length: Math.min(this.concurrency, items.length) }, worker))
  }
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}
