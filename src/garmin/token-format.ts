/**
 * The token formats we read: ours (version 1, garmin-protocol.md "Token store format") and
 * python-garminconnect's `garmin_tokens.json` (`{"di_token","di_refresh_token","di_client_id"}`), so
 * people who can log in there can reuse their tokens. Only the fields we rely on are checked.
 */
import { isGarminDomain } from './endpoints.js'
import { TokenStoreError } from './errors.js'
import type { StoredTokens } from './types.js'

/** Tokens from elsewhere that still need a `socialProfile` call to become `StoredTokens`. */
export interface ImportedTokens {
  format: 'garmin-s3' | 'python-garminconnect'
  accessToken: string
  refreshToken: string
  clientId: string
  /** Present for our own format. */
  stored?: StoredTokens
}

const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v.trim() !== ''
const isoDate = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v))

/** Checks a parsed value against our format; throws `TokenStoreError` naming `location` (never a value). */
export function validateStoredTokens(value: unknown, location: string): StoredTokens {
  const problem = storedTokensProblem(value)
  if (problem) {
    throw new TokenStoreError(`The tokens at ${location} are not usable: ${problem}.`, {
      hint: 'Run `garmin-s3 login` to replace them.',
    })
  }
  return value as StoredTokens
}

function storedTokensProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const t = value as Record<string, unknown>
  if (t.version !== 1) return `unknown format version ${JSON.stringify(t.version ?? null)}`
  if (typeof t.domain !== 'string' || !isGarminDomain(t.domain)) return 'unknown domain'
  for (const field of ['clientId', 'accessToken', 'refreshToken'] as const) {
    if (!nonEmpty(t[field])) return `missing ${field}`
  }
  // An account without a display name is stored with an empty one (and its profile id).
  if (typeof t.displayName !== 'string') return 'missing displayName'
  if (t.profileId !== undefined && !(Number.isSafeInteger(t.profileId) && (t.profileId as number) > 0)) {
    return 'invalid profileId'
  }
  for (const field of ['expiresAt', 'obtainedAt'] as const) {
    if (!isoDate(t[field])) return `missing or invalid ${field}`
  }
  if (t.refreshTokenRotatedAt !== undefined && !isoDate(t.refreshTokenRotatedAt)) {
    return 'invalid refreshTokenRotatedAt'
  }
  return undefined
}

/** Parses the text of a token file in either format. */
export function parseTokenImport(text: string, source: string): ImportedTokens {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new TokenStoreError(`${source} is not JSON.`, {
      hint: 'Pass a garmin_tokens.json from python-garminconnect (or its folder), or a garmin-s3 tokens.json.',
    })
  }
  // python-garminconnect has stored its token file as a JSON-encoded string too.
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value)
    } catch {
      // reported below as an unknown format
    }
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const t = value as Record<string, unknown>
    if ('di_token' in t || 'di_refresh_token' in t) {
      if (!nonEmpty(t.di_token) || !nonEmpty(t.di_refresh_token) || !nonEmpty(t.di_client_id)) {
        throw new TokenStoreError(`${source} lacks di_token, di_refresh_token or di_client_id.`, {
          hint: 'Log in again with python-garminconnect (it writes all three), or use `garmin-s3 login`.',
        })
      }
      return {
        format: 'python-garminconnect',
        accessToken: t.di_token,
        refreshToken: t.di_refresh_token,
        clientId: t.di_client_id,
      }
    }
    if ('version' in t) {
      const stored = validateStoredTokens(value, source)
      return {
        format: 'garmin-s3',
        accessToken: stored.accessToken,
        refreshToken: stored.refreshToken,
        clientId: stored.clientId,
        stored,
      }
    }
  }
  throw new TokenStoreError(`${source} is not a token file garmin-s3 knows.`, {
    hint: 'Pass python-garminconnect’s garmin_tokens.json (or its folder) or a garmin-s3 tokens.json.',
  })
}
