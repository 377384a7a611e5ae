/**
 * One Store contract, run against every store: DirStore (a temp folder), S3Store on moto and
 * S3Store on SeaweedFS (clients built the way the CLI builds them, pointed at the test servers), and
 * the tests' MemoryStore, so the double is proven at least as strict as the stores it stands in for.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirStore } from '../../src/store/dir.js'
import { compareKeys, InvalidKeyError } from '../../src/store/keys.js'
import { buildS3Client, S3Store } from '../../src/store/s3.js'
import type { Store } from '../../src/store/types.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { createTestBucket, ensureListFixture, LIST_FIXTURE, mapLimit, S3_SERVERS } from '../helpers/s3.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'

interface StoreKind {
  name: string
  /** A new, empty store. */
  fresh(): Promise<Store>
  /** A store holding LIST_FIXTURE.keys under LIST_FIXTURE.prefix. */
  withManyKeys(): Promise<Store>
  /** Starts slow set-up early (seeding the list fixture) so it overlaps with the other tests. */
  prepare?(): void
  keepsContentType: boolean
  /**
   * AWS S3, moto and DirStore list in UTF-8 byte order of the whole key. SeaweedFS walks its folder
   * tree instead, so `p/a/b` comes before `p/a-c` there; only the set of keys is the same.
   */
  byteOrderAcrossFolders: boolean
}

const cleanups: (() => unknown)[] = []
afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()))
})

async function tempFolder(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-dir-'))
  cleanups.push(() => rm(dir, { recursive: true, force: true }))
  return dir
}

const dirKind: StoreKind = {
  name: 'DirStore',
  fresh: async () => new DirStore(await tempFolder()),
  withManyKeys: async () => {
    const store = new DirStore(await tempFolder(), { durable: false })
    await mapLimit(LIST_FIXTURE.keys, 16, (key) => store.putIfAbsent(key, '{}', 'application/json'))
    return store
  },
  keepsContentType: false,
  byteOrderAcrossFolders: true,
}

function s3Kind(server: (typeof S3_SERVERS)[number]): StoreKind {
  const client = () => {
    const built = buildS3Client({
      endpoint: server.endpoint(),
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
    })
    cleanups.push(() => built.destroy())
    return built
  }
  let seeded: Promise<unknown> | undefined
  const seed = () => {
    seeded ??= ensureListFixture(client())
    return seeded
  }
  return {
    name: `S3Store on ${server.name}`,
    fresh: async () => {
      const c = client()
      return new S3Store({ bucket: await createTestBucket(c, 'conformance'), client: c })
    },
    withManyKeys: async () => {
      await seed()
      return new S3Store({ bucket: LIST_FIXTURE.bucket, client: client() })
    },
    prepare: () => {
      // Awaited (and any failure reported) by withManyKeys.
      seed().catch(() => {})
    },
    keepsContentType: true,
    byteOrderAcrossFolders: server.name !== 'SeaweedFS',
  }
}

const memoryKind: StoreKind = {
  name: "MemoryStore (the tests' double)",
  fresh: async () => new MemoryStore(),
  withManyKeys: async () => {
    const store = new MemoryStore()
    for (const key of LIST_FIXTURE.keys) store.seed(key, '{}')
    return store
  },
  keepsContentType: true,
  byteOrderAcrossFolders: true,
}

const kinds: StoreKind[] = [dirKind, ...S3_SERVERS.map(s3Kind), memoryKind]
beforeAll(() => {
  for (const kind of kinds) kind.prepare?.()
})

async function collect(iterable: AsyncIterable<{ key: string }>): Promise<string[]> {
  const keys: string[] = []
  for await (const item of iterable) keys.push(item.key)
  return keys
}

const text = (bytes: Uint8Array | undefined) => (bytes ? Buffer.from(bytes).toString('utf8') : undefined)

// Every test works on its own store, so they run concurrently: SeaweedFS settles concurrent
// conditional writes to one key in 1-second steps, which would otherwise add up to some 13 s here.
describe.concurrent.each(kinds)('Store contract: $name', (kind) => {
  it('putIfAbsent creates a key once and never overwrites it', async () => {
    const store = await kind.fresh()
    expect(await store.putIfAbsent('raw/activity_1.json', '{"v":1}', 'application/json')).toBe('created')
    expect(await store.putIfAbsent('raw/activity_1.json', '{"v":2}', 'application/json')).toBe('exists')
    const got = await store.get('raw/activity_1.json')
    expect(text(got?.body)).toBe('{"v":1}')
    expect(got?.size).toBe(7)
    expect(got?.contentType).toBe(kind.keepsContentType ? 'application/json' : undefined)
  })

  it('lets exactly one of 8 concurrent putIfAbsent calls on one key create it', async () => {
    const store = await kind.fresh()
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.putIfAbsent('race/key.json', `{"writer":${i}}`, 'application/json'),
      ),
    )
    expect(results.filter((r) => r === 'created')).toHaveLength(1)
    expect(results.filter((r) => r === 'exists')).toHaveLength(7)
    const winner = results.indexOf('created')
    expect(text((await store.get('race/key.json'))?.body)).toBe(`{"writer":${winner}}`)
  })

  it('putIfMatch creates only when absent, swaps only on the current etag', async () => {
    const store = await kind.fresh()
    const created = await store.putIfMatch('ctl/state.json', '{"n":1}', 'application/json', null)
    expect(created.ok).toBe(true)
    expect(await store.putIfMatch('ctl/state.json', '{"n":9}', 'application/json', null)).toEqual({
      ok: false,
    })

    const first = (await store.get('ctl/state.json'))!
    expect(created.ok && created.etag).toBe(first.etag)
    const swapped = await store.putIfMatch('ctl/state.json', '{"n":2}', 'application/json', first.etag)
    expect(swapped.ok).toBe(true)
    const second = (await store.head('ctl/state.json'))!
    expect(swapped.ok && swapped.etag).toBe(second.etag)
    expect(second.etag).not.toBe(first.etag)

    // A writer holding the old etag loses and changes nothing.
    expect(await store.putIfMatch('ctl/state.json', '{"n":3}', 'application/json', first.etag)).toEqual({
      ok: false,
    })
    expect(text((await store.get('ctl/state.json'))?.body)).toBe('{"n":2}')
    // An etag for a key that does not exist is a conflict, not a create.
    expect(await store.putIfMatch('ctl/other.json', '{}', 'application/json', first.etag)).toEqual({
      ok: false,
    })
    expect(await store.head('ctl/other.json')).toBeUndefined()
  })

  it('lets exactly one of 8 concurrent putIfMatch calls with the same etag win', async () => {
    const store = await kind.fresh()
    await store.putIfAbsent('ctl/state.json', '{"n":0}', 'application/json')
    const { etag } = (await store.head('ctl/state.json'))!
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        store.putIfMatch('ctl/state.json', `{"n":${i + 1}}`, 'application/json', etag),
      ),
    )
    expect(results.filter((r) => r.ok)).toHaveLength(1)
    const winner = results.findIndex((r) => r.ok)
    expect(text((await store.get('ctl/state.json'))?.body)).toBe(`{"n":${winner + 1}}`)
  })

  it('delete removes an object, and deleting a missing key is no error', async () => {
    const store = await kind.fresh()
    await store.putIfAbsent('ctl/probe.json', '{}', 'application/json')
    await store.delete('ctl/probe.json')
    expect(await store.head('ctl/probe.json')).toBeUndefined()
    expect(await collect(store.list('ctl/'))).toEqual([])
    await expect(store.delete('ctl/probe.json')).resolves.toBeUndefined()
    // The key is free again: a create-only write creates it.
    expect(await store.putIfAbsent('ctl/probe.json', '{}', 'application/json')).toBe('created')
  })

  it('probe writes a key and removes it again, leaving the store as it was; an existing key is left alone', async () => {
    const store = await kind.fresh()
    await store.putIfAbsent('ctl/state.json', '{}', 'application/json')
    expect(await store.probe('ctl/probe.json', '{}', 'application/json')).toBe('created')
    expect(await collect(store.list(''))).toEqual(['ctl/state.json'])
    expect(await store.head('ctl/probe.json')).toBeUndefined()
    expect(await store.probe('ctl/state.json', '{"n":1}', 'application/json')).toBe('exists')
    expect(text((await store.get('ctl/state.json'))?.body)).toBe('{}')
  })

  it('keeps what it stored when a caller changes the bytes it wrote or read', async () => {
    const store = await kind.fresh()
    const written = Uint8Array.from([1, 2, 3])
    await store.putIfAbsent('bin/a.fit', written, 'application/octet-stream')
    written[0] = 9
    const read = (await store.get('bin/a.fit'))!.body
    expect([...read]).toEqual([1, 2, 3])
    read[1] = 9
    expect([...(await store.get('bin/a.fit'))!.body]).toEqual([1, 2, 3])
  })

  it('refuses unsafe keys and prefixes before any request', async () => {
    const store = await kind.fresh()
    const before = store.stats().requests
    for (const key of [
      '',
      '/abs.json',
      'a/../b.json',
      'a//b.json',
      'a\\b.json',
      'nul\u0000.json',
      'x'.repeat(1025),
    ]) {
      await expect(store.putIfAbsent(key, '{}', 'application/json'), JSON.stringify(key)).rejects.toThrow(
        InvalidKeyError,
      )
      await expect(store.putIfMatch(key, '{}', 'application/json', null)).rejects.toThrow(InvalidKeyError)
      await expect(store.probe(key, '{}', 'application/json')).rejects.toThrow(InvalidKeyError)
      await expect(store.get(key)).rejects.toThrow(InvalidKeyError)
      await expect(store.head(key)).rejects.toThrow(InvalidKeyError)
    }
    await expect(collect(store.list('../'))).rejects.toThrow(InvalidKeyError)
    expect(store.stats().requests).toEqual(before)
  })

  it('answers get and head on a missing key with undefined', async () => {
    const store = await kind.fresh()
    expect(await store.get('nothing/here.json')).toBeUndefined()
    expect(await store.head('nothing/here.json')).toBeUndefined()
  })

  it('round-trips UTF-8 text, emoji and arbitrary bytes exactly', async () => {
    const store = await kind.fresh()
    const json = '{"name":"Läufchen am Fluss 🏃‍♀️🌧️","note":"東京 — ½ marathon","zero":"\\u0000"}'
    const binary = Uint8Array.from({ length: 256 }, (_, i) => 255 - i)
    await store.putIfAbsent('utf8/activity.json', json, 'application/json')
    await store.putIfAbsent('bin/activity.fit', binary, 'application/octet-stream')
    const gotJson = (await store.get('utf8/activity.json'))!
    expect(Buffer.from(gotJson.body).equals(Buffer.from(json, 'utf8'))).toBe(true)
    expect(gotJson.size).toBe(Buffer.byteLength(json))
    expect(Buffer.from((await store.get('bin/activity.fit'))!.body).equals(binary)).toBe(true)
    expect((await store.head('bin/activity.fit'))?.size).toBe(256)
  })

  it('lists only keys under the prefix, in S3 key order (UTF-8 bytes)', async () => {
    const store = await kind.fresh()
    const inside = [
      'p/a-c.json',
      'p/a/b.json',
      'p/a.json',
      'p/B.json',
      'p/ä.json',
      'p/😀.json',
      'p/～.json',
      'p/z/y/x.json',
    ]
    const outside = ['q/a.json', 'pp.json', 'p.json']
    await mapLimit([...inside, ...outside], 8, (key) => store.putIfAbsent(key, key, 'application/json'))
    const expected = [...inside].sort(compareKeys)
    // UTF-16 order would put 😀 before ～; S3 and the folder walk must not.
    expect(expected.indexOf('p/～.json')).toBeLessThan(expected.indexOf('p/😀.json'))
    const ordered = (keys: string[]) => (kind.byteOrderAcrossFolders ? keys : [...keys].sort(compareKeys))
    expect(ordered(await collect(store.list('p/')))).toEqual(expected)
    expect(ordered(await collect(store.list('p/a')))).toEqual(['p/a-c.json', 'p/a.json', 'p/a/b.json'])
    expect(await collect(store.list('p/z/'))).toEqual(['p/z/y/x.json'])
    expect(await collect(store.list('none/'))).toEqual([])
    expect(ordered(await collect(store.list('')))).toEqual([...inside, ...outside].sort(compareKeys))
    const [info] = await collect2(store.list('p/a.json'))
    expect(info).toMatchObject({ key: 'p/a.json', size: 8, etag: (await store.head('p/a.json'))!.etag })
  })

  it('lists more than 1,000 keys (S3 pages through them)', async () => {
    const store = await kind.withManyKeys()
    const before = store.stats().requests.ListObjectsV2 ?? 0
    expect(await collect(store.list(LIST_FIXTURE.prefix))).toEqual(LIST_FIXTURE.keys)
    if (store instanceof S3Store) expect((store.stats().requests.ListObjectsV2 ?? 0) - before).toBe(2)
  })

  it('counts backend requests by operation', async () => {
    const store = await kind.fresh()
    await store.putIfAbsent('s/a.json', '1', 'application/json')
    await store.putIfAbsent('s/a.json', '2', 'application/json')
    await store.get('s/a.json')
    await store.head('s/missing.json')
    await collect(store.list('s/'))
    const { requests } = store.stats()
    expect(requests.PutObject).toBe(2)
    expect(requests.GetObject).toBe(1)
    expect(requests.HeadObject).toBe(1)
    expect(requests.ListObjectsV2).toBeGreaterThanOrEqual(1)
  })
})

async function collect2<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = []
  for await (const item of iterable) items.push(item)
  return items
}
