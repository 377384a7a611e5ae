/**
 * What status tells about Garmin tokens: where they are, when the access token expires and when the
 * refresh token last changed. Dates and the display name only; a token never leaves this module.
 */
import { noTokensNext } from '../garmin/errors.js'
import { accessTokenExpiry } from '../garmin/jwt.js'
import type { StoredTokens, TokenStore } from '../garmin/types.js'
import { messageOf } from '../unknown.js'
import type { TokenSummary } from './types.js'

function iso(ms: number | undefined): string | null {
  return ms === undefined || !Number.isFinite(ms) ? null : new Date(ms).toISOString()
}

export function summarizeTokens(
  location: string,
  tokens: StoredTokens | undefined,
  now: number,
): TokenSummary {
  if (!tokens) {
    return {
      location,
      status: 'absent',
      displayName: null,
      accessTokenExpiresAt: null,
      refreshTokenRotatedAt: null,
      obtainedAt: null,
      reason: null,
      next: null,
    }
  }
  // The JWT's own `exp` is the truth; the stored expiresAt is the fallback.
  const expiry = accessTokenExpiry(tokens.accessToken, now) ?? Date.parse(tokens.expiresAt)
  return {
    location,
    status: 'present',
    displayName: tokens.displayName || null,
    accessTokenExpiresAt: iso(expiry),
    refreshTokenRotatedAt: tokens.refreshTokenRotatedAt
      ? iso(Date.parse(tokens.refreshTokenRotatedAt))
      : null,
    obtainedAt: iso(Date.parse(tokens.obtainedAt)),
    reason: null,
    next: null,
  }
}

export function unknownTokens(location: string, reason: string): TokenSummary {
  return {
    location,
    status: 'unknown',
    displayName: null,
    accessTokenExpiresAt: null,
    refreshTokenRotatedAt: null,
    obtainedAt: null,
    reason,
    next: null,
  }
}

/**
 * Reads a token store; any failure (permissions, format, AWS) becomes "unknown" with the reason. No
 * tokens: `next` is the store's own next step (the login that names it), asked after the read.
 */
export async function readTokenSummary(store: TokenStore, now: number): Promise<TokenSummary> {
  try {
    // After load: a file that points at a parameter names it then (`ssm:/... (via <file>)`).
    const tokens = await store.load()
    const summary = summarizeTokens(store.location, tokens, now)
    return summary.status === 'absent' ? { ...summary, next: noTokensNext(store) } : summary
  } catch (error) {
    return unknownTokens(store.location, messageOf(error))
  }
}
