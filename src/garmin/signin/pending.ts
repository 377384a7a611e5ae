/**
 * A sign-in waiting for its verification code, kept between processes: `garmin-s3 login` without a
 * terminal saves it, `login --mfa-code` picks it up. Codes belong to the SSO session that asked for
 * them, so what is kept is that session (its cookies and flow state), never the password. The file is
 * private (0600) and lives beside a file token store, or in the local config folder for an SSM one.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { open, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { UsageError } from '../../errors.js'
import { makePrivateFolder, type OpenNewFile, openNewFile, probeNewFile, replaceFile } from '../../files.js'
import { isRecord } from '../../unknown.js'
import type { SavedCookie } from '../cookies.js'
import { TokenStoreError } from '../errors.js'
import { type NamedStore, signInCommand } from '../sign-in-command.js'
import { FLOW_NAMES, type FlowName } from './flow.js'

export const PENDING_FILE = 'signin-pending.json'
/** How long Garmin keeps a code's session; the pending file says the same. */
export const PENDING_TTL_MS = 10 * 60_000

export interface PendingSignin {
  version: 1
  /** The token store the sign-in is for (a path or `ssm:/...`). */
  tokenStore: string
  domain: string
  /** The strategy that got the code ("mobile", "widget (impit)", ...). */
  strategy: string
  flow: FlowName
  impersonated: boolean
  method: string
  /** The flow's state: its query, a CSRF token. */
  state: Record<string, string>
  cookies: SavedCookie[]
  /** ISO 8601. */
  expiresAt: string
}

export interface PendingStore {
  readonly location: string
  load(): Promise<PendingSignin | undefined>
  save(pending: PendingSignin): Promise<void>
  /** Deletes it; true when there was one. */
  clear(): Promise<boolean>
}

interface FilePendingStoreOptions {
  /** Creates a new file that must not exist yet (O_CREAT | O_EXCL); tests give one that fails as a read-only folder does. */
  openExclusive?: OpenNewFile | undefined
}

export class FilePendingStore implements PendingStore {
  private readonly openExclusive: OpenNewFile

  /** `tokenStore`: the store the sign-in is for (the commands of the hints sign in to it). */
  constructor(
    readonly location: string,
    private readonly tokenStore: NamedStore,
    options: FilePendingStoreOptions = {},
  ) {
    this.openExclusive = options.openExclusive ?? openNewFile
  }

  /**
   * Before a sign-in that may have to wait for its code: the folder is created if need be and takes a
   * new file (one is created and removed), so a code Garmin sends is never lost for want of a place
   * to keep its session.
   */
  async checkWritable(): Promise<void> {
    const dir = dirname(this.location)
    try {
      await makePrivateFolder(dir)
      await probeNewFile(
        join(dir, `.signin-pending.${process.pid}.${randomBytes(6).toString('hex')}.tmp`),
        this.openExclusive,
      )
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error'
      throw new UsageError(
        `Cannot keep a sign-in waiting for its verification code in ${this.location} (${code}: ${(error as Error).message}).`,
        {
          hint: `Make ${dir} a folder you can write, or set XDG_CONFIG_HOME to one (the pending sign-in of ${this.tokenStore.location} is kept there), or run \`${signInCommand(this.tokenStore)}\` in a terminal, which asks for the code. Nothing was sent to Garmin.`,
          cause: error,
        },
      )
    }
  }

  async load(): Promise<PendingSignin | undefined> {
    let text: string
    try {
      const handle = await open(this.location, constants.O_RDONLY | constants.O_NOFOLLOW)
      try {
        text = await handle.readFile({ encoding: 'utf8' })
      } finally {
        await handle.close()
      }
    } catch (error) {
      if (absent(error)) return undefined
      throw this.failure('read', error)
    }
    const value = parse(text)
    if (!value) {
      await this.clear()
      return undefined
    }
    return value
  }

  async save(pending: PendingSignin): Promise<void> {
    const dir = dirname(this.location)
    try {
      await makePrivateFolder(dir)
      await replaceFile(this.location, `${JSON.stringify(pending, null, 2)}\n`, 0o600)
    } catch (error) {
      throw this.failure('write', error)
    }
  }

  async clear(): Promise<boolean> {
    return unlink(this.location).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (!absent(error)) throw this.failure('delete', error)
        return false
      },
    )
  }

  private failure(what: string, error: unknown): TokenStoreError {
    return new TokenStoreError(
      `Cannot ${what} the pending sign-in ${this.location}: ${(error as Error).message}`,
      {
        hint: `Fix the permissions of that folder, then run \`${signInCommand(this.tokenStore)}\` again.`,
        cause: error,
      },
    )
  }
}

/** No file there: none, or a path below something that is not a folder (then nothing can be kept there). */
const absent = (error: unknown) => ['ENOENT', 'ENOTDIR'].includes((error as NodeJS.ErrnoException).code ?? '')

function parse(text: string): PendingSignin | undefined {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined
  }
  if (!isRecord(value) || value.version !== 1) return undefined
  const { tokenStore, domain, strategy, flow, impersonated, method, state, cookies, expiresAt } = value
  const ok =
    typeof tokenStore === 'string' &&
    typeof strategy === 'string' &&
    typeof domain === 'string' &&
    FLOW_NAMES.includes(flow as FlowName) &&
    typeof impersonated === 'boolean' &&
    typeof method === 'string' &&
    isRecord(state) &&
    Object.values(state).every((v) => typeof v === 'string') &&
    Array.isArray(cookies) &&
    cookies.every((c) => isRecord(c) && typeof c.name === 'string' && typeof c.value === 'string') &&
    typeof expiresAt === 'string' &&
    !Number.isNaN(Date.parse(expiresAt))
  return ok ? (value as unknown as PendingSignin) : undefined
}
