/**
 * One HTTP exchange with a deadline: the whole body is read before the timeout ends, so a server that
 * stalls mid-body counts as a timeout too. Failures are reported as a `TransportFailure` the caller
 * classifies; nothing here retries.
 */
import { GarminS3Error } from '../errors.js'

export type Transport = typeof fetch

export interface HttpResponse {
  status: number
  headers: Headers
  body: Uint8Array
}

export type TransportFailureKind = 'timeout' | 'network'

export class TransportFailure extends Error {
  constructor(
    readonly kind: TransportFailureKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options)
    this.name = 'TransportFailure'
  }
}

export async function send(
  transport: Transport,
  url: string,
  init: RequestInit,
  options: { timeoutMs: number; signal?: AbortSignal | undefined },
): Promise<HttpResponse> {
  const timeout = AbortSignal.timeout(options.timeoutMs)
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout
  try {
    const response = await transport(url, { ...init, signal })
    const body = new Uint8Array(await response.arrayBuffer())
    return { status: response.status, headers: response.headers, body }
  } catch (error) {
    // The caller's own abort is not a failure of Garmin's: pass it through untouched.
    if (options.signal?.aborted) throw options.signal.reason
    // A decision of ours (a refused redirect), not a network failure: pass it through as it is.
    if (error instanceof GarminS3Error) throw error
    if (timeout.aborted) {
      throw new TransportFailure('timeout', `no complete answer within ${options.timeoutMs} ms`, {
        cause: error,
      })
    }
    throw new TransportFailure('network', describeNetworkError(error), { cause: error })
  }
}

function describeNetworkError(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause
  if (cause && typeof cause.code === 'string') return `connection failed (${cause.code})`
  return 'connection failed'
}

function bodyText(response: HttpResponse): string {
  return new TextDecoder().decode(response.body)
}

/** Cloudflare challenges and error pages are HTML, whatever the status. */
export function looksLikeHtml(response: HttpResponse): boolean {
  const type = response.headers.get('content-type') ?? ''
  if (/text\/html/i.test(type)) return true
  const start = bodyText(response).slice(0, 200).trimStart().toLowerCase()
  return start.startsWith('<!doctype html') || start.startsWith('<html')
}

/** What to call a body that should have been JSON but is not, in an UnexpectedResponseError. */
export function notJsonReason(response: HttpResponse): string {
  return looksLikeHtml(response) ? 'an HTML page instead of JSON' : 'the body is not valid JSON'
}

/** The JSON body, or undefined when it is not JSON (empty, HTML, truncated). */
export function parseJsonBody(response: HttpResponse): { ok: true; value: unknown } | { ok: false } {
  const text = bodyText(response)
  if (text.trim() === '') return { ok: false }
  try {
    return { ok: true, value: JSON.parse(text) as unknown }
  } catch {
    return { ok: false }
  }
}

/** The path of a URL for messages and logs: never the query string, which may carry a ticket. */
export function endpointOf(url: string): string {
  try {
    return new URL(url).pathname
  } catch {
    return url.split('?')[0] ?? url
  }
}
