/**
 * The token formats we read: ours (version 1, docs/garmin-api.md "Token file") and
 * python-garminconnect's `garmin_tokens.json` (`{"di_token","di_refresh_token","di_client_id"}`), so
 * people who can log in there can reuse their tokens. Only the fields we rely on are checked.
 */
import { UsageError } from '../errors.js'
import { isGarminDomain } from './endpoints.js'
import { TokenStoreError } from './errors.js'
import type { StoredTokens, TokenPointer } from './types.js'

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

/**
 * Checks a parsed value against our format; throws `TokenStoreError` naming `location` (never a value)
 * whose hint is `signIn`, the command that replaces them there (the store knows whether it needs
 * `--force` or `--token-store`).
 */
export function validateStoredTokens(
  value: unknown,
  location: string,
  signIn = 'garmin-s3 login',
): StoredTokens {
  const version = (value as Record<string, unknown> | null)?.version
  if (typeof version === 'number' && Number.isInteger(version) && version > 1) {
    throw new TokenStoreError(
      `The tokens at ${location} are in format version ${version}, written by a newer garmin-s3; this one reads version 1.`,
      {
        unusable: true,
        hint: `Use the newer garmin-s3 that wrote them (upgrade this one), or run \`${signIn}\` to replace them.`,
      },
    )
  }
  const problem = storedTokensProblem(value)
  if (problem) {
    throw new TokenStoreError(`The tokens at ${location} are not usable: ${problem}.`, {
      unusable: true,
      hint: `Run \`${signIn}\` to replace them.`,
    })
  }
  return value as StoredTokens
}

function storedTokensProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const t = value as Record<string, unknown>
  // Fields are named, never their values: a misplaced token must not reach an error or a log.
  if (t.version !== 1) return 'the "version" field is not 1'
  if (typeof t.domain !== 'string' || !isGarminDomain(t.domain))
    return 'the "domain" field is not a Garmin domain'
  for (const field of ['clientId', 'accessToken', 'refreshToken'] as const) {
    if (!nonEmpty(t[field])) return `the "${field}" field is missing`
  }
  // An account without a display name is stored with an empty one (and its profile id).
  if (typeof t.displayName !== 'string') return 'the "displayName" field is missing'
  if (t.profileId !== undefined && !(Number.isSafeInteger(t.profileId) && (t.profileId as number) > 0)) {
    return 'the "profileId" field is not a positive integer'
  }
  for (const field of ['expiresAt', 'obtainedAt'] as const) {
    if (!isoDate(t[field])) return `the "${field}" field is not a date`
  }
  if (t.refreshTokenRotatedAt !== undefined && !isoDate(t.refreshTokenRotatedAt)) {
    return 'the "refreshTokenRotatedAt" field is not a date'
  }
  return undefined
}

/** What `login --import` takes, for the hint of every file it cannot use. */
export const IMPORT_HINT =
  'Pass python-garminconnect’s garmin_tokens.json (or the folder holding it, e.g. ~/.garminconnect), a garmin-s3 tokens.json, or `-` for standard input; or sign in with `garmin-s3 login` instead.'

/**
 * Parses the text of a token file in either format (`login --import`). What is no usable token file
 * is bad input, as a missing file is: a `UsageError` (exit 2) with what to pass instead.
 */
export function parseTokenImport(text: string, source: string): ImportedTokens {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new UsageError(`${source} is not JSON.`, { hint: IMPORT_HINT })
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
        throw new UsageError(`${source} lacks di_token, di_refresh_token or di_client_id.`, {
          hint: 'Log in again with python-garminconnect (it writes all three to garmin_tokens.json), or sign in with `garmin-s3 login` instead.',
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
      const stored = importedStoredTokens(value, source)
      return {
        format: 'garmin-s3',
        accessToken: stored.accessToken,
        refreshToken: stored.refreshToken,
        clientId: stored.clientId,
        stored,
      }
    }
  }
  throw new UsageError(`${source} is not a token file garmin-s3 knows.`, { hint: IMPORT_HINT })
}

/** A garmin-s3 token file given to --import: its problem, with what to import instead (not "replace them"). */
function importedStoredTokens(value: unknown, source: string): StoredTokens {
  try {
    return validateStoredTokens(value, source)
  } catch (error) {
    if (!(error instanceof TokenStoreError)) throw error
    const version = (value as Record<string, unknown>).version
    const newer = typeof version === 'number' && version > 1
    throw new UsageError(error.message, {
      hint: newer
        ? 'Import it with the newer garmin-s3 that wrote it (or upgrade this one), or sign in with `garmin-s3 login` instead.'
        : IMPORT_HINT,
      cause: error,
    })
  }
}

const POINTER_KIND = 'garmin-s3-token-pointer'

/** What a token file says after `deploy` moved its session into SSM: where the tokens are now. */
export function makePointer(store: string, region: string | undefined): TokenPointer {
  return { kind: POINTER_KIND, version: 1, store, ...(region ? { region } : {}) }
}

/**
 * The pointer a parsed token file holds, if it is one (an SSM store name, nothing else). `signIn`: the
 * command that replaces a broken one, for its hint.
 */
export function readPointer(value: unknown, signIn = 'garmin-s3 login'): TokenPointer | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const p = value as Record<string, unknown>
  if (p.kind !== POINTER_KIND) return undefined
  if (p.version !== 1 || typeof p.store !== 'string' || !/^ssm:\/[a-zA-Z0-9_.\-/]+$/.test(p.store)) {
    throw new TokenStoreError('The token pointer file is not usable: the "store" field is not ssm:/<name>.', {
      unusable: true,
      hint: `Run \`${signIn}\` to replace it, or \`garmin-s3 deploy\` to point it at the deployment again.`,
    })
  }
  const region = typeof p.region === 'string' && /^[a-z0-9-]{1,30}$/.test(p.region) ? p.region : undefined
  return makePointer(p.store, region)
}

/**
 * Which token file this is, by its fields alone, or undefined for anything else (a file login must
 * not overwrite and logout must not delete without --force).
 */
export function tokenFileKind(value: unknown): 'garmin-s3' | 'python-garminconnect' | 'pointer' | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined
  const t = value as Record<string, unknown>
  if (t.kind === POINTER_KIND) return 'pointer'
  if ('di_token' in t || 'di_refresh_token' in t) return 'python-garminconnect'
  if (t.version === 1 && 'refreshToken' in t && 'accessToken' in t) return 'garmin-s3'
  return undefined
}
