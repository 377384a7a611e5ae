/**
 * DirStore: a local folder as the store (the default target). Keys map to paths under the root.
 *
 * - Create-only writes: the bytes go to a temp file in the store's working folder
 *   (`<root>/_garmin-s3/tmp/`, outside every data prefix, on the same file system), then `link()`
 *   publishes it; `link` fails with EEXIST when the target exists, so creation is atomic and a reader
 *   never sees a partial file, even if the process is killed mid-write.
 * - Compare-and-swap: a per-key lock file in the working folder (exclusive create, safe across
 *   processes), then the current content hash is compared and the new bytes are renamed over the target.
 * - Leftovers of killed writers (temp files, locks) are swept from the working folder once per store
 *   instance, before its first write: a temp file is stale when its writer (named in the file name)
 *   is a dead process on this host (or an earlier process that had this one's pid), or when it is
 *   older than `staleTempMs` (clock time).
 * - No symlinks below the root: every folder between the root and a file must be a real folder and
 *   the file a regular file, for reads, writes and listings alike. The root itself may be a link (the
 *   user chose it). Folders are checked once per store instance (one run), so a write costs no extra
 *   system call once its folder is known.
 * - `probe` (doctor) writes as every write does, then removes the file and each folder it made for it
 *   (the working folder too), and sweeps nothing: the folder is left as it was found.
 * - Etags are the quoted MD5 of the content, the same as S3's for a single-part upload.
 * - No metadata is kept beyond the bytes (no content type).
 */
import { createHash, randomUUID } from 'node:crypto'
import { constants, type Dirent } from 'node:fs'
import * as nodeFs from 'node:fs/promises'
import { hostname } from 'node:os'
import { dirname, join } from 'node:path'
import { type Clock, systemClock } from '../clock.js'
import { EXIT, StoreError } from '../errors.js'
import { translateFsError } from './errors.js'
import {
  checkListPrefix,
  compareKeys,
  DIR_WORK_FOLDER,
  keyToPath,
  pathProblem,
  RESERVED_NAME_PREFIX,
} from './keys.js'
import type { CasResult, ObjectInfo, PutResult, Store, StoredObject, StoreStats } from './types.js'

/** What DirStore reads from a stat: a `Stats` satisfies it. */
interface DirStat {
  mtimeMs: number
  mtime: Date
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
}

/** The file handle operations DirStore uses; a FileHandle satisfies it. */
interface DirFileHandle {
  writeFile(data: Uint8Array | string): Promise<void>
  readFile(): Promise<Uint8Array>
  stat(): Promise<DirStat>
  sync(): Promise<void>
  close(): Promise<void>
}

/** The subset of `node:fs/promises` DirStore uses, injectable so tests can make writes fail. */
export interface DirFs {
  open(path: string, flags: string | number): Promise<DirFileHandle>
  mkdir(path: string, options?: { recursive?: boolean }): Promise<unknown>
  link(existingPath: string, newPath: string): Promise<void>
  rename(oldPath: string, newPath: string): Promise<void>
  unlink(path: string): Promise<void>
  /** Removes an empty folder (a probe's own, `probe`); fails with ENOTEMPTY when something is in it. */
  rmdir(path: string): Promise<void>
  readFile(path: string): Promise<Uint8Array>
  stat(path: string): Promise<DirStat>
  lstat(path: string): Promise<DirStat>
  readlink(path: string): Promise<string>
  readdir(path: string, options: { withFileTypes: true }): Promise<Dirent[]>
  /** The file system's type (Linux `f_type`), to refuse /proc and the like; optional for test doubles. */
  statfs?(path: string): Promise<{ type: number | bigint }>
}

export interface DirStoreOptions {
  fs?: DirFs
  clock?: Clock
  /** Told once about degraded behaviour (a file system without hard links). */
  log?: (message: string) => void
  /** fsync each file before publishing it (default true: a backup should survive a power cut). */
  durable?: boolean
  /** Temp files older than this (default one hour) belong to no live writer and are removed. */
  staleTempMs?: number
  /** A lock held longer than this (or by a dead process on this host) is broken. */
  staleLockMs?: number
  /** How long putIfMatch waits for another writer's lock before giving up. */
  lockTimeoutMs?: number
  /** Create the root folder when it is missing (default true); false: a missing root is an error (doctor). */
  createRoot?: boolean
}

/**
 * Linux file systems that are views of the kernel, not storage (statfs `f_type`): no folder of ours
 * can be made there, and Node 20's recursive mkdir never returns on /proc.
 */
const PSEUDO_FILE_SYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x27e0eb, 'cgroup'],
  [0x63677270, 'cgroup2'],
  [0x64626720, 'debugfs'],
  [0x73636673, 'securityfs'],
  [0x74726163, 'tracefs'],
  [0x6165676c, 'pstore'],
  [0xcafe4a11, 'bpf'],
  [0x62656570, 'configfs'],
  [0xde5e81e4, 'efivarfs'],
  [0x65735543, 'fusectl'],
])

const TEMP_PREFIX = `${RESERVED_NAME_PREFIX}tmp-`
const LOCK_PREFIX = `${RESERVED_NAME_PREFIX}lock-`
/** link() errors that mean "this file system has no hard links", not "permission denied". */
const NO_HARD_LINKS = new Set(['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EPERM', 'EXDEV'])
/** open() with O_NOFOLLOW fails with these when the path is a symlink (Linux and macOS; FreeBSD). */
const IS_LINK = new Set(['ELOOP', 'EMLINK'])
/** Never follows a symlink at the file itself, never hangs on a FIFO. Windows has neither flag. */
const READ_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)
const HASH_BATCH = 32
/** This host, in temp file names: a temp file from a dead process on this host is a leftover. */
const HOST_TAG = createHash('sha1').update(hostname()).digest('hex').slice(0, 8)
/**
 * This process, in temp file and lock names: tells its files from those of an earlier process that had
 * the same pid (a container's CLI often has the same small pid every run).
 */
const PROCESS_TAG = randomUUID().slice(0, 8)
/** host, pid, process tag (older names have the start of their uuid there, or nothing: never ours). */
const TEMP_WRITER = /^\.garmin-s3-tmp-([0-9a-f]{8})-(\d+)-(?:([0-9a-f]{8})-)?/

function toBytes(body: Uint8Array | string): Uint8Array {
  return typeof body === 'string' ? Buffer.from(body, 'utf8') : body
}

function workFolderOf(root: string): string {
  return join(root, ...DIR_WORK_FOLDER.split('/'))
}

function isWorkKey(key: string): boolean {
  return key === DIR_WORK_FOLDER || key.startsWith(`${DIR_WORK_FOLDER}/`)
}

/** The lock file guarding compare-and-swap writes of `key` (in the store's working folder). */
export function lockPathFor(root: string, key: string): string {
  return join(workFolderOf(root), `${LOCK_PREFIX}${createHash('sha1').update(key).digest('hex')}`)
}

/** `.garmin-s3-tmp-<host>-<pid>-<process>-<uuid>`: who wrote it, so a sweep can tell a killed writer's leftover. */
function tempName(): string {
  return `${TEMP_PREFIX}${HOST_TAG}-${process.pid}-${PROCESS_TAG}-${randomUUID()}`
}

/**
 * True when the writer of a file (its pid and process tag, on this host) is gone: no process has that
 * pid, or the pid is this process's own but the tag is not (an earlier process with the same pid).
 */
function writerIsGone(pid: number, tag: unknown): boolean {
  return pid === process.pid ? tag !== PROCESS_TAG : !pidIsAlive(pid)
}

/** True for a temp file whose writer (named in it, on this host) is gone; false for other hosts and unnamed ones. */
function tempWriterIsGone(name: string): boolean {
  const match = TEMP_WRITER.exec(name)
  return match !== null && match[1] === HOST_TAG && writerIsGone(Number(match[2]), match[3])
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

function fsError(code: string, path: string): Error {
  return Object.assign(new Error(`${code}: ${path}`), { code })
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
  private readonly createRoot: boolean
  private readonly requests: Record<string, number> = {}
  /** `<root>/_garmin-s3/tmp`: temp files and locks. */
  private readonly work: string
  /** Folders known to be real folders (no link on the way from the root): checked once, not per file. */
  private readonly verified = new Set<string>()
  /** Folders on another file system than the working folder (a mount below the root): temp files go beside. */
  private readonly besideDirs = new Set<string>()
  /** The working folder made and swept, once per store instance. */
  private ready: Promise<void> | undefined
  private warnedNoLinks = false

  /** `root` should be absolute; openStore resolves it. */
  constructor(
    readonly root: string,
    options: DirStoreOptions = {},
  ) {
    this.location = root
    this.work = workFolderOf(root)
    this.fs = options.fs ?? (nodeFs as unknown as DirFs)
    this.clock = options.clock ?? systemClock
    this.log = options.log ?? ignore
    this.durable = options.durable ?? true
    this.staleTempMs = options.staleTempMs ?? 60 * 60_000
    this.staleLockMs = options.staleLockMs ?? 30_000
    this.lockTimeoutMs = options.lockTimeoutMs ?? 30_000
    this.createRoot = options.createRoot ?? true
  }

  /**
   * Whether the root is, or can be made, a folder, creating nothing: the nearest existing folder on its
   * path must be a folder (not a file) on a real file system (not /proc). A problem is a StoreError with
   * exit 2, naming the file or file system in the way. Answers whether the root exists.
   */
  async checkTarget(): Promise<boolean> {
    return (await this.missingFolders()).length === 0
  }

  /** checkTarget's walk: the folders to make, from the nearest existing one down to the root. */
  private async missingFolders(): Promise<string[]> {
    const missing: string[] = []
    let existing = this.root
    let stat: DirStat | undefined
    for (;;) {
      const path = existing
      stat = await this.fs.stat(path).catch((error: unknown) => {
        if (isMissing(error)) return undefined
        throw this.fail(error, 'open', path)
      })
      if (stat !== undefined || dirname(existing) === existing) break
      missing.unshift(existing)
      existing = dirname(existing)
    }
    const verb = existing === this.root ? 'used' : 'created'
    if (stat !== undefined && !stat.isDirectory()) {
      throw new StoreError(`the folder ${this.root} cannot be ${verb}: ${existing} is a file, not a folder`, {
        exitCode: EXIT.usage,
        hint: 'Choose another --out (a folder, or a new path whose parents are folders), or move that file away.',
      })
    }
    const pseudo = stat === undefined ? undefined : await this.pseudoFileSystem(existing)
    if (pseudo !== undefined) {
      throw new StoreError(
        `the folder ${this.root} cannot be ${verb}: ${existing} is on the ${pseudo} file system, a view of the kernel that stores no files`,
        { exitCode: EXIT.usage, hint: 'Choose a folder on a disk with --out, e.g. --out ~/garmin-data.' },
      )
    }
    return missing
  }

  private async pseudoFileSystem(path: string): Promise<string | undefined> {
    if (process.platform !== 'linux' || !this.fs.statfs) return undefined
    const info = await this.fs.statfs(path).catch(() => undefined)
    return info === undefined ? undefined : PSEUDO_FILE_SYSTEMS.get(Number(info.type))
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
    const path = keyToPath(this.root, key)
    await this.prepare()
    return this.create(path, toBytes(body))
  }

  /**
   * A create-only write made as every write is (a temp file in the working folder, then a link), then
   * removed with every folder it had to make, the working folder included: the folder is left as it
   * was found. No sweep of leftovers either (that is a writing run's job).
   */
  async probe(key: string, body: Uint8Array | string, _contentType: string): Promise<PutResult> {
    const path = keyToPath(this.root, key)
    const made: string[] = []
    let result: PutResult
    try {
      await this.checkDir(this.work, true, made)
      result = await this.create(path, toBytes(body), made)
    } catch (error) {
      await this.removeFolders(made)
      throw error
    }
    if (result === 'created') {
      this.count('DeleteObject')
      await this.fs.unlink(path).catch((error: unknown) => {
        throw this.fail(error, 'delete', path)
      })
    }
    await this.removeFolders(made)
    return result
  }

  /** Removes the folders a probe made, deepest first; one something else wrote into meanwhile stays. */
  private async removeFolders(made: string[]): Promise<void> {
    for (const dir of [...made].reverse()) {
      this.forget(dir)
      await this.fs.rmdir(dir).catch(ignore)
    }
  }

  async putIfMatch(
    key: string,
    body: Uint8Array | string,
    _contentType: string,
    expectedEtag: string | null,
  ): Promise<CasResult> {
    const path = keyToPath(this.root, key)
    const bytes = toBytes(body)
    await this.prepare()
    if (expectedEtag === null) {
      return (await this.create(path, bytes)) === 'created'
        ? { ok: true, etag: contentEtag(bytes) }
        : { ok: false }
    }
    const lock = lockPathFor(this.root, key)
    await this.acquireLock(lock, key)
    try {
      const current = await this.read(path)
      if (current === undefined || contentEtag(current.bytes) !== expectedEtag) return { ok: false }
      await this.replace(path, bytes)
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
    if (!(await this.checkDir(dirname(path), false))) return
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

  /** The file's bytes and mtime, or undefined when there is no file at `path`. Never follows a link. */
  private async read(path: string): Promise<{ bytes: Uint8Array; mtime: Date | undefined } | undefined> {
    if (!(await this.checkDir(dirname(path), false))) return undefined
    let handle: DirFileHandle
    try {
      handle = await this.fs.open(path, READ_FLAGS)
    } catch (error) {
      if (IS_LINK.has(errorCode(error) ?? '')) throw await this.linkError(path)
      if (isMissing(error)) return undefined
      throw this.fail(error, 'read', path)
    }
    try {
      const stat = await handle.stat()
      if (stat.isDirectory()) return undefined
      if (!stat.isFile()) {
        throw new StoreError(`${path} is not a regular file`, {
          hint: `Move it out of ${this.root}: garmin-s3 keeps only plain files and folders there.`,
        })
      }
      return { bytes: await handle.readFile(), mtime: stat.mtime }
    } catch (error) {
      throw this.fail(error, 'read', path)
    } finally {
      await handle.close().catch(ignore)
    }
  }

  /** The error for a symlink found below the root, naming it and where it points. */
  private async linkError(path: string): Promise<StoreError> {
    const to = await this.fs.readlink(path).catch(() => undefined)
    return new StoreError(
      `${path} is a symbolic link${to === undefined ? '' : ` (to ${to})`}; garmin-s3 does not follow links inside ${this.root}`,
      {
        hint: 'Replace the link with the real folder or file it points to, or pass that folder itself as --out (--out may be a link; nothing below it may).',
      },
    )
  }

  private notAFolder(path: string): unknown {
    return this.fail(fsError('ENOTDIR', path), 'use', path)
  }

  /** lstat, or undefined when nothing is at `path`. */
  private async lstat(path: string): Promise<DirStat | undefined> {
    try {
      return await this.fs.lstat(path)
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return undefined
      throw this.fail(error, 'read', path)
    }
  }

  /** Makes one folder (none when it exists); one this call made is added to `made` when given. */
  private async makeDir(dir: string, made: string[] | undefined): Promise<void> {
    try {
      await this.fs.mkdir(dir)
      made?.push(dir)
    } catch (error) {
      if (errorCode(error) !== 'EEXIST') throw this.fail(error, 'create folder', dir)
    }
  }

  /**
   * The root folder (it may be a link the user chose): true when it is a folder; made when `create`
   * (with the folders above it that are missing, each added to `made` when given).
   */
  private async checkRoot(create: boolean, made?: string[]): Promise<boolean> {
    const statRoot = () =>
      this.fs.stat(this.root).catch((error: unknown) => {
        if (isMissing(error)) return undefined
        throw this.fail(error, 'open', this.root)
      })
    let stat = await statRoot()
    if (stat === undefined && create) {
      if (!this.createRoot) {
        throw new StoreError(`the folder ${this.root} does not exist`, {
          exitCode: EXIT.usage,
          hint: 'Check --out for a typo: this command creates no folder (`garmin-s3 sync --out <folder>` creates it on its first run).',
        })
      }
      // One level at a time: never a recursive mkdir, which loops forever on /proc in Node 20.
      for (const dir of await this.missingFolders()) await this.makeDir(dir, made)
      stat = await statRoot()
    }
    if (stat === undefined) return false
    if (!stat.isDirectory()) {
      await this.checkTarget()
      throw this.notAFolder(this.root)
    }
    return true
  }

  /**
   * True when `dir` (the root or a folder below it) is a real folder, with real folders all the way up
   * to the root; false when it does not exist (made first when `create`). A symlink on the way is an
   * error. Checked once per folder per store instance. Each folder made is added to `made` when given.
   */
  private async checkDir(dir: string, create: boolean, made?: string[]): Promise<boolean> {
    if (this.verified.has(dir)) return true
    if (dir === this.root) {
      if (!(await this.checkRoot(create, made))) return false
    } else {
      if (dirname(dir) === dir) throw new Error(`bug: ${dir} is not inside ${this.root}`)
      if (!(await this.checkDir(dirname(dir), create, made))) return false
      let stat = await this.lstat(dir)
      if (stat === undefined && create) {
        await this.makeDir(dir, made)
        stat = await this.lstat(dir)
      }
      if (stat === undefined) return false
      if (stat.isSymbolicLink()) throw await this.linkError(dir)
      if (!stat.isDirectory()) throw this.notAFolder(dir)
    }
    this.verified.add(dir)
    return true
  }

  /** Forgets what was checked about `dir` and the folders above it (one was removed while in use). */
  private forget(dir: string): void {
    for (let d = dir; this.verified.delete(d) && d !== this.root; d = dirname(d));
  }

  /** Once per store instance, before its first write: the working folder, swept of leftovers. */
  private prepare(): Promise<void> {
    this.ready ??= (async () => {
      await this.checkDir(this.work, true)
      await this.sweep()
    })().catch((error: unknown) => {
      this.ready = undefined
      throw error
    })
    return this.ready
  }

  /** Removes killed writers' temp files and locks from the working folder. */
  private async sweep(): Promise<void> {
    let entries: Dirent[]
    try {
      entries = await this.fs.readdir(this.work, { withFileTypes: true })
    } catch {
      return // best effort: the writes that follow report a real problem
    }
    await Promise.all(
      entries
        .filter((entry) => entry.isFile())
        .map(async ({ name }) => {
          const path = join(this.work, name)
          if (name.startsWith(TEMP_PREFIX)) await this.removeTempIfStale(path, name)
          else if (name.startsWith(LOCK_PREFIX) && (await this.lockIsStale(path)))
            await this.fs.unlink(path).catch(ignore)
        }),
    )
  }

  /** A temp file is stale when its writer died (on this host) or it is older than `staleTempMs`. */
  private async removeTempIfStale(path: string, name: string): Promise<void> {
    let stale = tempWriterIsGone(name)
    if (!stale) {
      const stat = await this.fs.lstat(path).catch(() => undefined)
      stale = stat !== undefined && this.clock.now() - stat.mtimeMs > this.staleTempMs
    }
    if (stale) await this.fs.unlink(path).catch(ignore)
  }

  /**
   * Writes `bytes` to a fresh temp file in `folder` and returns its path; removes it on any failure.
   * A folder made again is added to `made` when given.
   */
  private async writeTemp(
    folder: string,
    bytes: Uint8Array,
    made: string[] | undefined,
    retried = false,
  ): Promise<string> {
    const temp = join(folder, tempName())
    let handle: DirFileHandle
    try {
      handle = await this.fs.open(temp, 'wx')
    } catch (error) {
      // The folder was there earlier in this run and is gone now (removed by hand): make it again, once.
      if (retried || !isMissing(error)) throw this.fail(error, 'write to', folder)
      this.forget(folder)
      await this.checkDir(folder, true, made)
      return this.writeTemp(folder, bytes, made, true)
    }
    try {
      await handle.writeFile(bytes)
      if (this.durable) await handle.sync()
      await handle.close()
    } catch (error) {
      await handle.close().catch(ignore)
      await this.fs.unlink(temp).catch(ignore)
      throw this.fail(error, 'write to', folder)
    }
    return temp
  }

  /** Where temp files for `dir` go: the working folder, unless `dir` is on another file system. */
  private tempFolderFor(dir: string): string {
    return this.besideDirs.has(dir) ? dir : this.work
  }

  /** A create-only write (the working folder is ready); each folder it makes is added to `made` when given. */
  private async create(path: string, bytes: Uint8Array, made?: string[]): Promise<PutResult> {
    const dir = dirname(path)
    await this.checkDir(dir, true, made)
    this.count('PutObject')
    for (let attempt = 0; ; attempt++) {
      const temp = await this.writeTemp(this.tempFolderFor(dir), bytes, made)
      try {
        await this.fs.link(temp, path)
        return 'created'
      } catch (error) {
        const code = errorCode(error)
        if (code === 'EEXIST') return await this.existing(path)
        if (code === 'EXDEV' && !this.besideDirs.has(dir)) {
          this.besideDirs.add(dir) // a mount below the root: publish from a temp file beside the target
        } else if (code === 'ENOENT' && attempt === 0) {
          this.forget(dir) // the folder was removed while in use: make it again, once
          await this.checkDir(dir, true, made)
        } else if (code && NO_HARD_LINKS.has(code)) {
          return await this.createWithoutLink(temp, path)
        } else {
          throw this.fail(error, 'write', path)
        }
      } finally {
        await this.fs.unlink(temp).catch(ignore)
      }
    }
  }

  /** 'exists' for a file already at `path`; an error if what is there is a link. */
  private async existing(path: string): Promise<PutResult> {
    const stat = await this.lstat(path)
    if (stat?.isSymbolicLink()) throw await this.linkError(path)
    return 'exists'
  }

  /** Renames new bytes over `path` (compare-and-swap, under the key's lock). */
  private async replace(path: string, bytes: Uint8Array): Promise<void> {
    const dir = dirname(path)
    this.count('PutObject')
    for (;;) {
      const temp = await this.writeTemp(this.tempFolderFor(dir), bytes, undefined)
      try {
        await this.fs.rename(temp, path)
        return
      } catch (error) {
        await this.fs.unlink(temp).catch(ignore)
        if (errorCode(error) !== 'EXDEV' || this.besideDirs.has(dir)) throw this.fail(error, 'write', path)
        this.besideDirs.add(dir)
      }
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
    if ((await this.lstat(path)) !== undefined) return this.existing(path)
    try {
      await this.fs.rename(temp, path)
    } catch (error) {
      throw this.fail(error, 'write', path)
    }
    return 'created'
  }

  /** Returns once the lock is held, or throws after `lockTimeoutMs`. */
  private async acquireLock(lock: string, key: string): Promise<void> {
    const started = this.clock.now()
    let delay = 1
    let remade = false
    for (;;) {
      try {
        const handle = await this.fs.open(lock, 'wx')
        try {
          await handle.writeFile(
            JSON.stringify({ pid: process.pid, tag: PROCESS_TAG, host: hostname(), at: this.clock.now() }),
          )
        } finally {
          await handle.close()
        }
        return
      } catch (error) {
        const code = errorCode(error)
        if (isMissing(error) && !remade) {
          // The working folder was removed while in use: make it again, once.
          remade = true
          this.forget(this.work)
          await this.checkDir(this.work, true)
          continue
        }
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
      const owner = JSON.parse(text) as { pid?: unknown; tag?: unknown; host?: unknown; at?: unknown }
      if (owner.host === hostname() && typeof owner.pid === 'number' && writerIsGone(owner.pid, owner.tag))
        return true
      return typeof owner.at === 'number' && this.clock.now() - owner.at > this.staleLockMs
    } catch (error) {
      if (isMissing(error)) return false // released meanwhile: just retry
      // Unreadable or half-written lock: judge by its age.
      const stat = await this.fs.lstat(lock).catch(() => undefined)
      return stat !== undefined && this.clock.now() - stat.mtimeMs > this.staleLockMs
    }
  }

  /** Depth-first walk of the folder for `dirKey`, yielding files whose key starts with `prefix`. */
  private async *walk(dirKey: string, prefix: string): AsyncGenerator<ObjectInfo> {
    if (isWorkKey(dirKey)) return
    const dirPath = dirKey === '' ? this.root : keyToPath(this.root, dirKey)
    let entries: Dirent[]
    try {
      if (!(await this.checkDir(dirPath, false))) return
      entries = await this.fs.readdir(dirPath, { withFileTypes: true })
      this.count('ListObjectsV2')
    } catch (error) {
      if (isMissing(error)) return
      throw this.fail(error, 'list', dirPath)
    }
    // Directories sort as "name/" so the walk yields keys in the same byte order as S3 lists them.
    const items: { key: string; sortKey: string; isDir: boolean }[] = []
    for (const entry of entries) {
      const path = join(dirPath, entry.name)
      if (entry.name.startsWith(RESERVED_NAME_PREFIX)) {
        // Beside the data: written by earlier versions (or on a mount below the root).
        if (entry.name.startsWith(TEMP_PREFIX)) await this.removeTempIfStale(path, entry.name)
        else if (entry.name.startsWith(LOCK_PREFIX) && (await this.lockIsStale(path)))
          await this.fs.unlink(path).catch(ignore)
        continue
      }
      if (pathProblem(entry.name)) continue // not a name a key could have
      const key = dirKey === '' ? entry.name : `${dirKey}/${entry.name}`
      if (isWorkKey(key)) continue
      const asDir = `${key}/`
      const underPrefix = asDir.startsWith(prefix) || prefix.startsWith(asDir)
      if (entry.isSymbolicLink()) {
        if (underPrefix || key.startsWith(prefix)) throw await this.linkError(path)
      } else if (entry.isDirectory()) {
        if (underPrefix) {
          this.verified.add(path) // a real folder inside a checked one
          items.push({ key, sortKey: asDir, isDir: true })
        }
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
}
