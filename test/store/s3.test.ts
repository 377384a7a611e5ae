/**
 * S3Store behaviour beyond the shared contract: what the user is told when S3 says no (missing
 * bucket, access denied, wrong region, no credentials, outage), the fallback for endpoints without
 * conditional writes, request counting through retries, and where configuration comes from
 * (AWS_ENDPOINT_URL, profiles).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  S3ServiceException,
} from '@aws-sdk/client-s3'
import { mockClient } from 'aws-sdk-client-mock'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { StoreUnavailableError } from '../../src/store/errors.js'
import { openStore } from '../../src/store/index.js'
import { buildS3Client, S3Store } from '../../src/store/s3.js'
import {
  type CannedAnswer,
  type CannedS3,
  createTestBucket,
  noDelayRetry,
  s3ErrorXml,
  startCannedS3,
  testS3Client,
} from '../helpers/s3.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'

const servers: CannedS3[] = []
const folders: string[] = []
afterEach(async () => {
  vi.unstubAllEnvs()
  await Promise.all(servers.splice(0).map((s) => s.close()))
  await Promise.all(folders.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempFolder(label: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), label))
  folders.push(dir)
  return dir
}

async function canned(answer: (method: string, index: number) => CannedAnswer): Promise<CannedS3> {
  const server = await startCannedS3((request, index) => answer(request.method, index))
  servers.push(server)
  return server
}

function cannedStore(server: CannedS3, bucket = 'my-lake'): S3Store {
  return new S3Store({ bucket, client: testS3Client(server.endpoint, { retryStrategy: noDelayRetry(3) }) })
}

function serviceError(name: string, status: number, message: string): S3ServiceException {
  return new S3ServiceException({
    name,
    message,
    $fault: status >= 500 ? 'server' : 'client',
    $metadata: { httpStatusCode: status },
  })
}

async function failure(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(StoreError)
  return error as StoreError
}

describe('S3Store error translation', () => {
  it('says the bucket does not exist and how to create it (moto)', async () => {
    const store = new S3Store({ bucket: 'no-such-lake', client: testS3Client(inject('motoEndpoint')) })
    // Each call starts only when the previous one has been awaited: a promise made early would
    // reject while nobody is listening yet (an unhandled rejection).
    for (const attempt of [
      () => store.get('raw/a.json'),
      () => store.putIfAbsent('raw/a.json', '{}', 'application/json'),
    ]) {
      const error = await failure(attempt())
      expect(error.message).toBe('bucket no-such-lake does not exist')
      expect(error.hint).toMatch(/aws s3 mb s3:\/\/no-such-lake --region us-east-1/)
      expect(error.exitCode).toBe(1)
    }
    const listing = await failure(
      (async () => {
        for await (const _ of store.list('raw/')) break
      })(),
    )
    expect(listing.message).toBe('bucket no-such-lake does not exist')
  })

  it('explains access denied with the permissions needed', async () => {
    const client = testS3Client('http://127.0.0.1:9')
    mockClient(client)
      .on(PutObjectCommand)
      .rejects(serviceError('AccessDenied', 403, 'Access Denied'))
    const error = await failure(
      new S3Store({ bucket: 'my-lake', client }).putIfAbsent('raw/a.json', '{}', 'application/json'),
    )
    expect(error.message).toBe('access denied: PutObject on s3://my-lake/raw/a.json')
    expect(error.hint).toMatch(/s3:PutObject/)
    expect(error.hint).toMatch(/--profile/)
  })

  it('names the right region when S3 redirects a HEAD (no body, x-amz-bucket-region)', async () => {
    const server = await canned(() => ({ status: 301, headers: { 'x-amz-bucket-region': 'eu-west-1' } }))
    const error = await failure(cannedStore(server).head('raw/a.json'))
    expect(error.message).toBe('bucket my-lake is in region eu-west-1, not us-east-1')
    expect(error.hint).toBe('Pass --region eu-west-1 (or set AWS_REGION=eu-west-1).')
  })

  it('names the right region when a HEAD is refused with a bare 400 and x-amz-bucket-region', async () => {
    const server = await canned(() => ({ status: 400, headers: { 'x-amz-bucket-region': 'sa-east-1' } }))
    const error = await failure(cannedStore(server).head('raw/a.json'))
    expect(error.message).toBe('bucket my-lake is in region sa-east-1, not us-east-1')
  })

  it('names the right region from an AuthorizationHeaderMalformed answer', async () => {
    const body = s3ErrorXml(
      'AuthorizationHeaderMalformed',
      "The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-southeast-2'",
      { Region: 'ap-southeast-2' },
    )
    const server = await canned(() => ({ status: 400, body }))
    const error = await failure(cannedStore(server).get('raw/a.json'))
    expect(error.message).toBe('bucket my-lake is in region ap-southeast-2, not us-east-1')
    expect(error.hint).toMatch(/--region ap-southeast-2/)
  })

  it('reports an outage as retryable after the SDK retried, counting every attempt', async () => {
    const server = await canned(() => ({
      status: 503,
      body: s3ErrorXml('SlowDown', 'Please reduce your request rate.'),
    }))
    const store = cannedStore(server)
    const error = await failure(store.putIfAbsent('raw/a.json', '{}', 'application/json'))
    expect(error).toBeInstanceOf(StoreUnavailableError)
    expect((error as StoreUnavailableError).retryable).toBe(true)
    expect(error.message).toBe('S3 is unavailable: PutObject on s3://my-lake/raw/a.json failed with SlowDown')
    expect(server.requests).toHaveLength(3)
    expect(store.stats().requests).toEqual({ PutObject: 3 })
  })

  describe('without credentials', () => {
    async function isolateFromLocalAws(): Promise<void> {
      const empty = await tempFolder('garmin-s3-noaws-')
      vi.stubEnv('AWS_CONFIG_FILE', join(empty, 'config'))
      vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(empty, 'credentials'))
      vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true')
      for (const name of [
        'AWS_ACCESS_KEY_ID',
        'AWS_SECRET_ACCESS_KEY',
        'AWS_SESSION_TOKEN',
        'AWS_PROFILE',
        'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI',
        'AWS_CONTAINER_CREDENTIALS_FULL_URI',
        'AWS_WEB_IDENTITY_TOKEN_FILE',
        'AWS_ENDPOINT_URL',
        'AWS_ENDPOINT_URL_S3',
      ]) {
        vi.stubEnv(name, undefined)
      }
    }

    it('tells the user how to provide them', async () => {
      await isolateFromLocalAws()
      const server = await canned(() => ({ status: 200 }))
      const store = new S3Store({ bucket: 'my-lake', region: 'eu-west-1', endpoint: server.endpoint })
      const error = await failure(store.get('raw/a.json'))
      expect(error.message).toBe('no AWS credentials found')
      expect(error.hint).toMatch(/aws configure/)
      expect(error.hint).toMatch(/AWS_PROFILE/)
      expect(server.requests).toHaveLength(0)
    })

    it('names a profile that does not exist', async () => {
      await isolateFromLocalAws()
      const server = await canned(() => ({ status: 200 }))
      const store = new S3Store({
        bucket: 'my-lake',
        region: 'eu-west-1',
        endpoint: server.endpoint,
        profile: 'ghost',
      })
      const error = await failure(store.head('raw/a.json'))
      expect(error.message).toBe('no AWS credentials found for profile "ghost"')
      expect(error.hint).toMatch(/aws configure --profile ghost/)
    })
  })
})

describe('S3Store probe (doctor) in a versioned bucket', () => {
  it('deletes the version it wrote: no old version and no delete marker are left (moto)', async () => {
    const client = testS3Client(inject('motoEndpoint'))
    const bucket = await createTestBucket(client, 'probe-versions')
    await client.send(
      new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
    )
    const store = new S3Store({ bucket, client })
    expect(await store.probe('raw/_garmin-s3/doctor-probe.json', '{}', 'application/json')).toBe('created')
    const versions = await client.send(new ListObjectVersionsCommand({ Bucket: bucket }))
    expect(versions.Versions ?? []).toEqual([])
    expect(versions.DeleteMarkers ?? []).toEqual([])
    client.destroy()
  })

  it('without s3:DeleteObjectVersion, hides the probe with a plain delete instead of failing', async () => {
    const client = testS3Client('http://127.0.0.1:9')
    const mock = mockClient(client)
    mock.on(PutObjectCommand).resolves({ ETag: '"e"', VersionId: 'v1' })
    mock.on(DeleteObjectCommand).resolves({})
    mock
      .on(DeleteObjectCommand, { VersionId: 'v1' })
      .rejects(serviceError('AccessDenied', 403, 'Access Denied'))
    const store = new S3Store({ bucket: 'my-lake', client })
    expect(await store.probe('raw/_garmin-s3/doctor-probe.json', '{}', 'application/json')).toBe('created')
    const deletes = mock.commandCalls(DeleteObjectCommand).map((call) => call.args[0].input.VersionId)
    expect(deletes).toEqual(['v1', undefined])
  })
})

describe('S3Store on an endpoint without conditional writes', () => {
  const notImplemented = () =>
    serviceError('NotImplemented', 501, 'A header you provided implies functionality that is not implemented')
  const notFound = () => serviceError('NotFound', 404, 'Not Found')

  it('announces once, then uses HEAD + PUT for create-only writes', async () => {
    const client = testS3Client('http://127.0.0.1:9')
    const mock = mockClient(client)
    const stored = new Map<string, string>()
    mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array; IfNoneMatch?: string }) => {
      if (input.IfNoneMatch !== undefined) throw notImplemented()
      stored.set(input.Key, Buffer.from(input.Body).toString())
      return { ETag: `"etag-${stored.size}"` }
    })
    mock.on(HeadObjectCommand).callsFake((input: { Key: string }) => {
      if (!stored.has(input.Key)) throw notFound()
      return { ETag: '"etag-1"', ContentLength: stored.get(input.Key)!.length }
    })
    const messages: string[] = []
    const store = new S3Store({ bucket: 'my-lake', client, log: (m) => messages.push(m) })

    expect(await store.putIfAbsent('raw/a.json', '{"a":1}', 'application/json')).toBe('created')
    expect(await store.putIfAbsent('raw/a.json', '{"a":2}', 'application/json')).toBe('exists')
    expect(await store.putIfAbsent('raw/b.json', '{"b":1}', 'application/json')).toBe('created')
    expect(stored.get('raw/a.json')).toBe('{"a":1}')
    expect(store.supportsConditionalWrites).toBe(false)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/does not support conditional writes .*HEAD then PUT/)
    // The refused conditional PUT is tried once, not on every write.
    expect(mock.commandCalls(PutObjectCommand, { IfNoneMatch: '*' })).toHaveLength(1)
    expect(mock.commandCalls(PutObjectCommand)).toHaveLength(3)

    // Compare-and-swap falls back to comparing the HEAD etag.
    expect(await store.putIfMatch('raw/a.json', '{"a":3}', 'application/json', '"stale"')).toEqual({
      ok: false,
    })
    expect(await store.putIfMatch('raw/a.json', '{"a":3}', 'application/json', '"etag-1"')).toMatchObject({
      ok: true,
    })
    expect(stored.get('raw/a.json')).toBe('{"a":3}')
    expect(messages).toHaveLength(1)
  })
})

describe('S3Store configuration', () => {
  it('counts a retried request once per attempt', async () => {
    const server = await canned((_, index) =>
      index === 0
        ? { status: 503, body: s3ErrorXml('SlowDown', 'Please reduce your request rate.') }
        : { status: 200, headers: { etag: '"abc"' } },
    )
    const store = cannedStore(server)
    expect(await store.putIfAbsent('raw/a.json', '{}', 'application/json')).toBe('created')
    expect(store.stats().requests).toEqual({ PutObject: 2 })
    expect(server.requests.map((r) => [r.method, r.url.split('?')[0], r.headers['if-none-match']])).toEqual([
      ['PUT', '/my-lake/raw/a.json', '*'],
      ['PUT', '/my-lake/raw/a.json', '*'],
    ])
  })

  it('honours AWS_ENDPOINT_URL and picks path-style addressing for it', async () => {
    const endpoint = inject('motoEndpoint').replace('127.0.0.1', 'localhost')
    const setup = testS3Client(inject('motoEndpoint'))
    const bucket = await createTestBucket(setup, 'env-endpoint')
    setup.destroy()
    vi.stubEnv('AWS_ENDPOINT_URL', endpoint)
    vi.stubEnv('AWS_ACCESS_KEY_ID', TEST_CREDENTIALS.accessKeyId)
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', TEST_CREDENTIALS.secretAccessKey)
    vi.stubEnv('AWS_PROFILE', undefined)
    const store = await openStore({ bucket, region: TEST_REGION })
    expect(await store.putIfAbsent('raw/a.json', '{"via":"env"}', 'application/json')).toBe('created')
    const readBack = new S3Store({ bucket, client: testS3Client(inject('motoEndpoint')) })
    expect(Buffer.from((await readBack.get('raw/a.json'))!.body).toString()).toBe('{"via":"env"}')
  })

  it('takes credentials and region from a named profile over environment credentials', async () => {
    const dir = await tempFolder('garmin-s3-profile-')
    await writeFile(
      join(dir, 'credentials'),
      '[lake]\naws_access_key_id = AKIDLAKEPROFILE\naws_secret_access_key = lake-secret\n',
    )
    await writeFile(join(dir, 'config'), '[profile lake]\nregion = eu-central-1\n')
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', join(dir, 'credentials'))
    vi.stubEnv('AWS_CONFIG_FILE', join(dir, 'config'))
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDFROMENVIRONMENT')
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'env-secret')
    vi.stubEnv('AWS_REGION', undefined)
    const client = buildS3Client({ profile: 'lake' })
    expect((await client.config.credentials()).accessKeyId).toBe('AKIDLAKEPROFILE')
    expect(await client.config.region()).toBe('eu-central-1')
    client.destroy()
  })

  it('keeps the SDK checksum defaults on AWS and asks only when required at a custom endpoint', async () => {
    vi.stubEnv('AWS_REQUEST_CHECKSUM_CALCULATION', undefined)
    vi.stubEnv('AWS_ENDPOINT_URL', undefined)
    vi.stubEnv('AWS_ENDPOINT_URL_S3', undefined)
    const aws = buildS3Client({ region: 'eu-west-1' })
    const custom = buildS3Client({ region: 'eu-west-1', endpoint: 'http://127.0.0.1:9000' })
    expect(await aws.config.requestChecksumCalculation()).toBe('WHEN_SUPPORTED')
    expect(aws.config.forcePathStyle).toBe(false)
    expect(await custom.config.requestChecksumCalculation()).toBe('WHEN_REQUIRED')
    expect(custom.config.forcePathStyle).toBe(true)
  })
})
