/** Small builders shared by the Garmin client tests. */
import type { StoredTokens, TokenStore } from '../../src/garmin/types.js'

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')

/** An unsigned JWT with the given payload (the client only reads it). */
export function fakeJwt(payload: Record<string, unknown>): string {
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(payload)}.c2ln`
}

export function storedTokens(overrides: Partial<StoredTokens> = {}): StoredTokens {
  return {
    version: 1,
    domain: 'garmin.com',
    clientId: 'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
    accessToken: fakeJwt({ exp: 1_800_000_000 }),
    refreshToken: 'refresh-token-1',
    expiresAt: new Date(1_800_000_000_000).toISOString(),
    displayName: 'runner_1',
    obtainedAt: '2026-11-28T12:00:00.000Z',
    ...overrides,
  }
}

/** A `random` that returns the given values in turn (the last one repeats). */
export function sequence(...values: number[]): () => number {
  let i = 0
  return () => values[Math.min(i++, values.length - 1)] ?? 0
}

/** A TokenStore in memory that records every save (and can run a hook after each). */
export class MemoryTokenStore implements TokenStore {
  readonly location = 'memory:tokens'
  readonly saved: StoredTokens[] = []
  afterSave: ((tokens: StoredTokens) => void | Promise<void>) | undefined
  constructor(private tokens?: StoredTokens) {}
  async load(): Promise<StoredTokens | undefined> {
    return this.tokens
  }
  async save(tokens: StoredTokens): Promise<void> {
    this.tokens = structuredClone(tokens)
    this.saved.push(this.tokens)
    await this.afterSave?.(tokens)
  }
  async clear(): Promise<boolean> {
    const had = this.tokens !== undefined
    this.tokens = undefined
    return had
  }
}
