/**
 * An in-memory Store that behaves like S3 where the sync pipeline can tell: create-only writes,
 * compare-and-swap on etags, listings in pages of 1,000 keys in byte order, and a request count per
 * S3 operation. It runs the store conformance suite (test/store/conformance.test.ts) with the real
 * stores. Tests can make requests fail (once, K times, or from a crash point on: every later
 * request fails and has no effect, as if the process had been killed) and can run code before a
 * request (to interleave another writer).
 */
import { createHash } from 'node:crypto'
import { StoreError } from '../../src/errors.js'
import { checkKey, checkListPrefix } from '../../src/store/keys.js'
import type {
  CasResult,
  ObjectInfo,
  PutResult,
  Store,
  StoredObject,
  StoreStats,
} from '../../src/store/types.js'

export type StoreOp = 'putIfAbsent' | 'putIfMatch' | 'get' | 'head' | 'list' | 'delete'

const S3_NAME: Record<StoreOp, string> = {
  putIfAbsent: 'PutObject',
  putIfMatch: 'PutObject',
  get: 'GetObject',
  head: 'HeadObject',
  list: 'ListObjectsV2',
  delete: 'DeleteObject',
}

export interface FailureRule {
  op?: StoreOp
  /** Only requests whose key (or list prefix) matches. */
  key?: string | RegExp
  /** Fail this many matching requests, then stop failing (default: every one). */
  times?: number
  error: () => unknown
}

interface Entry {
  body: Uint8Array
  contentType: string
  etag: string
  lastModified: Date
}

export class SimulatedCrash extends StoreError {
  constructor() {
    super('simulated crash: the process is gone')
  }
}

const encoder = new TextEncoder()

function bytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? encoder.encode(body) : new Uint8Array(body)
}

function etagOf(body: Uint8Array): string {
  return `"${createHash('md5').update(body).digest('hex')}"`
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'))
}

export class MemoryStore implements Store {
  readonly location: string
  readonly objects = new Map<string, Entry>()
  private readonly counts: Record<string, number> = {}
  private readonly rules: FailureRule[] = []
  private requestNumber = 0
  private crashAfterRequest: number | undefined
  /** Runs before every request (after it is counted); may await, may throw. */
  beforeRequest: ((op: StoreOp, key: string) => void | Promise<void>) | undefined

  private readonly listPageSize: number

  constructor(options: { location?: string; listPageSize?: number } = {}) {
    this.location = options.location ?? 'memory://test'
    this.listPageSize = options.listPageSize ?? 1000
  }

  /** Every request after the `n`-th fails and changes nothing, as if the process died there. */
  crashAfter(n: number): void {
    this.crashAfterRequest = n
  }

  /** Requests so far (all operations). */
  get requestCount(): number {
    return this.requestNumber
  }

  failWhen(rule: FailureRule): void {
    this.rules.push({ ...rule })
  }

  clearFailures(): void {
    this.rules.length = 0
    this.crashAfterRequest = undefined
  }

  /** Writes without counting a request (to pre-fill a bucket). */
  seed(key: string, body: Uint8Array | string, contentType = 'application/json'): void {
    const b = bytes(body)
    this.objects.set(key, { body: b, contentType, etag: etagOf(b), lastModified: new Date(0) })
  }

  text(key: string): string | undefined {
    const entry = this.objects.get(key)
    return entry && new TextDecoder().decode(entry.body)
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.startsWith(prefix)).sort(compareBytes)
  }

  /** key -> etag + content type + body, for byte-identical before/after comparisons. */
  snapshot(): Map<string, string> {
    return new Map(
      [...this.objects].map(([k, v]) => [
        k,
        `${v.etag} ${v.contentType} ${Buffer.from(v.body).toString('base64')}`,
      ]),
    )
  }

  stats(): StoreStats {
    return { requests: { ...this.counts } }
  }

  resetStats(): void {
    for (const k of Object.keys(this.counts)) delete this.counts[k]
  }

  private async request(op: StoreOp, key: string): Promise<void> {
    // The key rules of the real stores (src/store/keys.ts), checked before any request, as they do.
    if (op === 'list') checkListPrefix(key)
    else checkKey(key)
    const name = S3_NAME[op]
    this.counts[name] = (this.counts[name] ?? 0) + 1
    this.requestNumber++
    if (this.crashAfterRequest !== undefined && this.requestNumber > this.crashAfterRequest)
      throw new SimulatedCrash()
    await this.beforeRequest?.(op, key)
    for (const rule of this.rules) {
      if (rule.op !== undefined && rule.op !== op) continue
      if (rule.key !== undefined && !(typeof rule.key === 'string' ? rule.key === key : rule.key.test(key)))
        continue
      if (rule.times !== undefined) {
        if (rule.times <= 0) continue
        rule.times--
      }
      throw rule.error()
    }
  }

  async putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult> {
    await this.request('putIfAbsent', key)
    if (this.objects.has(key)) return 'exists'
    const b = bytes(body)
    this.objects.set(key, { body: b, contentType, etag: etagOf(b), lastModified: new Date() })
    return 'created'
  }

  async putIfMatch(
    key: string,
    body: Uint8Array | string,
    contentType: string,
    expectedEtag: string | null,
  ): Promise<CasResult> {
    await this.request('putIfMatch', key)
    const current = this.objects.get(key)
    if (expectedEtag === null ? current !== undefined : current?.etag !== expectedEtag) return { ok: false }
    const b = bytes(body)
    const etag = etagOf(b)
    this.objects.set(key, { body: b, contentType, etag, lastModified: new Date() })
    return { ok: true, etag }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    await this.request('get', key)
    const e = this.objects.get(key)
    if (!e) return undefined
    return {
      key,
      size: e.body.byteLength,
      etag: e.etag,
      lastModified: e.lastModified,
      // A copy, as a real store's answer is: a caller changing it changes nothing stored.
      body: new Uint8Array(e.body),
      contentType: e.contentType,
    }
  }

  /** A create-only write, then its delete: two requests, as S3Store makes them. */
  async probe(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult> {
    const result = await this.putIfAbsent(key, body, contentType)
    if (result === 'created') await this.delete(key)
    return result
  }

  async delete(key: string): Promise<void> {
    await this.request('delete', key)
    this.objects.delete(key)
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    await this.request('head', key)
    const e = this.objects.get(key)
    return e && { key, size: e.body.byteLength, etag: e.etag, lastModified: e.lastModified }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    let after: string | undefined
    for (;;) {
      await this.request('list', prefix)
      const page = this.keys(prefix)
        .filter((k) => after === undefined || compareBytes(k, after) > 0)
        .slice(0, this.listPageSize)
      for (const key of page) {
        const e = this.objects.get(key)
        if (e) yield { key, size: e.body.byteLength, etag: e.etag, lastModified: e.lastModified }
      }
      if (page.length < this.listPageSize) return
      after = page[page.length - 1]
    }
  }
}
