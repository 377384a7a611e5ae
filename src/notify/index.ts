/**
 * `sync --notify URL`: a short message to a webhook when a run fails (or after every run). It speaks
 * ntfy, Slack and Discord by their URLs, and plain JSON to anything else. It never sends a secret (the
 * report holds none) and never prints a webhook's URL (Slack and Discord URLs are credentials): only
 * its host. A notification that fails is a warning; it never changes the run's exit code.
 */
import { UsageError } from '../errors.js'
import { messageOf } from '../unknown.js'

export type NotifyShape = 'ntfy' | 'slack' | 'discord' | 'json'
export type NotifyOn = 'failure' | 'always'

const SHAPES: readonly NotifyShape[] = ['ntfy', 'slack', 'discord', 'json']
const DEFAULT_TIMEOUT_MS = 10_000

export interface NotifyTarget {
  url: URL
  shape: NotifyShape
}

/** What a notification says: the run, never a token. */
export interface RunSummary {
  exitCode: number
  stopReason: string
  created: number
  failed: number
  location: string
  runId: string
  /** The error that stopped the run, when one did. */
  error?: string
  /** Its next step. */
  hint?: string
}

export interface NotifyResult {
  /** The webhook's host only: its path can be a credential. */
  host: string
  shape: NotifyShape
  ok: boolean
  status?: number
  error?: string
}

/**
 * The targets of `--notify` (repeatable) and GARMIN_S3_NOTIFY (comma or space separated). A fragment
 * `#ntfy`, `#slack`, `#discord` or `#json` forces a shape (a self-hosted ntfy, say); it is not sent.
 */
export function parseNotifyTargets(values: readonly string[]): NotifyTarget[] {
  return values
    .flatMap((v) => v.split(/[\s,]+/))
    .filter((v) => v !== '')
    .map((text) => {
      let url: URL
      try {
        url = new URL(text)
      } catch {
        throw new UsageError('--notify takes a webhook URL (http or https)', {
          hint: 'e.g. --notify https://ntfy.sh/my-topic or a Slack or Discord incoming-webhook URL.',
        })
      }
      if (url.protocol !== 'https:' && url.protocol !== 'http:') {
        throw new UsageError(`--notify takes http or https URLs, not ${url.protocol}`, {
          hint: 'e.g. --notify https://ntfy.sh/my-topic',
        })
      }
      const forced = url.hash.slice(1) as NotifyShape
      url.hash = ''
      return { url, shape: SHAPES.includes(forced) ? forced : shapeFor(url) }
    })
}

/** The message format a webhook URL expects. */
export function shapeFor(url: URL): NotifyShape {
  const host = url.hostname.toLowerCase()
  if (host === 'hooks.slack.com') return 'slack'
  if ((host === 'discord.com' || host === 'discordapp.com') && url.pathname.startsWith('/api/webhooks/'))
    return 'discord'
  if (host === 'ntfy.sh' || host.startsWith('ntfy.')) return 'ntfy'
  return 'json'
}

export function shouldNotify(on: NotifyOn, exitCode: number): boolean {
  return on === 'always' || exitCode !== 0
}

function headline(s: RunSummary): string {
  const outcome =
    s.exitCode === 0
      ? 'succeeded'
      : s.exitCode === 5
        ? 'was partial'
        : s.exitCode === 3
          ? 'needs a sign-in'
          : 'failed'
  return `garmin-s3 sync ${outcome} (exit ${s.exitCode})`
}

function text(s: RunSummary): string {
  const lines = [`${headline(s)}: ${s.created} created, ${s.failed} failed, into ${s.location}.`]
  if (s.error) lines.push(s.error)
  if (s.hint) lines.push(`Next: ${s.hint}`)
  return lines.join('\n')
}

/** The request for one target: the body and headers its shape needs. */
function requestFor(target: NotifyTarget, s: RunSummary): { body: string; headers: Record<string, string> } {
  switch (target.shape) {
    case 'slack':
      return { body: JSON.stringify({ text: text(s) }), headers: { 'content-type': 'application/json' } }
    case 'discord':
      return { body: JSON.stringify({ content: text(s) }), headers: { 'content-type': 'application/json' } }
    case 'ntfy':
      return {
        body: text(s),
        headers: {
          'content-type': 'text/plain; charset=utf-8',
          title: headline(s),
          priority: s.exitCode === 0 ? 'default' : 'high',
          tags: s.exitCode === 0 ? 'white_check_mark' : 'warning',
        },
      }
    case 'json':
      return {
        body: JSON.stringify({ source: 'garmin-s3', event: 'sync', summary: headline(s), ...s }),
        headers: { 'content-type': 'application/json' },
      }
  }
}

export interface NotifyDeps {
  fetch?: typeof fetch
  /** Per webhook; a receiver that does not answer in time is a warning. */
  timeoutMs?: number
}

/** Posts to every target at once; resolves with one result each, never rejects. */
export async function notify(
  targets: readonly NotifyTarget[],
  summary: RunSummary,
  deps: NotifyDeps = {},
): Promise<NotifyResult[]> {
  const send = deps.fetch ?? fetch
  const timeoutMs = deps.timeoutMs ?? DEFAULT_TIMEOUT_MS
  return Promise.all(
    targets.map(async (target): Promise<NotifyResult> => {
      const base = { host: target.url.host, shape: target.shape }
      const { body, headers } = requestFor(target, summary)
      try {
        const response = await send(target.url, {
          method: 'POST',
          body,
          headers,
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        })
        await response.body?.cancel()
        return response.ok
          ? { ...base, ok: true, status: response.status }
          : { ...base, ok: false, status: response.status, error: `HTTP ${response.status}` }
      } catch (error) {
        const timedOut = (error as Error).name === 'TimeoutError'
        return { ...base, ok: false, error: timedOut ? `no answer within ${timeoutMs} ms` : messageOf(error) }
      }
    }),
  )
}
