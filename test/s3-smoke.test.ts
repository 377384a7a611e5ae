/**
 * The S3 servers the suite relies on behave like S3 for what garmin-s3 does, through the real
 * `@aws-sdk/client-s3` over HTTP with the SDK's default settings.
 *
 * Checksums: since 3.729 the SDK defaults to requestChecksumCalculation / responseChecksumValidation
 * = WHEN_SUPPORTED. A byte body gets an `x-amz-checksum-crc32` header; a stream body is sent as
 * `Content-Encoding: aws-chunked` with a trailing CRC32 (`x-amz-trailer`), which needs a known
 * ContentLength (without one the SDK throws before sending). moto 5.2.1 and SeaweedFS 4.48 accept
 * both with no extra client configuration; only `forcePathStyle` is needed for an IP endpoint.
 */
import { Readable } from 'node:stream'
import {
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createTestBucket, ensureListFixture, S3_SERVERS, testS3Client } from './helpers/s3.js'

function rejection(
  promise: Promise<unknown>,
): Promise<{ name?: string; $metadata?: { httpStatusCode?: number } }> {
  return promise.then(
    () => {
      throw new Error('expected the request to fail')
    },
    (error: { name?: string; $metadata?: { httpStatusCode?: number } }) => error,
  )
}

describe.each(S3_SERVERS)('S3 smoke on $name', (server) => {
  let client: S3Client
  let bucket: string

  beforeAll(async () => {
    client = testS3Client(server.endpoint())
    bucket = await createTestBucket(client, 'smoke')
  })
  afterAll(() => client.destroy())

  it('creates a bucket that then exists', async () => {
    const out = await client.send(new HeadBucketCommand({ Bucket: bucket }))
    expect(out.$metadata.httpStatusCode).toBe(200)
  })

  it('puts and gets bytes with their content type', async () => {
    const body = Buffer.from('{"activityId":1,"name":"Morning Run 🏃"}')
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'a/one.json',
        Body: body,
        ContentType: 'application/json',
      }),
    )
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/one.json' }))
    expect(Buffer.from(await out.Body!.transformToByteArray())).toEqual(body)
    expect(out.ContentType).toBe('application/json')
  })

  it('accepts a streamed body sent aws-chunked with a trailing CRC32 (SDK defaults)', async () => {
    const seen: Record<string, string>[] = []
    const streaming = testS3Client(server.endpoint())
    streaming.middlewareStack.add(
      (next) => async (args) => {
        seen.push({ ...(args.request as { headers: Record<string, string> }).headers })
        return next(args)
      },
      { step: 'finalizeRequest', priority: 'low', name: 'capture-headers' },
    )
    const parts = [Buffer.from('x'.repeat(70_000)), Buffer.from('tail ✓')]
    const body = Buffer.concat(parts)
    await streaming.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: 'a/stream.bin',
        Body: Readable.from(parts),
        ContentLength: body.length,
      }),
    )
    streaming.destroy()
    expect(seen[0]?.['content-encoding']).toContain('aws-chunked')
    expect(seen[0]?.['x-amz-trailer']).toBe('x-amz-checksum-crc32')
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/stream.bin' }))
    expect(Buffer.from(await out.Body!.transformToByteArray()).equals(body)).toBe(true)
  })

  it('lists more than 1,000 keys in pages of 1,000', async () => {
    // Seeded with bounded parallel PUTs, once per run for this file and the store conformance suite.
    const { bucket, prefix, keys } = await ensureListFixture(client)
    const pages: string[][] = []
    let token: string | undefined
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      )
      pages.push((page.Contents ?? []).map((o) => o.Key ?? ''))
      token = page.IsTruncated ? page.NextContinuationToken : undefined
    } while (token)
    expect(pages.map((p) => p.length)).toEqual([1_000, 100])
    expect(pages.flat()).toEqual(keys)
  })

  it('answers HeadObject on a missing key with 404', async () => {
    const error = await rejection(
      client.send(new HeadObjectCommand({ Bucket: bucket, Key: 'a/missing.json' })),
    )
    expect(error.$metadata?.httpStatusCode).toBe(404)
    expect(error.name).toBe('NotFound')
  })

  it("refuses PutObject with IfNoneMatch '*' on an existing key with 412 and keeps the content", async () => {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'a/once.json', Body: 'first', IfNoneMatch: '*' }),
    )
    const error = await rejection(
      client.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'a/once.json', Body: 'second', IfNoneMatch: '*' }),
      ),
    )
    expect(error.$metadata?.httpStatusCode).toBe(412)
    expect(error.name).toBe('PreconditionFailed')
    const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/once.json' }))
    expect(await out.Body!.transformToString()).toBe('first')
  })
})
