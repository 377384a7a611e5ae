/**
 * DirStore: a local folder as the store (the default target). Keys map to paths under the root.
 *
 * - Create-only writes: the bytes go to a temp file beside the target, then `link()` publishes it;
 *   `link` fails with EEXIST when the target exists, so creation is atomic and a reader never sees
 *   a partial file, even if the process is killed mid-write.
 * - Compare-and-swap: a per-key lock file (exclusive create, safe across processes), then the
 *   current content hash is compared and the new bytes are renamed over the target.
 * - Etags are the quoted MD5 of the content, the same as S3's for a single-part upload.
 * - No metadata is kept beyond the bytes (no content type).
 */
import { createHash, randomUUID } from 'node:crypto'
import type { Dirent } from 'node:fs'
import * as nodeFs from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { type Clock, systemClock } from '../clock.js'
import { StoreError } from '../errors.js'
import { translateFsError } from './errors.js'
import { checkListPrefix, compareKeys, keyToPath, pathProblem, RESERVED_NAME_PREFIX } from './keys.js'
import type { CasResult, ObjectInfo, PutResult, Store, StoredObject, StoreStats } from './types.js'

/** The file handle operations DirStore uses; a FileHandle satisfies it. */
interface DirFileHandle {
  writeFile(data: Uint8Array | string): Promise<void>
  sync(): Promise<void>
  close(): Promise<void>
}

/** The subset of `node:fs/promises` DirStore uses, injectable so tests can make writes fail. */
export interface DirFs {
  open(path: string, flags: string): Promise<DirFileHandle>
  mkdir(path: string, options: { recursive: true }): Promise<unknown>
  link(existingPath: string, newPath: string): Promise<void>
  rename(oldPath: string, newPath: string): Promise<void>
  unlink(path: string): Promise<void>
  readFile(path: string): Promise<Uint8Array>
  stat(path: string): Promise<{ mtimeMs: number; mtime: Date }>
  readdir(path: string, options: { withFileTypes: true }): Promise<Dirent[]>
}

export interface DirStoreOptions {
  fs?: DirFs
  clock?: Clock
  /** Told once about degraded behaviour (a file system without hard links). */
  log?: (message: string) => void
  /** fsync each file before publishing it (default true: a backup should survive a power cut). */
  durable?: boolean
  /** Temp files older than this are leftovers of a killed writer; list() removes them. */
  staleTempMs?: number
  /** A lock held longer than this (or by a dead process on this host) is broken. */
  staleLockMs?: number
  /** How long putIfMatch waits for another writer's lock before giving up. */
  lockTimeoutMs?: number
}

const TEMP_PREFIX = `${RESERVED_NAME_PREFIX}tmp-`
const LOCK_PREFIX = `${RESERVED_NAME_PREFIX}lock-`
/** link() errors that mean "this file system has no hard links", not "permission denied". */
const NO_HARD_LINKS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EXDEV'])
const HASH_BATCH = 32

function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body
}

/** The lock file guarding compare-and-swap writes of `key` (beside the key's file). */
export function lockPathFor(root: string, key: string): string {
  return join(dirname(keyToPath(root, key)), `${LOCK_PREFIX}${createHash('sha1').update(key).digest('hex')}`)
}

function contentEtag(bytes: Uint8Array): string {
  return `"${createHash('md5').update(bytes).digest('hex')}"`
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string'
    ? error.code
    : undefined
}

function isMissing(error: unknown): boolean {
  const code = errorCode(error)
  return code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR'
}

const ignore = () => {}

function pidIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return errorCode(error) === 'EPERM'
  }
}

export class DirStore implements Store {
  readonly location: string
  private readonly fs: DirFs
  private readonly clock: Clock
  private readonly log: (message: string) => void
  private readonly durable: boolean
  private readonly staleTempMs: number
  private readonly staleLockMs: number
  private readonly lockTimeoutMs: number
  private readonly requests: Record<string, number> = {}
  /** Folders this store made or found: `mkdir -p` once per folder, not once per file. */
  private readonly madeDirs = new Set<string>()
  private warnedNoLinks = false

  /** `root` should be absolute; openStore resolves it. */
  constructor(
    readonly root: string,
    options: DirStoreOptions = {},
  ) {
    this.location = root
    this.fs = options.fs ?? (nodeFs as unknown as DirFs)
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? ignore
    this.durable = options.durable ?? true
    this.staleTempMs = options.staleTempMs ?? 10 * 60_000
    this.staleLockMs = options.staleLockMs ?? 30_000
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000
  }

  stats(): StoreStats {
    return { requests: { ...this.requests } }
  }

  // The S3-equivalent operation names, so reports compare across stores.
  private count(operation: string): void {
    this.requests[operation] = (this.requests[operation] ?? 0) + 1
  }

  private fail(error: unknown, operation: string, path: string): unknown {
    return translateFsError(error, { operation, path, root: this.root })
  }

  async putIfAbsent(key: string, body: Uint8Array | string, _contentType: string): Promise<PutResult> {
    return this.create(keyToPath(this.root, key), toBytes(body))
  }

  async putIfMatch(
    key: string,
    body: Uint8Array | string,
    _contentType: string,
    expectedEtag: string | null,
  ): Promise<CasResult> {
    const path = keyToPath(this.root, key)
    const bytes = toBytes(body)
    if (expectedEtag === null) {
      return (await this.create(path, bytes)) === 'created'
        ? { ok: true, etag: contentEtag(bytes) }
        : { ok: false }
    }
    const lock = lockPathFor(this.root, key)
    if (!(await this.acquireLock(lock, key))) return { ok: false }
    try {
      const current = await this.read(path)
      if (current === undefined || contentEtag(current.bytes) !== expectedEtag) return { ok: false }
      const temp = await this.writeTemp(dirname(path), bytes)
      this.count('PutObject')
      try {
        await this.fs.rename(temp, path)
      } catch (error) {
        await this.fs.unlink(temp).catch(ignore)
        throw this.fail(error, 'write', path)
      }
      return { ok: true, etag: contentEtag(bytes) }
    } finally {
      await this.fs.unlink(lock).catch(ignore)
    }
  }

  async get(key: string): Promise<StoredObject | undefined> {
    const path = keyToPath(this.root, key)
    this.count('GetObject')
    const found = await this.read(path)
    if (!found) return undefined
    return { ...this.info(key, found.bytes, found.mtime), body: found.bytes }
  }

  async delete(key: string): Promise<void> {
    const path = keyToPath(this.root, key)
    this.count('DeleteObject')
    try {
      await this.fs.unlink(path)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
      throw this.fail(error, 'delete', path)
    }
  }

  async head(key: string): Promise<ObjectInfo | undefined> {
    const path = keyToPath(this.root, key)
    this.count('HeadObject')
    const found = await this.read(path)
    return found ? this.info(key, found.bytes, found.mtime) : undefined
  }

  async *list(prefix: string): AsyncIterable<ObjectInfo> {
    checkListPrefix(prefix)
    const slash = prefix.lastIndexOf('/')
    yield* this.walk(slash === -1 ? '' : prefix.slice(0, slash), prefix)
  }

  private info(key: string, bytes: Uint8Array, mtime: Date | undefined): ObjectInfo {
    const info: ObjectInfo = { key, size: bytes.byteLength, etag: contentEtag(bytes) }
    if (mtime) info.lastModified = mtime
    return info
  }

  /** The file's bytes and mtime, or undefined when there is no file at `path`. */
  private async read(path: string): Promise<{ bytes: Uint8Array; mtime: Date | undefined } | undefined> {
    try {
      const [bytes, stat] = await Promise.all([
        this.fs.readFile(path),
        this.fs.stat(path).catch(() => undefined),
      ])
      return { bytes, mtime: stat?.mtime }
    } catch (error) {
      if (isMissing(error)) return undefined
      throw this.fail(error, 'read', path)
    }
  }

  private async makeDir(dir: string): Promise<void> {
    try {
      await this.fs.mkdir(dir, { recursive: true })
    } catch (error) {
      throw this.fail(error, 'create folder', dir)
    }
    this.madeDirs.add(dir)
  }

  /** Writes `bytes` to a fresh temp file in `dir` and returns its path; removes it on any failure. */
  private async writeTemp(dir: string, bytes: Uint8Array, retried = false): Promise<string> {
    const temp = join(dir, `${TEMP_PREFIX}${randomUUID()}`)
    let handle: DirFileHandle
    try {
      handle = await this.fs.open(temp, 'wx')
    } catch (error) {
      // The folder was there earlier in this run and is gone now (removed by hand): make it again, once.
      if (retried || !isMissing(error) || !this.madeDirs.delete(dir)) throw this.fail(error, 'write to', dir)
      await this.makeDir(dir)
      return this.writeTemp(dir, bytes, true)
    }
    try {
      await handle.writeFile(bytes)
      if (this.durable) await handle.sync()
      await handle.close()
    } catch (error) {
      await handle.close().catch(ignore)
      await this.fs.unlink(temp).catch(ignore)
      throw this.fail(error, 'write to', dir)
    }
    return temp
  }

  private async create(path: string, bytes: Uint8Array): Promise<PutResult> {
    const dir = dirname(path)
    if (!this.madeDirs.has(dir)) await this.makeDir(dir)
    const temp = await this.writeTemp(dir, bytes)
    this.count('PutObject')
    try {
      await this.fs.link(temp, path)
      return 'created'
    } catch (error) {
      const code = errorCode(error)
      if (code === 'EEXIST') return 'exists'
      if (code && NO_HARD_LINKS.has(code)) return await this.createWithoutLink(temp, path)
      throw this.fail(error, 'write', path)
    } finally {
      await this.fs.unlink(temp).catch(ignore)
    }
  }

  /** For file systems without hard links (FAT, some network shares): check, then rename. */
  private async createWithoutLink(temp: string, path: string): Promise<PutResult> {
    if (!this.warnedNoLinks) {
      this.warnedNoLinks = true
      this.log(
        `The folder ${this.root} does not support hard links; writes are still never partial, but two syncs running at once could both write the same file.`,
      )
    }
    try {
      await this.fs.stat(path)
      return 'exists'
    } catch (error) {
      if (!isMissing(error)) throw this.fail(error, 'write', path)
    }
    try {
      await this.fs.rename(temp, path)
    } catch (error) {
      throw this.fail(error, 'write', path)
    }
    return 'created'
  }

  /** True once the lock is held; false when the folder does not exist (so neither does the key). */
  private async acquireLock(lock: string, key: string): Promise<boolean> {
    const started = this.clock.now()
    let delay = 1
    for (;;) {
      try {
        const handle = await this.fs.open(lock, 'wx')
        try {
          await handle.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: this.clock.now() }))
        } finally {
          await handle.close()
        }
        return true
      } catch (error) {
        const code = errorCode(error)
        if (code === 'ENOENT' || code === 'ENOTDIR') return false
        if (code !== 'EEXIST') throw this.fail(error, 'lock', lock)
      }
      if (await this.lockIsStale(lock)) {
        await this.fs.unlink(lock).catch(ignore)
        continue
      }
      if (this.clock.now() - started > this.lockTimeoutMs) {
        throw new StoreError(`${key} is being written by another garmin-s3 process`, {
          hint: `Wait for the other run to finish; if none is running, delete ${lock}.`,
        })
      }
      await this.clock.sleep(delay)
      delay = Math.min(delay * 2, 50)
    }
  }

  private async lockIsStale(lock: string): Promise<boolean> {
    try {
      const text = Buffer.from(await this.fs.readFile(lock)).toString('utf8')
      const owner = JSON.parse(text) as { pid?: unknown; host?: unknown; at?: unknown }
      if (owner.host === hostname() && typeof owner.pid === 'number' && owner.pid !== process.pid) {
        if (!pidIsAlive(owner.pid)) return true
      }
      return typeof owner.at === 'number' && this.clock.now() - owner.at > this.staleLockMs
    } catch (error) {
      if (isMissing(error)) return false // released meanwhile: just retry
      // Unreadable or half-written lock: judge by its age.
      const stat = await this.fs.stat(lock).catch(() => undefined)
      return stat !== undefined && this.clock.now() - stat.mtimeMs > this.staleLockMs
    }
  }

  /** Depth-first walk of the folder for `dirKey`, yielding files whose key starts with `prefix`. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    const dirPath = dirKey === '' ? this.root : keyToPath(this.root, dirKey)
    let entries: Dirent[]
    try {
      entries = await this.fs.readdir(dirPath, { withFileTypes: true })
      this.count('ListObjectsV2')
    } catch (error) {
      if (isMissing(error)) return
      throw this.fail(error, 'list', dirPath)
    }
    // Directories sort as "name/" so the walk yields keys in the same byte order as S3 lists them.
    const items: { key: string; sortKey: string; isDir: boolean }[] = []
    for (const entry of entries) {
      if (entry.name.startsWith(RESERVED_NAME_PREFIX)) {
        if (entry.name.startsWith(TEMP_PREFIX)) await this.removeIfStale(join(dirPath, entry.name))
        continue
      }
      if (pathProblem(entry.name)) continue // not a name a key could have
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`
      if (entry.isDirectory()) {
        const asDir = `${key}/`
        if (asDir.startsWith(prefix) || prefix.startsWith(asDir))
          items.push({ key, sortKey: asDir, isDir: true })
      } else if (entry.isFile() && key.startsWith(prefix)) {
        items.push({ key, sortKey: key, isDir: false })
      }
    }
    items.sort((a, b) => compareKeys(a.sortKey, b.sortKey))
    let files: string[] = []
    const flush = async function* (this: DirStore) {
      const infos = await Promise.all(files.map((key) => this.fileInfo(key)))
      files = []
      for (const info of infos) if (info) yield info
    }
    for (const item of items) {
      if (item.isDir) {
        yield* flush.call(this)
        yield* this.walk(item.key, prefix)
      } else {
        files.push(item.key)
        if (files.length >= HASH_BATCH) yield* flush.call(this)
      }
    }
    yield* flush.call(this)
  }

  private async fileInfo(key: string): Promise<ObjectInfo | undefined> {
    const found = await this.read(keyToPath(this.root, key))
    return found ? this.info(key, found.bytes, found.mtime) : undefined
  }

  private async removeIfStale(path: string): Promise<void> {
    const stat = await this.fs.stat(path).catch(() => undefined)
    if (stat && this.clock.now() - stat.mtimeMs > this.staleTempMs) await this.fs.unlink(path).catch(ignore)
  }
}
