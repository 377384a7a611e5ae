/**
 * DirStore behaviour beyond the shared contract: never a partial file (failed write, killed writer),
 * path traversal refused, folder problems reported with a next step, cross-process locking.
 */
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import * as nodeFs from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { type DirFs, DirStore, lockPathFor } from '../../src/store/dir.js'
import { InvalidKeyError } from '../../src/store/keys.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { folderTree } from '../helpers/tree.js'

const realFs = nodeFs as unknown as DirFs
let parent: string
let root: string

beforeEach(async () => {
  parent = await nodeFs.mkdtemp(join(tmpdir(), 'garmin-s3-dirstore-'))
  root = join(parent, 'data')
})
afterEach(() => nodeFs.rm(parent, { recursive: true, force: true }))

async function collect(store: DirStore, prefix = ''): Promise<string[]> {
  const keys: string[] = []
  for await (const item of store.list(prefix)) keys.push(item.key)
  return keys
}

function fsError(code: string): Error {
  return Object.assign(new Error(`${code}: simulated`), { code })
}

/** Opens temp files whose write stores half the bytes, then fails with `code`. */
function failingWrites(code: string): DirFs {
  return {
    ...realFs,
    open: async (path, flags) => {
      const handle = await nodeFs.open(path, flags)
      return {
        writeFile: async (data) => {
          const bytes = typeof data === 'string' ? Buffer.from(data) : data
          await handle.write(bytes.subarray(0, bytes.byteLength / 2))
          throw fsError(code)
        },
        readFile: () => handle.readFile(),
        stat: () => handle.stat(),
        sync: () => handle.sync(),
        close: () => handle.close(),
      }
    },
  }
}

describe('DirStore never leaves a partial file', () => {
  it('cleans up after a write that fails half-way (disk full)', async () => {
    const store = new DirStore(root, { fs: failingWrites('ENOSPC') })
    const error = await store
      .putIfAbsent('raw/a.json', 'x'.repeat(10_000), 'application/json')
      .catch((e) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toMatch(/no space left/)
    expect(error.hint).toMatch(/Free some disk space/)
    expect(await nodeFs.readdir(join(root, 'raw'))).toEqual([])

    const healthy = new DirStore(root)
    expect(await healthy.get('raw/a.json')).toBeUndefined()
    expect(await healthy.putIfAbsent('raw/a.json', '{"ok":true}', 'application/json')).toBe('created')
    expect(Buffer.from((await healthy.get('raw/a.json'))!.body).toString()).toBe('{"ok":true}')
  })

  it('leaves no visible object when the writer is killed mid-write, and sweeps its temp file later', async () => {
    const script = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'hanging-writer.ts')
    const child = spawn(process.execPath, ['--import', 'tsx', script, root, 'raw/activity_1.json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let output = ''
    for await (const chunk of child.stdout) {
      output += String(chunk)
      if (output.includes('half-written')) break
    }
    const exited = once(child, 'exit')
    child.kill('SIGKILL')
    await exited

    const work = join(root, '_garmin-s3', 'tmp')
    const leftovers = await nodeFs.readdir(work)
    expect(leftovers).toHaveLength(1)
    expect(leftovers[0]).toMatch(/^\.garmin-s3-tmp-/)
    expect((await nodeFs.stat(join(work, leftovers[0]!))).size).toBe(50_000) // really cut mid-write

    const store = new DirStore(root)
    expect(await store.get('raw/activity_1.json')).toBeUndefined()
    expect(await collect(store)).toEqual([])
    expect(await store.putIfAbsent('raw/activity_1.json', '{}', 'application/json')).toBe('created')

    // Once the temp file is old enough to belong to no live writer, listing removes it.
    const later = new DirStore(root, { clock: new FakeClock(Date.now() + 11 * 60_000) })
    expect(await collect(later)).toEqual(['raw/activity_1.json'])
    expect(await nodeFs.readdir(join(root, 'raw'))).toEqual(['activity_1.json'])
  })
})

describe('DirStore refuses keys that could escape its folder', () => {
  const badKeys = [
    '../outside.json',
    'raw/../../outside.json',
    'raw/./a.json',
    '/etc/passwd',
    'raw\\..\\..\\outside.json',
    'raw/a\u0000.json',
    'C:/Windows/x',
    'raw//a.json',
    'raw/',
    '',
    'raw/.garmin-s3-tmp-x',
  ]

  it.each(badKeys)('refuses %j for every operation and writes nothing', async (key) => {
    const store = new DirStore(root)
    await expect(store.putIfAbsent(key, 'x', 'application/json')).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.putIfMatch(key, 'x', 'application/json', null)).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.probe(key, 'x', 'application/json')).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.get(key)).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(store.head(key)).rejects.toBeInstanceOf(InvalidKeyError)
    expect(await nodeFs.readdir(parent)).toEqual([])
  })

  it('refuses listing prefixes that climb out', async () => {
    const store = new DirStore(root)
    await expect(collect(store, '../')).rejects.toBeInstanceOf(InvalidKeyError)
    await expect(collect(store, 'raw/../..')).rejects.toBeInstanceOf(InvalidKeyError)
  })
})

describe('DirStore makes its folder one level at a time, and only where it can', () => {
  /** The real file system, except that a recursive mkdir (which never returns on /proc in Node 20) throws. */
  const mkdirs: string[] = []
  const noRecursiveMkdir: DirFs = {
    ...realFs,
    mkdir: async (path, options) => {
      if (options?.recursive) throw new Error(`recursive mkdir of ${path}`)
      mkdirs.push(path)
      return realFs.mkdir(path)
    },
  }

  it('creates a nested root folder by folder, without a recursive mkdir', async () => {
    mkdirs.length = 0
    const nested = join(parent, 'a', 'b', 'lake')
    const store = new DirStore(nested, { fs: noRecursiveMkdir, durable: false })
    expect(await store.putIfAbsent('raw/x.json', '{}', 'application/json')).toBe('created')
    expect(mkdirs.slice(0, 3)).toEqual([join(parent, 'a'), join(parent, 'a', 'b'), nested])
  })

  it('refuses a root under a file or on /proc with exit 2 before creating anything (checkTarget and writes)', async () => {
    const file = join(parent, 'file')
    await nodeFs.writeFile(file, 'x')
    for (const [root, problem] of [
      [join(file, 'lake'), `${file} is a file, not a folder`],
      [`/proc/self/garmin-s3-${process.pid}/lake`, '/proc/self is on the proc file system'],
    ] as const) {
      mkdirs.length = 0
      const store = new DirStore(root, { fs: noRecursiveMkdir })
      for (const attempt of [() => store.checkTarget(), () => store.putIfAbsent('k.json', '{}', 'x')]) {
        const error = await attempt().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(StoreError)
        expect((error as StoreError).message).toContain(problem)
        expect((error as StoreError).exitCode).toBe(2)
      }
      expect(mkdirs).toEqual([])
    }
  })

  it('with createRoot false, a missing root is an error naming it, and nothing is created', async () => {
    const missing = join(parent, 'typo', 'lake')
    const store = new DirStore(missing, { createRoot: false })
    await expect(store.putIfAbsent('k.json', '{}', 'x')).rejects.toThrow(
      `the folder ${missing} does not exist`,
    )
    expect(await nodeFs.readdir(parent)).toEqual([])
  })
})

describe('DirStore reports folder problems with a next step', () => {
  it('names a folder it may not write to', async () => {
    const store = new DirStore(root, {
      fs: { ...realFs, mkdir: async () => Promise.reject(fsError('EACCES')) },
    })
    const error = await store.putIfAbsent('raw/a.json', '{}', 'application/json').catch((e) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toContain(`permission denied: cannot create folder ${root}`)
    expect(error.hint).toMatch(/--out/)
  })

  it('names a folder it may not read', async () => {
    await nodeFs.mkdir(root)
    const store = new DirStore(root, {
      fs: { ...realFs, readdir: async () => Promise.reject(fsError('EACCES')) },
    })
    const error = await collect(store).catch((e) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toMatch(/permission denied: cannot list/)
  })

  it('explains a file standing where the folder should be', async () => {
    await nodeFs.writeFile(root, 'not a folder')
    const error = await new DirStore(root).putIfAbsent('raw/a.json', '{}', 'application/json').catch((e) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toBe(`the folder ${root} cannot be used: ${root} is a file, not a folder`)
    expect(error.hint).toMatch(/--out/)
    expect(error.exitCode).toBe(2)
  })

  it('creates each folder once, and again if it is removed while the store is in use', async () => {
    const made: string[] = []
    const store = new DirStore(root, {
      fs: {
        ...realFs,
        mkdir: async (path, options) => {
          if (path === join(root, 'raw')) made.push(path)
          return nodeFs.mkdir(path, options)
        },
      },
    })
    for (const id of [1, 2, 3]) await store.putIfAbsent(`raw/a_${id}.json`, `${id}`, 'application/json')
    expect(made).toEqual([join(root, 'raw')])
    await nodeFs.rm(join(root, 'raw'), { recursive: true })
    expect(await store.putIfAbsent('raw/a_4.json', '4', 'application/json')).toBe('created')
    expect(made).toEqual([join(root, 'raw'), join(root, 'raw')])
    expect(await nodeFs.readdir(join(root, 'raw'))).toEqual(['a_4.json'])
  })

  it('falls back to check-then-rename on a file system without hard links, and says so once', async () => {
    const messages: string[] = []
    const store = new DirStore(root, {
      fs: { ...realFs, link: async () => Promise.reject(fsError('EPERM')) },
      log: (m) => messages.push(m),
    })
    expect(await store.putIfAbsent('raw/a.json', '1', 'application/json')).toBe('created')
    expect(await store.putIfAbsent('raw/a.json', '2', 'application/json')).toBe('exists')
    expect(await store.putIfAbsent('raw/b.json', '3', 'application/json')).toBe('created')
    expect(Buffer.from((await store.get('raw/a.json'))!.body).toString()).toBe('1')
    expect(await nodeFs.readdir(join(root, 'raw'))).toEqual(['a.json', 'b.json'])
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatch(/does not support hard links/)
  })
})

describe('DirStore probe (doctor) leaves the folder as it found it', () => {
  const PROBE = 'raw-data/_garmin-s3/doctor-probe.json'

  it('removes the probe and every folder it made, the working folder included; an existing key is left alone', async () => {
    await nodeFs.mkdir(root)
    const store = new DirStore(root)
    expect(await store.probe(PROBE, '{}', 'application/json')).toBe('created')
    expect(await folderTree(root)).toEqual([])
    // The same store writes afterwards as if no probe had been: it makes the folders again.
    expect(await store.putIfAbsent('raw-data/garmin-json/a.json', '{}', 'application/json')).toBe('created')
    expect(await folderTree(root)).toContain('raw-data/garmin-json/a.json')
    // A key that exists answers 'exists' and keeps its bytes.
    await store.putIfAbsent(PROBE, '{"mine":1}', 'application/json')
    expect(await store.probe(PROBE, '{}', 'application/json')).toBe('exists')
    expect(await nodeFs.readFile(join(root, PROBE), 'utf8')).toBe('{"mine":1}')
  })

  it('keeps the folders and files that were there, a dead writer’s temp file too (no sweep)', async () => {
    const temp = join(root, '_garmin-s3', 'tmp', '.garmin-s3-tmp-00000000-1-00000000-left')
    await nodeFs.mkdir(dirname(temp), { recursive: true })
    await nodeFs.writeFile(temp, 'half')
    await nodeFs.mkdir(join(root, 'raw-data', '_garmin-s3'), { recursive: true })
    await nodeFs.writeFile(join(root, 'raw-data', '_garmin-s3', 'state.json'), '{}')
    const before = await folderTree(root)
    expect(await new DirStore(root).probe(PROBE, '{}', 'application/json')).toBe('created')
    expect(await folderTree(root)).toEqual(before)
  })

  it('a probe that fails half-way (disk full) fails with the store error and removes what it made', async () => {
    await nodeFs.mkdir(root)
    const store = new DirStore(root, { fs: failingWrites('ENOSPC') })
    const error = await store.probe(PROBE, '{"probe":1}', 'application/json').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(await folderTree(root)).toEqual([])
  })

  it('with createRoot true and a missing root, the folders made up to the root are removed too', async () => {
    const nested = join(root, 'a', 'b')
    expect(await new DirStore(nested).probe(PROBE, '{}', 'application/json')).toBe('created')
    expect(await nodeFs.readdir(parent)).toEqual([])
  })
})

describe('DirStore compare-and-swap locking', () => {
  async function seeded(options: ConstructorParameters<typeof DirStore>[1] = {}) {
    const store = new DirStore(root, options)
    await store.putIfAbsent('ctl/state.json', '{"n":1}', 'application/json')
    const { etag } = (await store.head('ctl/state.json'))!
    return { store, etag }
  }

  async function deadPid(): Promise<number> {
    const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
    await once(child, 'exit')
    return child.pid!
  }

  it('breaks a lock left by a process that died', async () => {
    const { store, etag } = await seeded()
    const lock = lockPathFor(root, 'ctl/state.json')
    await nodeFs.writeFile(lock, JSON.stringify({ pid: await deadPid(), host: hostname(), at: Date.now() }))
    expect((await store.putIfMatch('ctl/state.json', '{"n":2}', 'application/json', etag)).ok).toBe(true)
    await expect(nodeFs.access(lock)).rejects.toThrow()
  })

  it('breaks a lock left by an earlier process that had this one’s pid (a container, run after run)', async () => {
    const { store, etag } = await seeded()
    const lock = lockPathFor(root, 'ctl/state.json')
    const earlier = { pid: process.pid, tag: '0badc0de', host: hostname(), at: Date.now() }
    await nodeFs.writeFile(lock, JSON.stringify(earlier))
    expect((await store.putIfMatch('ctl/state.json', '{"n":2}', 'application/json', etag)).ok).toBe(true)
    await expect(nodeFs.access(lock)).rejects.toThrow()
  })

  it('waits for a live writer, then gives up with a next step instead of writing', async () => {
    const clock = new FakeClock(Date.now())
    const { store, etag } = await seeded({ clock, lockTimeoutMs: 1_000 })
    const lock = lockPathFor(root, 'ctl/state.json')
    await nodeFs.writeFile(lock, JSON.stringify({ pid: process.ppid, host: hostname(), at: clock.now() }))
    const error = await store
      .putIfMatch('ctl/state.json', '{"n":2}', 'application/json', etag)
      .catch((e) => e)
    expect(error).toBeInstanceOf(StoreError)
    expect(error.message).toMatch(/being written by another garmin-s3 process/)
    expect(error.hint).toContain(lock)
    expect(clock.sleeps.length).toBeGreaterThan(3)
    expect(Buffer.from((await store.get('ctl/state.json'))!.body).toString()).toBe('{"n":1}')
  })

  it('breaks a lock held far longer than any write takes', async () => {
    const clock = new FakeClock(Date.now())
    const { store, etag } = await seeded({ clock })
    const lock = lockPathFor(root, 'ctl/state.json')
    await nodeFs.writeFile(
      lock,
      JSON.stringify({ pid: process.ppid, host: hostname(), at: clock.now() - 60_000 }),
    )
    expect((await store.putIfMatch('ctl/state.json', '{"n":2}', 'application/json', etag)).ok).toBe(true)
  })

  it('keeps lock files out of listings', async () => {
    const { store } = await seeded()
    await nodeFs.writeFile(lockPathFor(root, 'ctl/state.json'), '{}')
    expect(await collect(store)).toEqual(['ctl/state.json'])
  })
})

describe('DirStore refuses symlinks below its root (issue 19)', () => {
  it('refuses a linked sub-folder for writes, reads and listings, and writes nothing through it', async () => {
    const elsewhere = join(parent, 'elsewhere')
    await nodeFs.mkdir(elsewhere)
    await nodeFs.mkdir(root)
    await nodeFs.symlink(elsewhere, join(root, 'raw'))
    const store = new DirStore(root)
    const write = await store.putIfAbsent('raw/a.json', '{}', 'application/json').catch((e) => e)
    expect(write).toBeInstanceOf(StoreError)
    expect(write.message).toContain(`${join(root, 'raw')} is a symbolic link`)
    expect(write.exitCode).toBe(1)
    await expect(store.get('raw/a.json')).rejects.toBeInstanceOf(StoreError)
    await expect(collect(store, 'raw/')).rejects.toBeInstanceOf(StoreError)
    expect(await nodeFs.readdir(elsewhere)).toEqual([])
  })

  it('refuses a linked file and keeps temp files in _garmin-s3/tmp only', async () => {
    const store = new DirStore(root)
    expect(await store.putIfAbsent('raw/a.json', '{}', 'application/json')).toBe('created')
    expect(await nodeFs.readdir(join(root, '_garmin-s3', 'tmp'))).toEqual([])
    await nodeFs.symlink(join(root, 'raw', 'a.json'), join(root, 'raw', 'b.json'))
    await expect(store.get('raw/b.json')).rejects.toBeInstanceOf(StoreError)
    await expect(store.putIfAbsent('raw/b.json', '{}', 'application/json')).rejects.toBeInstanceOf(StoreError)
    expect(await collect(store, 'raw/a')).toEqual(['raw/a.json'])
    expect(await collect(store, '_garmin-s3/')).toEqual([])
  })
})

describe('DirStore sweeps its working folder before the first write (issue 19)', () => {
  it('removes temp files of dead writers (an earlier process with this pid too) and ones older than an hour, keeps a live writer’s fresh one', async () => {
    const work = join(root, '_garmin-s3', 'tmp')
    await nodeFs.mkdir(work, { recursive: true })
    const { createHash } = await import('node:crypto')
    const host = createHash('sha1').update(hostname()).digest('hex').slice(0, 8)
    const dead = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' })
      child.on('exit', () => resolve(child.pid!))
    })
    const names = {
      dead: `.garmin-s3-tmp-${host}-${dead}-x`,
      // This process's pid, but another process's tag: an earlier run in a container, killed.
      samePid: `.garmin-s3-tmp-${host}-${process.pid}-0badc0de-x`,
      olderName: `.garmin-s3-tmp-${host}-${process.pid}-1d10d7bb-e6c5-459f-ae35-31c871d83d60`,
      live: `.garmin-s3-tmp-${host}-${process.ppid}-x`,
      old: `.garmin-s3-tmp-${host}-${process.ppid}-y`,
    }
    for (const name of Object.values(names)) await nodeFs.writeFile(join(work, name), 'partial')
    const clock = new FakeClock(Date.now())
    const hourAgo = new Date(clock.now() - 61 * 60_000)
    await nodeFs.utimes(join(work, names.old), hourAgo, hourAgo)
    const store = new DirStore(root, { clock })
    expect(await store.putIfAbsent('raw/a.json', '{}', 'application/json')).toBe('created')
    expect(await nodeFs.readdir(work)).toEqual([names.live])
  })
})
