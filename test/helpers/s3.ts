/**
 * S3 test helpers: clients and throwaway buckets on the suite's moto_server / SeaweedFS, bounded
 * parallelism for seeding many keys, a no-delay retry strategy, and a canned-answer S3 endpoint on
 * loopback for error paths that real servers cannot be made to produce.
 */
import { randomBytes } from 'node:crypto'
import { createServer, type IncomingHttpHeaders } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  CreateBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3'
import { inject } from 'vitest'
import { TEST_CREDENTIALS, TEST_REGION } from './servers.js'

export interface S3TestServer {
  name: string
  endpoint: () => string
}

/** The two real S3 servers of the suite, for describe.each. */
export const S3_SERVERS: S3TestServer[] = [
  { name: 'moto', endpoint: () => inject('motoEndpoint') },
  { name: 'SeaweedFS', endpoint: () => inject('seaweedEndpoint') },
]

/** A plain SDK client for a test server, with the SDK's default checksum settings. */
export function testS3Client(endpoint: string, config: Partial<S3ClientConfig> = {}): S3Client {
  return new S3Client({
    endpoint,
    region: TEST_REGION,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
    ...config,
  })
}

/** Creates a bucket with a unique, valid name starting with `label`. */
export async function createTestBucket(client: S3Client, label: string): Promise<string> {
  const bucket = `${label}-${randomBytes(6).toString('hex')}`.toLowerCase().slice(0, 63)
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  return bucket
}

/**
 * Puts many objects into a moto bucket at once, through moto-server.py's test-only seed route (straight
 * into the emulator's memory: 20,000 objects in seconds). Only for setting up large buckets; what a test
 * measures afterwards goes through the S3 API.
 */
export async function seedMotoBucket(
  endpoint: string,
  bucket: string,
  objects: Record<string, string>,
): Promise<void> {
  const response = await fetch(`${endpoint}/__test/s3-seed`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ bucket, objects }),
  })
  const answer = (await response.json()) as { seeded?: number }
  if (!response.ok || answer.seeded !== Object.keys(objects).length)
    throw new Error(`seeding ${bucket} on moto failed: HTTP ${response.status} ${JSON.stringify(answer)}`)
}

/** Runs `fn` over `items` with at most `limit` in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array(items.length)
  let next = 0
  const worker = async () => {
    while (next < items.length) {
      const index = next++
      results[index] = await fn(items[index] as T)
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker))
  return results
}

/** `count` keys under `prefix` whose listing order is their numeric order. */
export function numberedKeys(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}k${String(i).padStart(5, '0')}.json`)
}

/** 1,100 keys under `many/`: more than one ListObjectsV2 page (1,000). */
export const LIST_FIXTURE = {
  bucket: 'list-fixture-1100',
  prefix: 'many/',
  keys: numberedKeys('many/', 1_100),
}

function errorName(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : undefined
}

/**
 * Makes sure LIST_FIXTURE's bucket holds its keys on this server, seeding them once per test run:
 * several test files share it (seeding 1,100 keys costs seconds). The first caller claims the
 * seeding with a create-only PUT; the others wait for its `_done` marker.
 */
export async function ensureListFixture(client: S3Client): Promise<typeof LIST_FIXTURE> {
  const { bucket, keys } = LIST_FIXTURE
  try {
    await client.send(new CreateBucketCommand({ Bucket: bucket }))
  } catch (error) {
    if (!['BucketAlreadyOwnedByYou', 'BucketAlreadyExists'].includes(errorName(error) ?? '')) throw error
  }
  let seeder = true
  try {
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: '_claim', Body: 'claimed', IfNoneMatch: '*' }),
    )
  } catch (error) {
    if (errorName(error) !== 'PreconditionFailed') throw error
    seeder = false
  }
  if (seeder) {
    await mapLimit(keys, 16, (Key) => client.send(new PutObjectCommand({ Bucket: bucket, Key, Body: '{}' })))
    await client.send(new PutObjectCommand({ Bucket: bucket, Key: '_done', Body: 'done' }))
    return LIST_FIXTURE
  }
  const deadline = Date.now() + 60_000
  for (;;) {
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: '_done' }))
      return LIST_FIXTURE
    } catch (error) {
      if (errorName(error) !== 'NotFound') throw error
      if (Date.now() > deadline) throw new Error(`the list fixture on ${bucket} was never completed`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/** Retries server errors at once (no back-off sleep), up to `maxAttempts` attempts in all. */
export function noDelayRetry(maxAttempts: number): NonNullable<S3ClientConfig['retryStrategy']> {
  const token = (count: number) => ({ getRetryCount: () => count, getRetryDelay: () => 0 })
  return {
    mode: 'standard',
    acquireInitialRetryToken: async () => token(0),
    refreshRetryTokenForRetry: async (previous, info) => {
      const next = previous.getRetryCount() + 1
      const retryable = info.errorType !== 'CLIENT_ERROR'
      if (!retryable || next >= maxAttempts) throw new Error('no more retries')
      return token(next)
    },
    recordSuccess: () => {},
  } as NonNullable<S3ClientConfig['retryStrategy']>
}

export interface CannedRequest {
  method: string
  url: string
  headers: IncomingHttpHeaders
}
export interface CannedAnswer {
  status: number
  headers?: Record<string, string>
  body?: string
}
export interface CannedS3 {
  endpoint: string
  requests: CannedRequest[]
  close(): Promise<void>
}

/** An HTTP server on loopback that answers every request with `answer(request, index)`. */
export async function startCannedS3(
  answer: (request: CannedRequest, index: number) => CannedAnswer,
): Promise<CannedS3> {
  const requests: CannedRequest[] = []
  const server = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      const request = { method: req.method ?? '', url: req.url ?? '', headers: req.headers }
      requests.push(request)
      const { status, headers = {}, body = '' } = answer(request, requests.length - 1)
      res.writeHead(status, { 'content-type': 'application/xml', ...headers })
      res.end(req.method === 'HEAD' ? undefined : body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

/** An S3 error document as AWS sends it. */
export function s3ErrorXml(code: string, message: string, extra: Record<string, string> = {}): string {
  const fields = Object.entries(extra)
    .map(([k, v]) => `<${k}>${v}</${k}>`)
    .join('')
  return `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message>${fields}<RequestId>TEST</RequestId></Error>`
}
