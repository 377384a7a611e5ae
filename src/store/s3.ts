/**
 * S3Store: an S3 bucket (AWS, or any S3-compatible endpoint: MinIO, SeaweedFS, R2, B2) as the store.
 *
 * - Create-only writes are one `PutObject` with `If-None-Match: *` (412 = exists); compare-and-swap
 *   uses `If-Match`. An endpoint that answers 501 NotImplemented to conditional headers is
 *   announced once through `log`, and the store falls back to HEAD then PUT.
 * - Every request the SDK sends, retries included, is counted by operation (a client middleware).
 * - Errors go through translateS3Error (./errors.ts) so the user sees a cause and a next step.
 *
 * Checksums (SDK >= 3.729 defaults `requestChecksumCalculation`/`responseChecksumValidation` to
 * WHEN_SUPPORTED): byte bodies get an `x-amz-checksum-crc32` header; stream bodies are sent as
 * `aws-chunked` with a trailing CRC32 and need a known ContentLength (without one the SDK fails
 * before sending). moto 5.2.1 and SeaweedFS 4.48 accept both (test/s3-smoke.test.ts). This store only
 * sends byte bodies. For a custom endpoint it asks for checksums only WHEN_REQUIRED (the behaviour
 * before 3.729, which S3-compatible servers have long accepted) unless AWS_REQUEST_CHECKSUM_CALCULATION /
 * AWS_RESPONSE_CHECKSUM_VALIDATION say otherwise; AWS itself keeps the SDK defaults.
 */
import { randomUUID } from 'node:crypto'
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type PutObjectCommandInput,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { awsErrorName, awsStatus, isAccessDenied } from '../aws/errors.js'
import { translateS3Error } from './errors.js'
import { checkKey, checkListPrefix } from './keys.js'
import type { CasResult, ObjectInfo, PutResult, Store, StoredObject, StoreStats } from './types.js'

export interface S3ClientOptions {
  region?: string | undefined
  /** A profile from ~/.aws/config / ~/.aws/credentials (else the default chain, AWS_PROFILE included). */
  profile?: string | undefined
  /** A custom endpoint (MinIO, SeaweedFS, R2, B2). AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL are honoured by the SDK. */
  endpoint?: string | undefined
  /** Path-style addressing; default: on for a custom endpoint (flag or environment), off for AWS. */
  pathStyle?: boolean | undefined
  /** Explicit credentials (else the default provider chain, or `profile`). */
  credentials?: S3ClientConfig['credentials']
  env?: NodeJS.ProcessEnv
}

export interface S3StoreOptions extends S3ClientOptions {
  bucket: string
  /** Use this client instead of building one (tests); region/profile/endpoint/pathStyle are then ignored. */
  client?: S3Client
  /** Told once about degraded behaviour (no conditional writes at this endpoint). */
  log?: (message: string) => void
  /** ListObjectsV2 page size (MaxKeys); S3's default and maximum is 1000. */
  listPageSize?: number
}

/** The custom endpoint in effect: the option, else the environment variables the SDK reads. */
function customEndpoint(options: S3ClientOptions): string | undefined {
  const env = options.env ?? process.env
  return options.endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined
}

export function buildS3Client(options: S3ClientOptions): S3Client {
  const env = options.env ?? process.env
  const endpoint = customEndpoint(options)
  const config: S3ClientConfig = { forcePathStyle: options.pathStyle ?? endpoint !== undefined }
  if (options.region) config.region = options.region
  if (options.endpoint) config.endpoint = options.endpoint
  if (options.profile) {
    // The client's `profile` feeds its default credential chain (fromNodeProviderChain({ profile })) and
    // its region lookup, as AWS_PROFILE would; env credentials are then skipped.
    config.profile = options.profile
  }
  if (options.credentials) config.credentials = options.credentials
  if (endpoint !== undefined) {
    if (!env.AWS_REQUEST_CHECKSUM_CALCULATION) config.requestChecksumCalculation = 'WHEN_REQUIRED'
    if (!env.AWS_RESPONSE_CHECKSUM_VALIDATION) config.responseChecksumValidation = 'WHEN_REQUIRED'
  }
  return new S3Client(config)
}

function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body
}

function isPreconditionFailed(error: unknown): boolean {
  return awsStatus(error) === 412 || awsErrorName(error) === 'PreconditionFailed'
}

function isConditionalConflict(error: unknown): boolean {
  return awsErrorName(error) === 'ConditionalRequestConflict'
}

function isNotImplemented(error: unknown): boolean {
  return awsStatus(error) === 501 || awsErrorName(error) === 'NotImplemented'
}

/** A missing key (not a missing bucket): GetObject says NoSuchKey, HeadObject a bare 404. */
function isMissingKey(error: unknown): boolean {
  const name = awsErrorName(error)
  return name !== 'NoSuchBucket' && (name === 'NoSuchKey' || name === 'NotFound' || awsStatus(error) === 404)
}

/** What a PutObject answered: the ETag, and the version written when the bucket keeps versions. */
interface PutOutput {
  etag: string | undefined
  versionId: string | undefined
}

/** How often a conditional PUT is retried when S3 reports a concurrent conditional write (409). */
const CONFLICT_RETRIES = 3

export class S3Store implements Store {
  readonly location: string
  readonly bucket: string
  private readonly client: S3Client
  private readonly log: (message: string) => void
  private readonly endpoint: string | undefined
  private readonly profile: string | undefined
  private readonly listPageSize: number | undefined
  private readonly requests: Record<string, number> = {}
  private conditionalWrites = true

  constructor(options: S3StoreOptions) {
    this.bucket = options.bucket
    this.location = `s3://${options.bucket}`
    this.client = options.client ?? buildS3Client(options)
    this.log = options.log ?? (() => {})
    this.endpoint = options.client ? undefined : customEndpoint(options)
    this.profile = options.client ? undefined : options.profile
    this.listPageSize = options.listPageSize
    // Inside the retry loop (finalizeRequest, low priority), so every attempt is counted.
    this.client.middlewareStack.add(
      (next, context) => async (args) => {
        const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '')
        this.requests[operation] = (this.requests[operation] ?? 0) + 1
        return next(args)
      },
      { step: 'finalizeRequest', priority: 'low', name: `garmin-s3-request-counter-${randomUUID()}` },
    )
  }

  stats(): StoreStats {
    return { requests: { ...this.requests } }
  }

  /** Whether the endpoint honours If-None-Match / If-Match (false after a 501 answer). */
  get supportsConditionalWrites(): boolean {
    return this.conditionalWrites
  }

  async putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult> {
    return (await this.create(key, body, contentType)) === 'exists' ? 'exists' : 'created'
  }

  /**
   * A create-only write, then removed: in a versioned bucket the version written is deleted (no delete
   * marker, no old version left); without s3:DeleteObjectVersion, a plain delete hides it instead.
   */
  async probe(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult> {
    const written = await this.create(key, body, contentType)
    if (written === 'exists') return 'exists'
    if (written.versionId !== undefined) {
      try {
        await this.client.send(
          new DeleteObjectCommand({ Bucket: this.bucket, Key: key, VersionId: written.versionId }),
        )
        return 'created'
      } catch (error) {
        if (!isAccessDenied(error)) throw await this.fail(error, 'DeleteObject', key)
      }
    }
    await this.delete(key)
    return 'created'
  }

  /** Create-only: what the PUT answered, or 'exists'. */
  private async create(
    key: string,
    body: Uint8Array | string,
    contentType: string,
  ): Promise<PutOutput | 'exists'> {
    checkKey(key)
    const bytes = toBytes(body)
    if (this.conditionalWrites) {
      const result = await this.conditionalPut(key, bytes, contentType, { IfNoneMatch: '*' })
      if (result === 'conflict') return 'exists'
      if (result !== 'unsupported') return result
    }
    if (await this.head(key)) return 'exists'
    return this.put(key, bytes, contentType)
  }

  async putIfMatch(
    key: string,
    body: Uint8Array | string,
    contentType: string,
    expectedEtag: string | null,
  ): Promise<CasResult> {
    checkKey(key)
    const bytes = toBytes(body)
    const condition = expectedEtag === null ? { IfNoneMatch: '*' } : { IfMatch: expectedEtag }
    if (this.conditionalWrites) {
      const result = await this.conditionalPut(key, bytes, contentType, condition)
      if (result === 'conflict') return { ok: false }
      if (result !== 'unsupported') return { ok: true, etag: result.etag ?? (await this.etagAfterPut(key)) }
    }
    const current = await this.head(key)
    if (expectedEtag === null ? current !== undefined : current?.etag !== expectedEtag) return { ok: false }
    const { etag } = await this.put(key, bytes, contentType)
    return { ok: true, etag: etag ?? (await this.etagAfterPut(key)) }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    checkKey(key)
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))
      const body = out.Body ? await out.Body.transformToByteArray() : new Uint8Array()
      const object: StoredObject = { key, body, size: body.byteLength, etag: out.ETag ?? '' }
      if (out.LastModified) object.lastModified = out.LastModified
      if (out.ContentType) object.contentType = out.ContentType
      return object
    } catch (error) {
      if (isMissingKey(error)) return undefined
      throw await this.fail(error, 'GetObject', key)
    }
  }

  async delete(key: string): Promise<void> {
    checkKey(key)
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }))
    } catch (error) {
      if (isMissingKey(error)) return
      throw await this.fail(error, 'DeleteObject', key)
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    checkKey(key)
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      const info: ObjectInfo = { key, size: out.ContentLength ?? 0, etag: out.ETag ?? '' }
      if (out.LastModified) info.lastModified = out.LastModified
      return info
    } catch (error) {
      if (isMissingKey(error)) return undefined
      throw await this.fail(error, 'HeadObject', key)
    }
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkListPrefix(prefix)
    let token: string | undefined
    do {
      let page: ListObjectsV2CommandOutput
      try {
        page = await this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix === '' ? undefined : prefix,
            ContinuationToken: token,
            MaxKeys: this.listPageSize,
          }),
        )
      } catch (error) {
        throw await this.fail(error, 'ListObjectsV2', prefix === '' ? undefined : prefix)
      }
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue
        const info: ObjectInfo = { key: object.Key, size: object.Size ?? 0, etag: object.ETag ?? '' }
        if (object.LastModified) info.lastModified = object.LastModified
        yield info
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
  }

  /** A PUT with a condition: the new etag, 'conflict' (412 / 404 / 409), or 'unsupported' (501). */
  private async conditionalPut(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    condition: Pick<PutObjectCommandInput, 'IfMatch' | 'IfNoneMatch'>,
  ): Promise<PutOutput | 'conflict' | 'unsupported'> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.sendPut(key, bytes, contentType, condition)
      } catch (error) {
        if (isPreconditionFailed(error)) return 'conflict'
        // If-Match on a key that does not exist: S3 and moto answer 404 NoSuchKey, SeaweedFS 412.
        if (condition.IfMatch !== undefined && isMissingKey(error)) return 'conflict'
        // S3 answers 409 when another conditional write to the key is in flight; asking again settles it.
        if (isConditionalConflict(error)) {
          if (attempt < CONFLICT_RETRIES) continue
          return 'conflict'
        }
        if (isNotImplemented(error)) {
          this.disableConditionalWrites()
          return 'unsupported'
        }
        throw await this.fail(error, 'PutObject', key)
      }
    }
  }

  private disableConditionalWrites(): void {
    if (!this.conditionalWrites) return
    this.conditionalWrites = false
    this.log(
      `The S3 endpoint${this.endpoint ? ` ${this.endpoint}` : ''} does not support conditional writes (If-None-Match); ` +
        'falling back to HEAD then PUT, which is safe as long as only one sync writes to the bucket at a time.',
    )
  }

  /** One PutObject; the new ETag (some S3-compatible servers omit it) and version (a versioned bucket). */
  private async sendPut(
    key: string,
    bytes: Uint8Array,
    contentType: string,
    extra: Partial<PutObjectCommandInput>,
  ): Promise<PutOutput> {
    const out = await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: bytes,
        ContentType: contentType,
        ...extra,
      }),
    )
    return { etag: out.ETag, versionId: out.VersionId }
  }

  /** An unconditional PutObject, its failure explained. */
  private async put(key: string, bytes: Uint8Array, contentType: string): Promise<PutOutput> {
    try {
      return await this.sendPut(key, bytes, contentType, {})
    } catch (error) {
      throw await this.fail(error, 'PutObject', key)
    }
  }

  /** Some S3-compatible servers omit the ETag on PUT responses. */
  private async etagAfterPut(key: string): Promise<string> {
    return (await this.head(key))?.etag ?? ''
  }

  private async fail(error: unknown, operation: string, key: string | undefined): Promise<unknown> {
    const region = await this.client.config.region().catch(() => undefined)
    return translateS3Error(error, {
      operation,
      bucket: this.bucket,
      key,
      region,
      endpoint: this.endpoint,
      profile: this.profile,
    })
  }
}
