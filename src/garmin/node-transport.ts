/**
 * The default transport for Garmin's API and token service: the part of `fetch` the client uses, on
 * `node:http` / `node:https`. Node 20's fetch is undici, which is loaded and compiled on its first
 * call: about 90 ms of CPU and 40 MB of memory, more than the rest of a daily no-op `sync`
 * (docs/performance.md "Start-up"). This sends the same bytes as fetch (its default headers, in its
 * order; gzip and deflate answers decoded) and never follows a redirect (`redirect: 'manual'` is
 * all `guardRedirects` asks for). Sign-ins keep fetch or impit (`loginTransport`).
 *
 * Requests: a string or URL, `method`, `headers` (a record, pairs or Headers), a string,
 * URLSearchParams or byte `body`, `signal`. Answers: `status`, `statusText`, `ok`, `url`, `headers`
 * (get, has, getSetCookie, iteration), `arrayBuffer()` and `text()`.
 */
import type { IncomingMessage, RequestOptions } from 'node:http'
import { request as httpRequest } from 'node:http'
import type { Transport } from './http.js'

/** What fetch adds when the caller does not set it (Node 20's undici), after the caller's headers. */
const FETCH_DEFAULTS: readonly [string, string][] = [
  ['accept', '*/*'],
  ['accept-language', '*'],
  ['sec-fetch-mode', 'cors'],
  ['user-agent', 'node'],
  ['accept-encoding', 'gzip, deflate'],
]

/** The headers of an answer, read-only, as fetch's `Headers` gives them. */
class AnswerHeaders {
  private readonly values = new Map<string, string[]>()

  constructor(raw: string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] ?? '').toLowerCase()
      const list = this.values.get(name) ?? []
      list.push(raw[i + 1] ?? '')
      this.values.set(name, list)
    }
  }

  get(name: string): string | null {
    return this.values.get(name.toLowerCase())?.join(', ') ?? null
  }

  has(name: string): boolean {
    return this.values.has(name.toLowerCase())
  }

  getSetCookie(): string[] {
    return [...(this.values.get('set-cookie') ?? [])]
  }

  *entries(): IterableIterator<[string, string]> {
    const names = [...this.values.keys()].sort()
    for (const name of names) {
      if (name === 'set-cookie') for (const value of this.getSetCookie()) yield [name, value]
      else yield [name, this.get(name) ?? '']
    }
  }

  *keys(): IterableIterator<string> {
    for (const [name] of this.entries()) yield name
  }

  forEach(callback: (value: string, name: string) => void): void {
    for (const [name, value] of this.entries()) callback(value, name)
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries()
  }
}

/** An answer read to its end: what the client reads of fetch's Response. */
class Answer {
  readonly ok: boolean
  readonly redirected = false
  readonly type = 'basic'
  private used = false

  constructor(
    readonly url: string,
    readonly status: number,
    readonly statusText: string,
    readonly headers: AnswerHeaders,
    private readonly bytes: Buffer,
  ) {
    this.ok = status >= 200 && status < 300
  }

  get bodyUsed(): boolean {
    return this.used
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    this.consume()
    const copy = new Uint8Array(this.bytes.byteLength)
    copy.set(this.bytes)
    return copy.buffer
  }

  async text(): Promise<string> {
    this.consume()
    return this.bytes.toString('utf8')
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text())
  }

  private consume(): void {
    if (this.used) throw new TypeError('Body is unusable: Body has already been read')
    this.used = true
  }
}

type HeaderInit = NonNullable<RequestInit['headers']>

function headerPairs(headers: HeaderInit | undefined): [string, string][] {
  if (headers === undefined) return []
  if (Array.isArray(headers)) return headers.map(([name = '', value = '']) => [name, value])
  // A Headers object (never named here: touching the global loads undici).
  if (typeof (headers as { entries?: unknown }).entries === 'function')
    return [...(headers as Headers).entries()]
  return Object.entries(headers as Record<string, string>)
}

/** The body as bytes, and the content type fetch would give it. */
function encodeBody(body: RequestInit['body']): { bytes?: Buffer; type?: string } {
  if (body === undefined || body === null) return {}
  if (typeof body === 'string') return { bytes: Buffer.from(body), type: 'text/plain;charset=UTF-8' }
  if (body instanceof URLSearchParams) {
    return { bytes: Buffer.from(body.toString()), type: 'application/x-www-form-urlencoded;charset=UTF-8' }
  }
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body) }
  if (body instanceof ArrayBuffer) return { bytes: Buffer.from(body) }
  throw new TypeError('this transport sends string, URLSearchParams or byte bodies only')
}

/** The request headers in fetch's order: host, connection, the caller's, then fetch's defaults not set by them. */
function requestHeaders(url: URL, init: RequestInit, body: { bytes?: Buffer; type?: string }) {
  const headers: Record<string, string> = { host: url.host, connection: 'keep-alive' }
  const taken = new Set(['host', 'connection'])
  for (const [name, value] of headerPairs(init.headers)) {
    // Hop-by-hop headers are the transport's, as fetch refuses to take them from the caller.
    if (name.toLowerCase() === 'host' || name.toLowerCase() === 'connection') continue
    headers[name] = value
    taken.add(name.toLowerCase())
  }
  if (body.type && !taken.has('content-type')) {
    headers['content-type'] = body.type
    taken.add('content-type')
  }
  for (const [name, value] of FETCH_DEFAULTS) if (!taken.has(name)) headers[name] = value
  if (body.bytes) headers['content-length'] = String(body.bytes.byteLength)
  return headers
}

/** A fetch failure as fetch reports it: TypeError("fetch failed") with the socket error as cause. */
function fetchFailed(cause: unknown): TypeError {
  return new TypeError('fetch failed', { cause })
}

async function decode(message: IncomingMessage, bytes: Buffer): Promise<Buffer> {
  const encoding = (message.headers['content-encoding'] ?? '').trim().toLowerCase()
  if (encoding !== 'gzip' && encoding !== 'x-gzip' && encoding !== 'deflate') return bytes
  if (bytes.byteLength === 0) return bytes
  // zlib only loads for a compressed answer.
  const zlib = await import('node:zlib')
  const { promisify } = await import('node:util')
  if (encoding === 'deflate') {
    // Servers send deflate both with and without the zlib wrapper, and fetch accepts both.
    const wrapped = ((bytes[0] ?? 0) & 0x0f) === 8
    return promisify(wrapped ? zlib.inflate : zlib.inflateRaw)(bytes)
  }
  return promisify(zlib.gunzip)(bytes, { finishFlush: zlib.constants.Z_SYNC_FLUSH })
}

/** Sends one request and reads the whole answer, or rejects as fetch does (AbortError, TypeError). */
export const nodeTransport: Transport = (async (input: string | URL | Request, init: RequestInit = {}) => {
  if (typeof input !== 'string' && !(input instanceof URL)) {
    throw new TypeError('this transport takes a URL, not a Request')
  }
  const url = new URL(input)
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fetchFailed(new Error(`unsupported protocol ${url.protocol}`))
  }
  const signal = init.signal ?? undefined
  signal?.throwIfAborted()
  const body = encodeBody(init.body)
  const send =
    url.protocol === 'https:' ? (await import('node:https')).request : (httpRequest as typeof httpRequest)
  const options: RequestOptions = {
    method: (init.method ?? 'GET').toUpperCase(),
    headers: requestHeaders(url, init, body),
  }
  return new Promise<Response>((resolve, reject) => {
    let settled = false
    const fail = (error: unknown) => {
      if (settled) return
      settled = true
      signal?.removeEventListener('abort', onAbort)
      reject(error)
    }
    const onAbort = () => {
      fail(signal?.reason)
      req.destroy()
    }
    const req = send(url, options, (message) => {
      const chunks: Buffer[] = []
      message.on('data', (chunk: Buffer) => chunks.push(chunk))
      message.on('error', (error) => fail(fetchFailed(error)))
      // A connection closed before the end of the body: what fetch reports as "terminated".
      message.on('close', () => {
        if (!message.complete) fail(fetchFailed(new Error('terminated: the answer was cut off')))
      })
      message.on('end', () => {
        if (settled) return
        decode(message, Buffer.concat(chunks)).then(
          (bytes) => {
            if (settled) return
            settled = true
            signal?.removeEventListener('abort', onAbort)
            resolve(
              new Answer(
                url.href,
                message.statusCode ?? 0,
                message.statusMessage ?? '',
                new AnswerHeaders(message.rawHeaders),
                bytes,
              ) as unknown as Response,
            )
          },
          (error: unknown) => fail(fetchFailed(error)),
        )
      })
    })
    req.on('error', (error) => fail(fetchFailed(error)))
    signal?.addEventListener('abort', onAbort, { once: true })
    req.end(body.bytes)
  })
}) as Transport
