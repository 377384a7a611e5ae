/**
 * A sign-in waiting for its verification code, kept between processes: `garmin-s3 login` without a
 * terminal saves it, `login --mfa-code` picks it up. Codes belong to the SSO session that asked for
 * them, so what is kept is that session (its cookies and flow state), never the password. The file is
 * private (0600) and lives beside a file token store, or in the local config folder for an SSM one.
 */
import { constants } from 'node:fs'
import { chmod, mkdir, open, unlink } from 'node:fs/promises'
import { dirname } from 'node:path'
import { replaceFile } from '../../files.js'
import { isRecord } from '../../unknown.js'
import type { SavedCookie } from '../cookies.js'
import { TokenStoreError } from '../errors.js'
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

export class FilePendingStore implements PendingStore {
  constructor(readonly location: string) {}

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
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
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
      if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700)
      await replaceFile(this.location, `${JSON.stringify(pending, null, 2)}\n`, 0o600)
    } catch (error) {
      throw this.failure('write', error)
    }
  }

  async clear(): Promise<boolean> {
    return unlink(this.location).then(
      () => true,
      (error: NodeJS.ErrnoException) => {
        if (error.code !== 'ENOENT') throw this.failure('delete', error)
        return false
      },
    )
  }

  private failure(what: string, error: unknown): TokenStoreError {
    return new TokenStoreError(
      `Cannot ${what} the pending sign-in ${this.location}: ${(error as Error).message}`,
      {
        hint: 'Fix the permissions of that folder, then run `garmin-s3 login` again.',
        cause: error,
      },
    )
  }
}

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
