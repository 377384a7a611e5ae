/**
 * Where Garmin tokens live between runs: a private file on the user's machine, or an SSM SecureString
 * parameter for Lambda and CI. Both replace the whole value at once, so a run killed mid-write leaves
 * either the old or the new tokens, never half of each.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { link, lstat, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { homedir } from 'node:os'
import { basename, dirname, join, resolve } from 'node:path'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { awsErrorName, isNoRegion } from '../aws/errors.js'
import { regionFromEnv } from '../aws/region.js'
import { type Clock, systemClock } from '../clock.js'
import { EXIT, GarminS3Error, UsageError } from '../errors.js'
import { makePrivateFolder, type OpenNewFile, openNewFile, probeNewFile } from '../files.js'
import { TokenStoreError } from './errors.js'
import { shellWord, signInCommand } from './sign-in-command.js'
import { makePointer, readPointer, tokenFileKind, validateStoredTokens } from './token-format.js'
import type { StoredTokens, TokenPointer, TokenStore, WriteCheck } from './types.js'

/** `$XDG_CONFIG_HOME/garmin-s3/tokens.json`, else `~/.config/garmin-s3/tokens.json`. */
export function defaultTokenPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME?.trim() ? env.XDG_CONFIG_HOME : join(env.HOME || homedir(), '.config')
  return join(base, 'garmin-s3', 'tokens.json')
}

function isErrno(error: unknown, code: string): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === code
}

/** Whether a process of this machine runs under `pid` (one of another user counts as running). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return !isErrno(error, 'ESRCH')
  }
}

/** How long a refresh waits for another process's refresh of the same file before giving up. */
const LOCK_WAIT_MS = 60_000
/** A lock older than this was left by a killed process (a refresh takes seconds). */
const LOCK_STALE_MS = 120_000
const LOCK_POLL_MS = 100
/** A lock file seen empty or unreadable this long was left by a process killed before filling it. */
const LOCK_UNFILLED_MS = 2_000
/** Breaking a stale lock takes milliseconds: a breaker older than this was left by a killed process. */
const BREAK_STALE_MS = 10_000

export interface FileTokenStoreOptions {
  /** Opens the SSM store a pointer file names (tests bind it to their emulator). */
  openSsm?: (parameterName: string, region: string | undefined) => TokenStore
  /** Waits between lock polls and dates lock files. */
  clock?: Clock
  /** Hard-links a file (`fs.link`); tests give one that fails as a file system without hard links does. */
  hardLink?: (existingPath: string, newPath: string) => Promise<void>
  /**
   * Creates a new file that must not exist yet (`fs.open` with O_CREAT | O_EXCL), as every token write
   * does first; tests give one that fails as a read-only or immutable folder does.
   */
  openExclusive?: OpenNewFile
  /**
   * The path was chosen (--token-store, GARMIN_S3_TOKEN_STORE), not the default: a hint that gives a
   * command names it, or the command would sign in to the default file instead.
   */
  named?: boolean
}

/**
 * A private file. It holds either the tokens or, after `deploy` moved the session into SSM, a pointer
 * to the parameter that now holds them (token-format.ts), so local commands go on using the one chain.
 */
export class FileTokenStore implements TokenStore {
  readonly path: string
  location: string
  private readonly openSsm: NonNullable<FileTokenStoreOptions['openSsm']>
  private readonly clock: Clock
  private readonly hardLink: NonNullable<FileTokenStoreOptions['hardLink']>
  private readonly openExclusive: OpenNewFile
  private readonly named: boolean
  /** The store the last read pointer named (`ssm:/...`), while this file is a pointer. */
  private followed: string | undefined

  constructor(path?: string, options: FileTokenStoreOptions = {}) {
    this.path = resolve(path ?? defaultTokenPath())
    this.location = this.path
    this.openSsm = options.openSsm ?? ((name, region) => new SsmTokenStore(name, undefined, region))
    this.clock = options.clock ?? systemClock
    this.hardLink = options.hardLink ?? link
    this.named = options.named === true
    this.openExclusive = options.openExclusive ?? openNewFile
  }

  async load(): Promise<StoredTokens | undefined> {
    this.followed = undefined
    const value = await this.readJson()
    if (value === undefined) return undefined
    const pointed = this.followPointer(value)
    if (pointed) return pointed.load().catch((error: unknown) => Promise.reject(this.viaPointer(error)))
    this.location = this.path
    return validateStoredTokens(value, this.path, this.signInCommand(value))
  }

  /**
   * The command that replaces what this file holds with new tokens: `login` refuses, without `--force`,
   * a file that is no token file (checkWritable), and a path of the user's choosing must be named.
   */
  private signInCommand(value: unknown): string {
    return signInCommand(this, value === FOREIGN || tokenFileKind(value) === undefined ? '--force' : '')
  }

  /**
   * ` --token-store <path>` when the path was chosen, even the default one: without it a command would
   * use whatever GARMIN_S3_TOKEN_STORE names then, or the default file.
   */
  get storeFlag(): string {
    return this.named ? ` --token-store ${shellWord(this.path)}` : ''
  }

  noTokensHint(): string {
    const sign = signInCommand(this)
    if (!this.followed) return `Run \`${sign}\` first (or pass the right --token-store).`
    return (
      `${this.path} points to ${this.followed}, which holds no tokens (deploy moved your session there; was that deployment destroyed, or are these AWS credentials another account's?). ` +
      `\`${sign}\` signs in here and replaces the pointer with the tokens; \`garmin-s3 login --token-store ${this.followed}\` signs the deployment in again instead, and the pointer works again.`
    )
  }

  /**
   * An error of the parameter this file points to, saying so: a local command that needs AWS only
   * because `deploy` moved the session is otherwise a puzzle, and the way back is not obvious. A
   * login cannot replace a pointer it cannot read through (it might fork the deployment's token
   * chain), so the way back is logout, then login.
   */
  private viaPointer(error: unknown, preflight = false): unknown {
    if (!(error instanceof GarminS3Error)) return error
    const message = `${error.message} ${this.path} points there: deploy moved your session into that parameter.`
    const hint = `${error.hint ? `${error.hint} ` : ''}If that deployment is gone, \`garmin-s3 logout${this.storeFlag}\` removes the pointer and \`${signInCommand(this)}\` signs you in here again.${preflight ? ' Nothing was sent to Garmin.' : ''}`
    if (error instanceof UsageError) return new UsageError(message, { hint, cause: error })
    return new TokenStoreError(message, { hint, cause: error, unusable: error.exitCode === EXIT.auth })
  }

  /** The SSM parameter this file points to, when `deploy` moved the session there. */
  async pointer(): Promise<TokenPointer | undefined> {
    const value = await this.readJson({ foreignOk: true })
    return value === undefined || value === FOREIGN ? undefined : readPointer(value)
  }

  async save(tokens: StoredTokens): Promise<void> {
    const value = await this.readJson().catch(() => undefined)
    const pointed = this.pointerToWrite(value)
    // A pointer to a parameter that is gone (the deployment was destroyed): the login is local again.
    if (pointed && (await pointed.load()) !== undefined) {
      await pointed.save(tokens)
      return
    }
    this.location = this.path
    await this.writeAtomically(`${JSON.stringify(tokens, null, 2)}\n`)
  }

  /** Replaces the tokens in this file by a pointer to `store` (`ssm:/...`), where they now live. */
  async pointTo(store: string, region: string | undefined): Promise<void> {
    await this.writeAtomically(`${JSON.stringify(makePointer(store, region), null, 2)}\n`)
  }

  /** Replaces the pointer in this file by the tokens themselves: the session is local again. */
  async takeBack(tokens: StoredTokens): Promise<void> {
    this.location = this.path
    await this.writeAtomically(`${JSON.stringify(tokens, null, 2)}\n`)
  }

  /**
   * Before anything costs a sign-in: the file may be created or replaced here. Refuses a symlink, a
   * FIFO or folder at the path, an unsafe folder, (unless `force`) a file that holds no tokens, and a
   * folder that does not take a new file (read-only, immutable, full): the folder is created if need
   * be, and a temporary file is created in it and removed, as every token write does first.
   */
  async checkWritable(options: WriteCheck = {}): Promise<void> {
    await this.ensureFolder('preflight')
    const value = await this.checkTarget(options)
    // A pointer: the tokens go to the parameter it names (save), which needs its own check, and save
    // reads it first (a parameter that is gone makes the login local again): one that cannot be read
    // would fail the save after the sign-in.
    const pointed = this.pointerToWrite(value)
    if (pointed) {
      await pointed.checkWritable?.()
      await pointed.load().catch((error: unknown) => Promise.reject(this.viaPointer(error, true)))
    }
    const dir = dirname(this.path)
    try {
      await probeNewFile(this.tempPath(), this.openExclusive)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
      throw new UsageError(
        `Cannot write the token file ${this.path}: ${dir} does not take new files (${code}).`,
        {
          hint: `Make ${dir} writable (is it on a read-only mount, or immutable? \`lsattr -d ${dir}\`), or point --token-store (or GARMIN_S3_TOKEN_STORE) at a file in a folder you can write. Nothing was sent to Garmin.`,
          cause: error,
        },
      )
    }
  }

  /** The file may be replaced: no symlink, FIFO or folder there, and (unless `force`) no foreign file. */
  private async checkTarget(options: WriteCheck): Promise<unknown> {
    await this.checkFolder()
    const value = await this.readJson({ foreignOk: true })
    if (value === FOREIGN || (value !== undefined && tokenFileKind(value) === undefined)) {
      if (!options.force) throw this.foreignError('overwrite')
    }
    return value
  }

  async clear(options: WriteCheck = {}): Promise<boolean> {
    await this.checkFolder()
    const value = await this.readJson({ foreignOk: true })
    if (value === undefined) {
      // An empty file holds no tokens (readJson): nothing was stored, but signing out leaves no file.
      await unlink(this.path).catch((error: unknown) => {
        if (!isErrno(error, 'ENOENT')) throw this.deleteError(error)
      })
      return false
    }
    if (!options.force && (value === FOREIGN || tokenFileKind(value) === undefined)) {
      throw this.foreignError('delete')
    }
    try {
      await unlink(this.path)
      return true
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return false
      throw this.deleteError(error)
    }
  }

  private deleteError(error: unknown): TokenStoreError {
    return new TokenStoreError(`Cannot delete the token file ${this.path}: ${(error as Error).message}`, {
      cause: error,
    })
  }

  /**
   * One refresh at a time per token file, across processes: a lock file beside it. Inside the lock the
   * file is read again, and when another process rotated the tokens meanwhile, those are used instead.
   */
  async lockedRefresh(stale: StoredTokens, refresh: (current: StoredTokens) => Promise<StoredTokens>) {
    const value = await this.readJson()
    const pointed = value === undefined ? undefined : this.followPointer(value)
    if (pointed?.lockedRefresh) return pointed.lockedRefresh(stale, refresh)
    const release = await this.lock()
    try {
      const current = await this.load()
      if (current && current.refreshToken !== stale.refreshToken) return current
      return await refresh(current ?? stale)
    } finally {
      await release()
    }
  }

  /** Where a save goes: the store a pointer names; a broken pointer is replaced like any token file. */
  private pointerToWrite(value: unknown): TokenStore | undefined {
    if (value === undefined || value === FOREIGN) return undefined
    try {
      return this.followPointer(value)
    } catch (error) {
      if (error instanceof TokenStoreError) return undefined
      throw error
    }
  }

  private followPointer(value: unknown): TokenStore | undefined {
    const pointer = readPointer(value, this.signInCommand(value))
    if (!pointer) return undefined
    this.followed = pointer.store
    this.location = `${pointer.store} (via ${this.path})`
    return this.openSsm(pointer.store.slice('ssm:'.length), pointer.region)
  }

  private async lock(): Promise<() => Promise<void>> {
    const lockPath = `${this.path}.lock`
    const deadline = this.clock.now() + LOCK_WAIT_MS
    let unfilledSince: number | undefined
    for (;;) {
      if (await this.createLock(lockPath)) return () => unlink(lockPath).catch(() => undefined)
      const seen = await this.lockHolder(lockPath)
      if (seen === 'gone') {
        unfilledSince = undefined
        continue
      }
      let stale: boolean
      if (seen.owner === undefined) {
        unfilledSince ??= this.clock.now()
        stale = this.clock.now() - unfilledSince >= LOCK_UNFILLED_MS
      } else {
        unfilledSince = undefined
        stale = this.isStale(seen.owner, LOCK_STALE_MS)
      }
      if (stale && (await this.breakLock(lockPath, seen.text))) continue
      if (this.clock.now() >= deadline) {
        throw new TokenStoreError(
          `Another garmin-s3 process has been refreshing ${this.path} for a minute.`,
          {
            hint: `If no other garmin-s3 is running, delete ${lockPath} and run again.`,
          },
        )
      }
      await this.clock.sleep(LOCK_POLL_MS)
    }
  }

  /**
   * Removes a lock judged stale, unless it changed meanwhile. Two waiters can judge the same dead lock
   * at once, and the second would delete the lock the first had just made. So breaking takes a lock of
   * its own (`.lock.break`), under which the lock is read again and removed only if it is still the one
   * judged. False while another waiter is breaking it: wait, and look again.
   */
  private async breakLock(lockPath: string, judged: string): Promise<boolean> {
    const breaker = `${lockPath}.break`
    if (!(await this.createLock(breaker))) {
      const holder = await this.lockHolder(breaker)
      // Breaking takes milliseconds: a breaker whose owner died or that is older than that is left over.
      if (holder !== 'gone' && holder.owner !== undefined && this.isStale(holder.owner, BREAK_STALE_MS))
        await unlink(breaker).catch(() => undefined)
      return false
    }
    try {
      const current = await this.lockHolder(lockPath)
      if (current !== 'gone' && current.text === judged) await unlink(lockPath).catch(() => undefined)
    } finally {
      await unlink(breaker).catch(() => undefined)
    }
    return true
  }

  /**
   * Creates the lock whole, or answers false when another process holds it. The owner's pid is written
   * to a private temporary file first and hard-linked into place (link refuses an existing name, as
   * O_EXCL does), so no one ever sees our lock empty. Where the file system has no hard links, the lock
   * is created with O_EXCL and filled after: an empty lock is then waited for (lock()), not taken.
   */
  private async createLock(lockPath: string): Promise<boolean> {
    const text = JSON.stringify({ pid: process.pid, at: this.clock.now() })
    const temp = `${lockPath}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
    try {
      await writeFile(temp, text, { flag: 'wx', mode: 0o600 })
      try {
        await this.hardLink(temp, lockPath)
        return true
      } finally {
        await unlink(temp).catch(() => undefined)
      }
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false
      if (!['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV'].some((code) => isErrno(error, code))) {
        throw this.lockError(error)
      }
    }
    try {
      const handle = await openNewFile(lockPath, 0o600)
      try {
        await handle.writeFile(text)
      } finally {
        await handle.close()
      }
      return true
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false
      throw this.lockError(error)
    }
  }

  private lockError(error: unknown): TokenStoreError {
    return new TokenStoreError(`Cannot lock the token file ${this.path}: ${(error as Error).message}`, {
      cause: error,
    })
  }

  /**
   * The lock's text and its owner (undefined while the file is not yet written, or unreadable as an
   * owner), or 'gone' when it vanished meanwhile.
   */
  private async lockHolder(
    lockPath: string,
  ): Promise<{ text: string; owner: { pid?: unknown; at?: unknown } | undefined } | 'gone'> {
    let text: string
    try {
      text = await readFile(lockPath, 'utf8')
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return 'gone'
      throw this.lockError(error)
    }
    try {
      const owner = JSON.parse(text) as unknown
      return { text, owner: typeof owner === 'object' && owner !== null ? owner : undefined }
    } catch {
      return { text, owner: undefined }
    }
  }

  /** A lock (or breaker) whose owner is dead, or that is older than `staleMs`. */
  private isStale(holder: { pid?: unknown; at?: unknown }, staleMs: number): boolean {
    if (typeof holder.at !== 'number' || this.clock.now() - holder.at > staleMs) return true
    return typeof holder.pid !== 'number' || !processAlive(holder.pid)
  }

  /**
   * The parsed file, undefined when there is none. Opened with O_NOFOLLOW (a symlink is refused by the
   * kernel) and O_NONBLOCK (a FIFO cannot hang the run), then anything but a regular file is refused.
   * With `foreignOk`, a file that is not JSON answers FOREIGN instead of an error.
   */
  private async readJson(options: { foreignOk: true }): Promise<unknown | typeof FOREIGN>
  private async readJson(): Promise<unknown>
  private async readJson(options: { foreignOk?: boolean } = {}): Promise<unknown> {
    await this.checkFolder()
    let handle: Awaited<ReturnType<typeof open>>
    try {
      handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK)
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined
      if (isErrno(error, 'ELOOP')) throw this.symlinkError(this.path)
      if (isErrno(error, 'EISDIR')) throw this.notAFileError('a folder')
      throw new TokenStoreError(`Cannot read the token file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    try {
      const info = await handle.stat()
      if (info.isDirectory()) throw this.notAFileError('a folder')
      if (!info.isFile()) throw this.notAFileError('a pipe, socket or device')
      const text = await handle.readFile({ encoding: 'utf8' })
      // An empty file holds no tokens (and no secret, whatever its mode): the same as no file, for
      // every command (sync, status, doctor: "no tokens, run garmin-s3 login"; login replaces it).
      if (text.trim() === '') return undefined
      if (!options.foreignOk && (info.mode & 0o077) !== 0) {
        throw new TokenStoreError(
          `The token file ${this.path} can be read by other users (mode ${(info.mode & 0o777).toString(8)}).`,
          { hint: `Run \`chmod 600 ${this.path}\`, then run garmin-s3 again.` },
        )
      }
      let value: unknown
      try {
        value = JSON.parse(text)
      } catch {
        if (options.foreignOk) return FOREIGN
        throw new TokenStoreError(`The token file ${this.path} is not valid JSON.`, {
          unusable: true,
          hint: `Run \`${this.signInCommand(FOREIGN)}\` to replace it.`,
        })
      }
      return value
    } finally {
      await handle.close()
    }
  }

  /**
   * The folder holding the tokens: not a symlink (it could be redirected elsewhere), owned by this
   * user, and writable by no one else (anyone who can write it can swap the file).
   */
  private async checkFolder(): Promise<void> {
    const dir = dirname(this.path)
    let info: Awaited<ReturnType<typeof lstat>>
    try {
      info = await lstat(dir)
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return
      if (isErrno(error, 'ENOTDIR')) throw this.notAFolderError(await fileAncestor(dir))
      throw error
    }
    if (info.isSymbolicLink()) throw this.symlinkError(dir)
    if (!info.isDirectory()) throw this.notAFolderError(dir)
    const uid = process.getuid?.()
    if (uid !== undefined && uid !== 0 && info.uid !== uid) {
      throw new UsageError(`The folder ${dir} holding the token file belongs to another user.`, {
        hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a file in a folder of your own.',
      })
    }
    if ((info.mode & 0o022) !== 0) {
      // A sticky folder (/tmp, /var/tmp) is shared on purpose: closing it would break everyone else.
      const shared = (info.mode & 0o1000) !== 0
      const privateDir = join(dir, 'garmin-s3')
      throw new UsageError(
        `The folder ${dir} holding the token file can be written by other users (mode ${(info.mode & 0o7777).toString(8)}).`,
        {
          hint: shared
            ? `It is a shared folder: keep the tokens in a private one, e.g. \`mkdir -m 700 ${privateDir}\` and --token-store ${join(privateDir, basename(this.path))}.`
            : `Run \`chmod 700 ${dir}\`, then run garmin-s3 again.`,
        },
      )
    }
  }

  private async writeAtomically(text: string): Promise<void> {
    const dir = dirname(this.path)
    await this.ensureFolder('write')
    await this.checkTarget({ force: true })
    const temp = this.tempPath()
    try {
      const handle = await this.openExclusive(temp, 0o600)
      try {
        await handle.writeFile(text, 'utf8')
        await handle.sync()
      } finally {
        await handle.close()
      }
      await rename(temp, this.path)
    } catch (error) {
      await unlink(temp).catch(() => undefined)
      throw new TokenStoreError(`Cannot write the token file ${this.path}: ${(error as Error).message}`, {
        cause: error,
      })
    }
    await syncDirectory(dir)
    await this.sweepLeftovers(dir)
  }

  /**
   * Creates the private folder the file goes in, when it is not there yet. Before a sign-in
   * (`preflight`) a folder that cannot be made is a usage error (exit 2: nothing was done).
   */
  private async ensureFolder(when: 'preflight' | 'write'): Promise<void> {
    await this.checkFolder()
    const dir = dirname(this.path)
    try {
      await makePrivateFolder(dir)
    } catch (error) {
      if (isErrno(error, 'ENOTDIR') || isErrno(error, 'EEXIST')) {
        throw this.notAFolderError(await fileAncestor(dir))
      }
      const message = `Cannot create the folder ${dir} for the token file: ${(error as Error).message}`
      if (when === 'write') throw new TokenStoreError(message, { cause: error })
      throw new UsageError(message, {
        hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a file in a folder you can write. Nothing was sent to Garmin.',
        cause: error,
      })
    }
  }

  /** A temporary file beside the token file, named so that sweepLeftovers knows it. */
  private tempPath(): string {
    return join(dirname(this.path), `.tokens.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  }

  /**
   * Removes the temporary files of token writes and locks that a killed process left beside this file
   * (they carry its pid: `.tokens.<pid>.<hex>.tmp`, `tokens.json.lock[.break].<pid>.<hex>.tmp`), once
   * that process is gone. Best effort: a folder that cannot be listed keeps them.
   */
  private async sweepLeftovers(dir: string): Promise<void> {
    const lock = `${basename(this.path)}.lock`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const ours = new RegExp(`^(?:\\.tokens|${lock}(?:\\.break)?)\\.(\\d+)\\.[0-9a-f]{12}\\.tmp$`)
    const names = await readdir(dir).catch(() => [] as string[])
    for (const name of names) {
      const pid = Number(ours.exec(name)?.[1])
      if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid))
        await unlink(join(dir, name)).catch(() => undefined)
    }
  }

  private foreignError(action: 'overwrite' | 'delete'): UsageError {
    return new UsageError(`Refusing to ${action} ${this.path}: it is not a garmin-s3 token file.`, {
      hint: `Check --token-store (or GARMIN_S3_TOKEN_STORE); pass --force to ${action} it anyway.`,
    })
  }

  private notAFolderError(dir: string): UsageError {
    return new UsageError(`The token path ${this.path} is inside ${dir}, which is not a folder.`, {
      hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a file in a private folder.',
    })
  }

  private notAFileError(what: string): UsageError {
    return new UsageError(`The token path ${this.path} is ${what}, not a file.`, {
      hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a file in a private folder.',
    })
  }

  /** Like any token path that is no private file: nothing was done, exit 2. */
  private symlinkError(path: string): UsageError {
    return new UsageError(`Refusing to use ${path}: it is a symbolic link.`, {
      hint: 'Point --token-store (or GARMIN_S3_TOKEN_STORE) at a real file in a private folder.',
    })
  }
}

/** The nearest existing ancestor of `dir`: below a regular file, that file. */
async function fileAncestor(dir: string): Promise<string> {
  let path = dir
  for (;;) {
    const parent = dirname(path)
    const found = await lstat(path).then(
      () => true,
      () => false,
    )
    if (found || parent === path) return path
    path = parent
  }
}

/** A file that is not JSON: not ours to overwrite or delete. */
const FOREIGN = Symbol('foreign')

async function syncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable; some filesystems refuse fsync on a directory, which is harmless.
  try {
    const handle = await open(dir, constants.O_RDONLY)
    try {
      await handle.sync()
    } finally {
      await handle.close()
    }
  } catch {
    // best effort
  }
}

const SSM_NAME = /^[a-zA-Z0-9_.\-/]{1,1011}$/

type SsmSdk = typeof import('@aws-sdk/client-ssm')
let ssmSdk: Promise<SsmSdk> | undefined
/** The SSM SDK, loaded on first use: a run with a token file never pays for it (~0.2 s per start). */
const loadSsmSdk = () => (ssmSdk ??= import('@aws-sdk/client-ssm'))

function isParameterNotFound(sdk: SsmSdk, error: unknown): boolean {
  return error instanceof sdk.ParameterNotFound || (error as Error).name === 'ParameterNotFound'
}

export class SsmTokenStore implements TokenStore {
  readonly location: string
  private client: SSMClient | undefined

  /** `client` lets tests and callers pass their own; the default honours AWS_ENDPOINT_URL(_SSM), AWS_REGION, profiles. */
  constructor(
    readonly parameterName: string,
    client?: SSMClient,
    /** The parameter's region, when it is not the environment's (a pointer file names it). */
    private readonly region?: string,
  ) {
    if (!SSM_NAME.test(parameterName) || parameterName.includes('//') || parameterName.endsWith('/')) {
      throw new UsageError(`"${parameterName}" is not a valid SSM parameter name.`, {
        hint: 'Use ssm:/<path>, e.g. ssm:/garmin-s3/tokens.',
      })
    }
    this.location = `ssm:${parameterName}`
    this.client = client
  }

  /** An SSM store is always named: the default is a file. */
  get storeFlag(): string {
    return ` --token-store ${shellWord(this.location)}`
  }

  /** What replaces the parameter's value with new tokens (a save overwrites whatever is there). */
  private get signInCommand(): string {
    return signInCommand(this)
  }

  noTokensHint(): string {
    return `Run \`${this.signInCommand}\` first (or pass the right --token-store).`
  }

  private async ssm(): Promise<{ sdk: SsmSdk; client: SSMClient }> {
    const sdk = await loadSsmSdk()
    this.client ??= new sdk.SSMClient(this.region ? { region: this.region } : {})
    return { sdk, client: this.client }
  }

  async load(): Promise<StoredTokens | undefined> {
    const { sdk, client } = await this.ssm()
    let text: string | undefined
    try {
      const out = await client.send(
        new sdk.GetParameterCommand({ Name: this.parameterName, WithDecryption: true }),
      )
      text = out.Parameter?.Value
    } catch (error) {
      if (isParameterNotFound(sdk, error)) return undefined
      throw this.awsError('read', 'ssm:GetParameter (and kms:Decrypt)', error)
    }
    if (text === undefined) return undefined
    let value: unknown
    try {
      value = JSON.parse(text)
    } catch {
      throw new TokenStoreError(`The SSM parameter ${this.parameterName} does not hold JSON tokens.`, {
        unusable: true,
        hint: `Run \`${this.signInCommand}\` to replace it.`,
      })
    }
    return validateStoredTokens(value, this.location, this.signInCommand)
  }

  async save(tokens: StoredTokens): Promise<void> {
    const { sdk, client } = await this.ssm()
    try {
      await client.send(
        new sdk.PutParameterCommand({
          Name: this.parameterName,
          Value: JSON.stringify(tokens),
          Type: 'SecureString',
          Overwrite: true,
          Description: 'garmin-s3: Garmin Connect tokens (rotated on refresh)',
        }),
      )
    } catch (error) {
      throw this.awsError('write', 'ssm:PutParameter (and kms:Encrypt)', error)
    }
  }

  /**
   * SSM has no conditional write, so a refresh reads the parameter again first: when another run
   * (the function, a laptop through its pointer) rotated the tokens meanwhile, those are used instead
   * of sending a refresh token Garmin has already replaced.
   */
  async lockedRefresh(stale: StoredTokens, refresh: (current: StoredTokens) => Promise<StoredTokens>) {
    const current = await this.load()
    if (current && current.refreshToken !== stale.refreshToken) return current
    return refresh(current ?? stale)
  }

  /**
   * Before a sign-in, what can be known without a request: the SDK finds a region (the environment, the
   * profile). Credentials and permissions are proved only by the write itself.
   */
  async checkWritable(): Promise<void> {
    const { client } = await this.ssm()
    let region: string | undefined
    try {
      region = await client.config.region()
    } catch (error) {
      if (!isNoRegion(error)) throw error
    }
    if (!region?.trim()) throw this.noRegion({ preflight: true })
  }

  async clear(): Promise<boolean> {
    const { sdk, client } = await this.ssm()
    try {
      await client.send(new sdk.DeleteParameterCommand({ Name: this.parameterName }))
      return true
    } catch (error) {
      if (isParameterNotFound(sdk, error)) return false
      throw this.awsError('delete', 'ssm:DeleteParameter', error)
    }
  }

  /**
   * A missing region is a usage error (exit 2), as for every AWS caller (src/aws/errors.ts); the token
   * store takes its region from the environment or the profile only, never from a command's --region.
   */
  private noRegion(options: { cause?: unknown; preflight?: boolean }): UsageError {
    const hint =
      'Set AWS_REGION (e.g. AWS_REGION=us-east-1), or a region in your AWS profile (AWS_PROFILE, ~/.aws/config), then run again.'
    return new UsageError(`No AWS region configured for the SSM token store ${this.location}.`, {
      hint: options.preflight ? `${hint} Nothing was sent to Garmin.` : hint,
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    })
  }

  private awsError(action: string, permission: string, error: unknown): GarminS3Error {
    if (isNoRegion(error)) return this.noRegion({ cause: error })
    const name = awsErrorName(error) ?? 'Error'
    return new TokenStoreError(`Cannot ${action} the SSM parameter ${this.parameterName} (${name}).`, {
      hint: `Check the AWS credentials and region, and that they allow ${permission} on this parameter.`,
      cause: error,
    })
  }
}

/**
 * The store named by `--token-store` / GARMIN_S3_TOKEN_STORE: `ssm:/<name>` for SSM, anything else is a
 * file path (`~/` expanded). Default: the private file under the XDG config folder.
 */
export function openTokenStore(
  spec: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  fileOptions: FileTokenStoreOptions = {},
): TokenStore {
  const chosen = (spec ?? env.GARMIN_S3_TOKEN_STORE)?.trim()
  if (!chosen) return new FileTokenStore(defaultTokenPath(env), fileOptions)
  if (chosen.startsWith('ssm:')) {
    const name = chosen.slice('ssm:'.length)
    if (!name.startsWith('/')) {
      throw new UsageError(`"${chosen}" is not an SSM token store.`, {
        hint: 'Use ssm:/<path>, e.g. ssm:/garmin-s3/tokens.',
      })
    }
    // The environment's region (AWS_REGION, AWS_DEFAULT_REGION), else the SDK's chain (the profile).
    return new SsmTokenStore(name, undefined, regionFromEnv(undefined, env))
  }
  const home = env.HOME || homedir()
  const path = chosen === '~' ? home : chosen.startsWith('~/') ? join(home, chosen.slice(2)) : chosen
  return new FileTokenStore(path, { named: true, ...fileOptions })
}
