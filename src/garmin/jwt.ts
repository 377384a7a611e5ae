/**
 * Reading (not verifying) Garmin's access tokens: we only need to know when they expire and which
 * client id they were issued to. Garmin verifies them; we never trust them for anything else.
 */
import { GARMIN_DOMAINS } from './endpoints.js'
import type { GarminDomain } from './types.js'

export interface JwtClaims {
  /** Seconds since the epoch. */
  exp?: number
  client_id?: string
  [claim: string]: unknown
}

/** The payload of a JWT, or undefined when `token` is not a JWT with a JSON object payload. */
export function decodeJwtPayload(token: string): JwtClaims | undefined {
  const parts = token.split('.')
  if (parts.length !== 3 || !parts[1]) return undefined
  try {
    const payload: unknown = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
    if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined
    return payload as JwtClaims
  } catch {
    return undefined
  }
}

/** The Garmin domain that issued a token (its `iss`, e.g. https://diauth.garmin.cn), when it names one. */
export function issuerDomain(token: string): GarminDomain | undefined {
  const iss = decodeJwtPayload(token)?.iss
  if (typeof iss !== 'string') return undefined
  let host: string
  try {
    host = new URL(iss).hostname.toLowerCase()
  } catch {
    return undefined
  }
  return GARMIN_DOMAINS.find((domain) => host === domain || host.endsWith(`.${domain}`))
}

/** Refresh this long before the access token expires (docs/garmin-api.md). */
const REFRESH_MARGIN_MS = 15 * 60 * 1000

/**
 * When an access token expires, in epoch ms: the JWT `exp` when present, else `now + expiresInSeconds`,
 * else undefined.
 */
export function accessTokenExpiry(
  token: string,
  now: number,
  expiresInSeconds?: unknown,
): number | undefined {
  const exp = decodeJwtPayload(token)?.exp
  if (typeof exp === 'number' && Number.isFinite(exp)) return exp * 1000
  if (typeof expiresInSeconds === 'number' && Number.isFinite(expiresInSeconds) && expiresInSeconds > 0) {
    return now + expiresInSeconds * 1000
  }
  return undefined
}

/** When garmin-s3 starts refreshing a token that expires at `expiresAt` (epoch ms). */
export function refreshDueAt(expiresAt: number): number {
  return expiresAt - REFRESH_MARGIN_MS
}
