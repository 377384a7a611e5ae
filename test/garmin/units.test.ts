/** Pure pieces of the Garmin client: JWT expiry, retry policy, endpoints, cookies, token formats. */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { type GarminS3Error, UsageError } from '../../src/errors.js'
import { CookieJar } from '../../src/garmin/cookies.js'
import { isLoopback, resolveEndpoints } from '../../src/garmin/endpoints.js'
import { GarminUnavailableError, RateLimitedError, TokenStoreError } from '../../src/garmin/errors.js'
import { accessTokenExpiry, decodeJwtPayload, refreshDueAt } from '../../src/garmin/jwt.js'
import {
  type AttemptResult,
  backoffDelay,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  withRetries,
} from '../../src/garmin/retry.js'
import { parseTokenImport, validateStoredTokens } from '../../src/garmin/token-format.js'
import { signinTransports } from '../../src/garmin/transport.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { fakeJwt, sequence, storedTokens } from './helpers.js'

describe('JWT expiry', () => {
  it('reads exp and client_id from the payload without verifying', () => {
    const token = fakeJwt({ exp: 1_790_000_000, client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI' })
    expect(decodeJwtPayload(token)).toMatchObject({
      exp: 1_790_000_000,
      client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI',
    })
    expect(accessTokenExpiry(token, 0)).toBe(1_790_000_000_000)
  })

  it('falls back to expires_in, and to nothing, for tokens that are not JWTs', () => {
    expect(decodeJwtPayload('opaque-token')).toBeUndefined()
    expect(decodeJwtPayload('a.!!!.c')).toBeUndefined()
    expect(accessTokenExpiry('opaque-token', 1000, 3600)).toBe(1000 + 3_600_000)
    expect(accessTokenExpiry('opaque-token', 1000)).toBeUndefined()
  })

  it('is due for refresh 15 minutes before it expires', () => {
    expect(refreshDueAt(Date.UTC(2026, 0, 1, 12, 0))).toBe(Date.UTC(2026, 0, 1, 11, 45))
  })
})

describe('retry policy', () => {
  const clock = () => new FakeClock()
  const unavailable = new GarminUnavailableError('down')
  const script = <T>(results: AttemptResult<T>[]) => {
    let calls = 0
    const attempt = async () => {
      const result = results[Math.min(calls, results.length - 1)]
      calls++
      return result as AttemptResult<T>
    }
    return { attempt, calls: () => calls }
  }

  it('backs off exponentially with full jitter, capped', () => {
    expect(backoffDelay(0, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(500)
    expect(backoffDelay(2, DEFAULT_RETRY_POLICY, () => 0.5)).toBe(2000)
    expect(backoffDelay(10, DEFAULT_RETRY_POLICY, () => 0.999)).toBeLessThan(DEFAULT_RETRY_POLICY.maxDelayMs)
    expect(backoffDelay(3, DEFAULT_RETRY_POLICY, () => 0)).toBe(0)
  })

  it('retries transient failures three times, then gives up with the failure', async () => {
    const c = clock()
    const s = script<string>([{ ok: false, kind: 'transient', error: unavailable }])
    await expect(
      withRetries(s.attempt, { policy: DEFAULT_RETRY_POLICY, clock: c, random: () => 1 }),
    ).rejects.toBe(unavailable)
    expect(s.calls()).toBe(4)
    expect(c.sleeps).toEqual([1000, 2000, 4000])
  })

  it('recovers when a retry succeeds', async () => {
    const c = clock()
    const s = script<string>([
      { ok: false, kind: 'transient', error: unavailable },
      { ok: true, value: 'data' },
    ])
    await expect(
      withRetries(s.attempt, { policy: DEFAULT_RETRY_POLICY, clock: c, random: sequence(0.25) }),
    ).resolves.toBe('data')
    expect(c.sleeps).toEqual([250])
  })

  it('waits exactly Retry-After on 429, and stops once the budget would be exceeded', async () => {
    const c = clock()
    const s = script<string>([{ ok: false, kind: 'rateLimited', endpoint: '/x', retryAfterMs: 25_000 }])
    const error = await withRetries(s.attempt, {
      policy: DEFAULT_RETRY_POLICY,
      clock: c,
      random: () => 0.5,
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RateLimitedError)
    expect((error as RateLimitedError).retryAfterMs).toBe(25_000)
    expect((error as RateLimitedError).exitCode).toBe(4)
    expect(c.sleeps).toEqual([25_000, 25_000])
    expect(s.calls()).toBe(3)
  })

  it('gives up at once when Retry-After alone exceeds the budget', async () => {
    const c = clock()
    const s = script<string>([{ ok: false, kind: 'rateLimited', endpoint: '/x', retryAfterMs: 3_600_000 }])
    await expect(
      withRetries(s.attempt, { policy: DEFAULT_RETRY_POLICY, clock: c, random: () => 0.5 }),
    ).rejects.toBeInstanceOf(RateLimitedError)
    expect(c.sleeps).toEqual([])
  })

  it('bounds a storm of 429 with Retry-After: 0', async () => {
    const c = clock()
    const s = script<string>([{ ok: false, kind: 'rateLimited', endpoint: '/x', retryAfterMs: 0 }])
    await expect(
      withRetries(s.attempt, { policy: DEFAULT_RETRY_POLICY, clock: c, random: () => 0.5 }),
    ).rejects.toBeInstanceOf(RateLimitedError)
    expect(s.calls()).toBe(DEFAULT_RETRY_POLICY.maxRateLimitWaits + 1)
  })

  it('reads Retry-After as seconds or as a date', () => {
    const now = Date.UTC(2026, 10, 28, 12, 0, 0)
    expect(parseRetryAfter('2', now)).toBe(2000)
    expect(parseRetryAfter('Sat, 28 Nov 2026 12:00:30 GMT', now)).toBe(30_000)
    expect(parseRetryAfter('soon', now)).toBeUndefined()
    expect(parseRetryAfter(null, now)).toBeUndefined()
  })
})

describe('endpoints', () => {
  it('uses Garmin hosts for garmin.com and garmin.cn only', () => {
    expect(resolveEndpoints({ env: {} })).toEqual({
      domain: 'garmin.com',
      sso: 'https://sso.garmin.com',
      diauth: 'https://diauth.garmin.com',
      connectapi: 'https://connectapi.garmin.com',
    })
    expect(resolveEndpoints({ env: { GARMIN_DOMAIN: 'garmin.cn' } }).connectapi).toBe(
      'https://connectapi.garmin.cn',
    )
    expect(resolveEndpoints({ domain: 'garmin.com', env: { GARMIN_DOMAIN: 'garmin.cn' } }).domain).toBe(
      'garmin.com',
    )
    expect(() => resolveEndpoints({ domain: 'evil.example', env: {} })).toThrow(UsageError)
  })

  it('points every host at a loopback override, and refuses any other host', () => {
    const sim = resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: 'http://127.0.0.1:8123/' } })
    expect(sim).toMatchObject({
      sso: 'http://127.0.0.1:8123',
      diauth: 'http://127.0.0.1:8123',
      connectapi: 'http://127.0.0.1:8123',
    })
    expect(resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: 'http://[::1]:9000' } }).sso).toBe(
      'http://[::1]:9000',
    )
    expect(resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: 'http://localhost:9000' } }).sso).toBe(
      'http://localhost:9000',
    )
    for (const bad of [
      'http://garmin-elsewhere.invalid:80',
      'https://sso.garmin.com.evil.example',
      'http://127.0.0.1.nip.io',
      'not a url',
    ]) {
      expect(() => resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: bad } })).toThrow(/GARMIN_S3_GARMIN_URL/)
    }
    const perHost = 'sso=http://127.0.0.1:1001,diauth=http://127.0.0.1:1002/,connectapi=http://localhost:1003'
    expect(resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: perHost } })).toMatchObject({
      sso: 'http://127.0.0.1:1001',
      diauth: 'http://127.0.0.1:1002',
      connectapi: 'http://localhost:1003',
    })
    for (const bad of [
      'sso=http://127.0.0.1:1,diauth=http://127.0.0.1:2',
      'sso=http://127.0.0.1:1,diauth=http://127.0.0.1:2,connectapi=http://attacker.invalid',
      'sso=http://127.0.0.1:1,diauth=http://127.0.0.1:2,connectapi=http://127.0.0.1:3,other=http://127.0.0.1:4',
    ]) {
      expect(() => resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: bad } })).toThrow(/GARMIN_S3_GARMIN_URL/)
    }
    expect(isLoopback('127.8.9.10')).toBe(true)
    expect(isLoopback('128.0.0.1')).toBe(false)
  })
})

describe('cookie jar', () => {
  it('sends back cookies, honours deletion and expiry, and splits joined headers', () => {
    const clock = new FakeClock()
    const jar = new CookieJar(clock)
    const headers = new Headers()
    headers.append('set-cookie', 'SESSION=abc; Path=/; HttpOnly')
    headers.append('set-cookie', 'CASTGC=tgt; Expires=Wed, 21 Oct 2099 07:28:00 GMT; Secure')
    headers.append('set-cookie', '__cf=1; Max-Age=60')
    jar.storeFrom(headers)
    expect(jar.header()).toBe('SESSION=abc; CASTGC=tgt; __cf=1')
    clock.advance(61_000)
    expect(jar.header()).toBe('SESSION=abc; CASTGC=tgt')
    jar.store('SESSION=gone; Max-Age=0')
    expect(jar.header()).toBe('CASTGC=tgt')
    // A transport that only joins Set-Cookie headers (commas also appear inside Expires dates).
    const joined = new CookieJar(clock)
    joined.storeFrom({
      get: () => 'A=1; Expires=Wed, 21 Oct 2099 07:28:00 GMT, B=2; Path=/',
    } as unknown as Headers)
    expect(joined.header()).toBe('A=1; B=2')
  })
})

describe('token formats', () => {
  it('reads the python-garminconnect fixture', async () => {
    const text = await readFile(new URL('../fixtures/garminconnect_tokens.json', import.meta.url), 'utf8')
    const imported = parseTokenImport(text, 'fixture')
    expect(imported.format).toBe('python-garminconnect')
    expect(imported.clientId).toBe('GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2')
    expect(accessTokenExpiry(imported.accessToken, 0)).toBe(1_767_225_600_000)
    // Also as python-garminconnect's JSON-string form.
    expect(parseTokenImport(JSON.stringify(text), 'fixture').refreshToken).toBe(imported.refreshToken)
  })

  it('reads our own format, and names what is wrong without echoing a token', () => {
    const ours = storedTokens()
    expect(parseTokenImport(JSON.stringify(ours), 'mine').stored).toEqual(ours)
    const broken = { ...ours, refreshToken: '' }
    const error = (() => {
      try {
        validateStoredTokens(broken, '/tmp/tokens.json')
      } catch (e) {
        return e as GarminS3Error
      }
    })()
    expect(error).toBeInstanceOf(TokenStoreError)
    expect(error?.message).toContain('the "refreshToken" field is missing')
    expect(error?.exitCode).toBe(3)
    expect(error?.message).not.toContain(ours.accessToken)
    expect(() => parseTokenImport('{"di_token":"x"}', 'f')).toThrow(/di_refresh_token/)
    expect(() => parseTokenImport('<html>', 'f')).toThrow(/not JSON/)
    expect(() => parseTokenImport('{"hello":1}', 'f')).toThrow(/not a token file/)
  })

  it('an --import file that is no usable token file is bad input (exit 2), with what to do instead', () => {
    const refusal = (text: string) => {
      try {
        parseTokenImport(text, 'f')
      } catch (e) {
        return e as GarminS3Error
      }
    }
    for (const text of ['{"di_token":"x"}', '<html>', '{"hello":1}', '{"version":1}', '{"version":2}']) {
      const error = refusal(text)
      expect([text, error]).toEqual([text, expect.any(UsageError)])
      expect(error?.exitCode).toBe(2)
      expect(error?.hint).toContain('garmin-s3 login')
    }
    expect(refusal('{"version":2}')?.hint).toContain('the newer garmin-s3 that wrote it')
  })
})

describe('sign-in transports', () => {
  const missing = () => Promise.reject(new Error("Cannot find package 'impit'"))

  it('--transport impit explains how to get impit when it cannot load', async () => {
    const error = await signinTransports('impit', missing).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).message).toContain('impit')
    expect((error as UsageError).hint).toMatch(/optional dependencies/)
  })

  it('auto falls back to fetch alone where impit cannot load, and says why', async () => {
    const chosen = await signinTransports('auto', missing)
    expect(chosen).toEqual({ plain: fetch, note: expect.stringContaining("Cannot find package 'impit'") })
  })

  it('fetch never loads impit', async () => {
    let imported = false
    const chosen = await signinTransports('fetch', async () => {
      imported = true
      return {}
    })
    expect([imported, chosen.impersonated, chosen.plain]).toEqual([false, undefined, fetch])
  })
})
