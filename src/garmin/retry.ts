/**
 * When to try a data call again, and how long to wait. Pure policy: the caller classifies each attempt,
 * this module decides to wait (on the injected clock) or to give up with the right error. Login and
 * token calls never come through here: they are not retried.
 */
import type { Clock } from '../clock.js'
import type { GarminS3Error } from '../errors.js'
import { RateLimitedError } from './errors.js'

export interface RetryPolicy {
  /** Retries after a 5xx, a reset or a timeout (so at most maxRetries + 1 attempts). */
  maxRetries: number
  /** Full-jitter exponential backoff: a random wait in [0, min(maxDelayMs, baseDelayMs * 2^n)). */
  baseDelayMs: number
  maxDelayMs: number
  /** Total time we agree to wait on HTTP 429 for one call before giving up. */
  rateLimitBudgetMs: number
  /** Guards against a server that keeps answering 429 with `Retry-After: 0`. */
  maxRateLimitWaits: number
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  baseDelayMs: 1000,
  maxDelayMs: 15_000,
  rateLimitBudgetMs: 60_000,
  maxRateLimitWaits: 10,
}

export type AttemptResult<T> =
  | { ok: true; value: T }
  /** 5xx, reset, timeout: retry; `error` is thrown when the retries run out. */
  | { ok: false; kind: 'transient'; error: GarminS3Error }
  | { ok: false; kind: 'rateLimited'; endpoint: string; retryAfterMs: number | undefined }

/** Full jitter (AWS architecture blog, "Exponential Backoff and Jitter"): spreads retries of many clients. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** retry)
  return Math.floor(random() * ceiling)
}

/** `Retry-After` as milliseconds: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined
  const text = value.trim()
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000)
  const date = Date.parse(text)
  if (Number.isNaN(date)) return undefined
  return Math.max(0, date - now)
}

/**
 * One rate-limit budget shared by every call of a client: a 429 on any call pauses them all until the
 * wait is over (Garmin limits the account, not the connection), and the waiting since the last
 * successful call counts against one `rateLimitBudgetMs`, so concurrent workers give up together.
 */
export class RateLimitGate {
  private resumeAt = 0
  private waitedMs = 0

  /** Waits while the account is backing off. */
  async ready(clock: Clock, signal?: AbortSignal): Promise<void> {
    const wait = this.resumeAt - clock.now()
    if (wait > 0) await clock.sleep(wait, signal)
  }

  succeeded(): void {
    this.waitedMs = 0
  }

  /** Pauses everyone for `wait`; false when the shared budget would be exceeded. */
  limited(wait: number, now: number, policy: RetryPolicy): boolean {
    const until = now + wait
    const extra = until - Math.max(this.resumeAt, now)
    if (extra <= 0) return true
    if (this.waitedMs + extra > policy.rateLimitBudgetMs) return false
    this.waitedMs += extra
    this.resumeAt = until
    return true
  }
}

export async function withRetries<T>(
  attempt: () => Promise<AttemptResult<T>>,
  deps: {
    policy: RetryPolicy
    clock: Clock
    random: () => number
    signal?: AbortSignal | undefined
    /** Shared across concurrent calls; without it the budget is per call. */
    gate?: RateLimitGate | undefined
  },
): Promise<T> {
  const { policy, clock, random, signal, gate } = deps
  let transientRetries = 0
  let rateLimitWaits = 0
  let waitedForRateLimitMs = 0
  for (;;) {
    await gate?.ready(clock, signal)
    const result = await attempt()
    if (result.ok) {
      gate?.succeeded()
      return result.value
    }
    if (result.kind === 'transient') {
      if (transientRetries >= policy.maxRetries) throw result.error
      await clock.sleep(backoffDelay(transientRetries, policy, random), signal)
      transientRetries++
      continue
    }
    const wait = result.retryAfterMs ?? backoffDelay(rateLimitWaits, policy, random)
    if (
      rateLimitWaits >= policy.maxRateLimitWaits ||
      waitedForRateLimitMs + wait > policy.rateLimitBudgetMs ||
      (gate !== undefined && !gate.limited(wait, clock.now(), policy))
    ) {
      const seconds = Math.round(waitedForRateLimitMs / 1000)
      throw new RateLimitedError(
        `Garmin kept answering HTTP 429 (too many requests) for ${result.endpoint}` +
          (waitedForRateLimitMs > 0 ? ` after ${seconds} s of waiting.` : '.'),
        { retryAfterMs: result.retryAfterMs ?? 0 },
      )
    }
    // With a gate, the next attempt waits in `ready` (with everyone else); without one, here.
    if (gate === undefined) await clock.sleep(wait, signal)
    waitedForRateLimitMs += wait
    rateLimitWaits++
  }
}
