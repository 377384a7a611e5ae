/**
 * GarminClient against the simulator over HTTP: sign-in, refresh with rotation, and the retry policy
 * of data calls. The sim's clock is the test's FakeClock, so token expiry and back-off cost no time.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { GarminS3Error } from '../../src/errors.js'
import { GarminClient, type GarminClientOptions } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import {
  AuthError,
  GarminUnavailableError,
  NotFoundError,
  RateLimitedError,
  TokenStoreError,
  UnexpectedResponseError,
} from '../../src/garmin/errors.js'
import { readTokenImport } from '../../src/garmin/login.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'
import { MemoryTokenStore } from './helpers.js'

const HOUR = 3_600_000
const LIST = '/activitylist-service/activities/search/activities'

let clock: FakeClock
let sim: Simulator
let tmp: string
/** Every request the clients sent (URL and body), to prove what was and was not sent. */
let sent: { url: string; body: string }[]
/** Every error a test saw, scanned for secrets at the end. */
const seenErrors: unknown[] = []

const recordingFetch: typeof fetch = async (input, init) => {
  sent.push({ url: String(input), body: typeof init?.body === 'string' ? init.body : '' })
  return fetch(input, init)
}

async function start(options: SimOptions = {}): Promise<Simulator> {
  // These tests were written for Garmin's old day-long access tokens.
  sim = await startSimulator({
    activities: 30,
    now: () => clock.now(),
    accessTokenTtlSeconds: 86_400,
    ...options,
  })
  return sim
}

function client(store: TokenStore, options: Partial<GarminClientOptions> = {}): GarminClient {
  return new GarminClient({
    tokenStore: store,
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    transport: recordingFetch,
    clock,
    random: () => 0.5,
    ...options,
  })
}

async function loggedIn(store: TokenStore = new MemoryTokenStore()): Promise<GarminClient> {
  const c = client(store)
  await c.login({ email: sim.user.email, password: sim.user.password })
  sim.resetStats()
  sent.length = 0
  return c
}

async function failure(promise: Promise<unknown>): Promise<GarminS3Error> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  seenErrors.push(error)
  expect(error).toBeInstanceOf(GarminS3Error)
  return error as GarminS3Error
}

const refreshTokensSent = () =>
  sent
    .filter((r) => r.body.includes('grant_type=refresh_token'))
    .map((r) => new URLSearchParams(r.body).get('refresh_token'))

beforeEach(async () => {
  clock = new FakeClock()
  sent = []
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-client-'))
})

afterEach(async () => {
  // Nothing a test saw may carry a password, ticket or token.
  const secrets = sim.secrets()
  for (const error of seenErrors.splice(0)) {
    const text = JSON.stringify({ message: (error as Error).message, hint: (error as GarminS3Error).hint })
    for (const secret of secrets) expect(text).not.toContain(secret)
  }
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

describe('sign-in', () => {
  it('logs in, checks the token with socialProfile and stores it', async () => {
    await start()
    const store = new MemoryTokenStore()
    const c = client(store)
    const tokens = await c.login({ email: sim.user.email, password: sim.user.password })
    expect(tokens).toMatchObject({ version: 1, domain: 'garmin.com', displayName: 'runner_1' })
    expect(tokens.clientId).toBe('GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2')
    expect(Date.parse(tokens.expiresAt)).toBe(Math.floor(clock.now() / 1000) * 1000 + 24 * HOUR)
    expect(store.saved).toEqual([tokens])
    expect(c.stats().requests).toEqual({ login: 1, token: 1, profile: 1 })
    expect(sim.stats().byRoute).toMatchObject({
      login: { 200: 1 },
      token: { 200: 1 },
      socialProfile: { 200: 1 },
    })
  })

  it('tries the app client ids in order until one works', async () => {
    await start({
      rejectedClientIds: [
        'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
        'GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4',
      ],
    })
    const tokens = await client(new MemoryTokenStore()).login({
      email: sim.user.email,
      password: sim.user.password,
    })
    expect(tokens.clientId).toBe('GARMIN_CONNECT_MOBILE_ANDROID_DI')
    expect(sim.stats().byRoute.token).toEqual({ 401: 2, 200: 1 })
    expect(sim.stats().byRoute.login).toEqual({ 200: 1 })
  })

  it('keeps the session cookie for the MFA step and asks the prompt for the code', async () => {
    await start({ user: { email: 'mfa@example.com', password: 'pw-mfa-1', mfa: 'email' } })
    const asked: string[] = []
    const store = new MemoryTokenStore()
    const tokens = await client(store).login({
      email: 'mfa@example.com',
      password: 'pw-mfa-1',
      promptMfa: async (method) => {
        asked.push(method)
        return sim.inbox().at(-1)?.code ?? ''
      },
    })
    expect(asked).toEqual(['email'])
    expect(tokens.displayName).toBe('runner_1')
    expect(sim.stats().byRoute.mfa).toEqual({ 200: 1 })
  })

  it('ends with MfaRequiredError (exit 3) when there is no code and no prompt, storing nothing', async () => {
    await start({ user: { email: 'mfa@example.com', password: 'pw-mfa-1', mfa: 'email' } })
    const store = new MemoryTokenStore()
    const error = await failure(client(store).login({ email: 'mfa@example.com', password: 'pw-mfa-1' }))
    expect(error.name).toBe('MfaRequiredError')
    expect(error.exitCode).toBe(3)
    // Only a sign-in without `login` (sync with GARMIN_EMAIL/GARMIN_PASSWORD, the library) gets here:
    // the way out is the login command, which can ask for the code or keep the sign-in for one.
    expect(error.hint).toMatch(/^Run `garmin-s3 login --token-store memory:tokens` in a terminal/)
    expect(error.hint).toContain('garmin-s3 login --mfa-code <code>')
    expect(store.saved).toEqual([])
    expect(sim.stats().byRoute).toEqual({ login: { 200: 1 } })
  })

  it('refuses a token the API does not accept, storing nothing', async () => {
    await start()
    sim.addFault({ route: 'socialProfile', fault: { kind: 'status', status: 401 }, times: 1 })
    const store = new MemoryTokenStore()
    // One strategy: the chain's moving on is test/login.test.ts's business.
    const mobileOnly = client(store, { signinStrategies: ['mobile'] })
    const error = await failure(mobileOnly.login({ email: sim.user.email, password: sim.user.password }))
    expect(error).toBeInstanceOf(AuthError)
    expect(error.message).toContain('Token is not active')
    expect(store.saved).toEqual([])
    expect(sim.stats().byRoute.token).toEqual({ 200: 1 })
  })

  it('fails at once on a 429 from the token exchange', async () => {
    await start()
    sim.addFault({ route: 'token', fault: { kind: 'status', status: 429, retryAfter: 3600 } })
    const error = await failure(
      client(new MemoryTokenStore(), { signinStrategies: ['mobile'] }).login({
        email: sim.user.email,
        password: sim.user.password,
      }),
    )
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.hint).toMatch(/do not retry in a loop/)
    expect(sim.stats().byRoute.token).toEqual({ 429: 1 })
    expect(clock.sleeps).toEqual([])
  })

  it('imports python-garminconnect tokens after one socialProfile check', async () => {
    await start()
    const source = await loggedIn()
    const issued = await source.tokens()
    const folder = join(tmp, '.garminconnect')
    await mkdir(folder)
    await writeFile(
      join(folder, 'garmin_tokens.json'),
      JSON.stringify({
        di_token: issued.accessToken,
        di_refresh_token: issued.refreshToken,
        di_client_id: issued.clientId,
      }),
    )
    const store = new FileTokenStore(join(tmp, 'imported.json'))
    const imported = await client(store).importTokens(
      await readTokenImport(folder, { env: {}, readStdin: async () => '' }),
    )
    expect(imported).toMatchObject({
      displayName: 'runner_1',
      accessToken: issued.accessToken,
      expiresAt: issued.expiresAt,
    })
    expect(await store.load()).toEqual(imported)
    expect(sim.stats().byRoute).toEqual({ socialProfile: { 200: 1 } })
  })
})

describe('refresh', () => {
  it('refreshes 15 minutes before expiry and saves the rotated refresh token before the call goes on', async () => {
    await start()
    const store = new MemoryTokenStore()
    const c = await loggedIn(store)
    const before = await c.tokens()
    clock.advance(24 * HOUR - 14 * 60_000)
    let listCallsWhenSaved: number | undefined
    store.afterSave = () => {
      listCallsWhenSaved = sim.stats().byRoute.activityList?.[200] ?? 0
    }
    const page = await c.listActivities({ start: 0, limit: 5 })
    expect(page.map((a) => a.activityId)).toEqual(
      sim
        .listAll()
        .slice(0, 5)
        .map((a) => a.activityId),
    )
    const after = (await store.load())!
    expect(after.refreshToken).not.toBe(before.refreshToken)
    expect(after.accessToken).not.toBe(before.accessToken)
    expect(after.refreshTokenRotatedAt).toBe(new Date(clock.now()).toISOString())
    expect(listCallsWhenSaved).toBe(0)
    expect(refreshTokensSent()).toEqual([before.refreshToken])
  })

  it('refreshes once on a 401 and repeats the call', async () => {
    await start()
    const c = await loggedIn()
    sim.expireAccessTokensAfter(0)
    expect(await c.countActivities()).toBe(30)
    expect(c.stats().requests).toMatchObject({ count: 2, refresh: 1 })
  })

  it('shares one refresh between concurrent calls', async () => {
    await start()
    const c = await loggedIn()
    clock.advance(24 * HOUR)
    const ids = sim
      .listAll()
      .slice(0, 5)
      .map((a) => a.activityId)
    await Promise.all(ids.map((id) => c.getActivity(id)))
    expect(c.stats().requests.refresh).toBe(1)
    expect(refreshTokensSent()).toHaveLength(1)
  })

  it('survives a process killed right after the store write, and never re-sends an old refresh token', async () => {
    await start()
    const path = join(tmp, 'tokens.json')
    const file = new FileTokenStore(path)
    const original = await (await loggedIn(file)).tokens()
    clock.advance(24 * HOUR)
    // First run: the refresh is saved, then the process "dies" before using it.
    const dying: TokenStore = {
      location: file.location,
      load: () => file.load(),
      clear: () => file.clear(),
      save: async (tokens) => {
        await file.save(tokens)
        throw new Error('killed')
      },
    }
    const killed = await failure(client(dying).listActivities({ start: 0, limit: 1 }))
    expect(killed).toBeInstanceOf(TokenStoreError)
    const rotated = (await file.load())!
    expect(rotated.refreshToken).not.toBe(original.refreshToken)
    // Second run, a new process: it uses the saved tokens without refreshing again.
    const second = client(new FileTokenStore(path))
    expect(await second.listActivities({ start: 0, limit: 1 })).toHaveLength(1)
    expect(second.stats().requests.refresh).toBeUndefined()
    // A day later it refreshes with the rotated token, and the chain goes on.
    clock.advance(24 * HOUR)
    await second.listActivities({ start: 0, limit: 1 })
    const sentTokens = refreshTokensSent()
    expect(sentTokens).toEqual([original.refreshToken, rotated.refreshToken])
    expect(sim.stats().byRoute.token?.['400']).toBeUndefined()
  })

  it('two runs on one token file refresh once between them: the lock, then a re-read', async () => {
    await start()
    const path = join(tmp, 'shared.json')
    await loggedIn(new FileTokenStore(path))
    clock.advance(24 * HOUR)
    // The stores poll the lock on the real clock (100 ms): a fake one would race real file I/O.
    const [a, b] = [client(new FileTokenStore(path)), client(new FileTokenStore(path))]
    const pages = await Promise.all([a, b].map((c) => c.listActivities({ start: 0, limit: 1 })))
    expect(pages.map((p) => p.length)).toEqual([1, 1])
    expect(refreshTokensSent()).toHaveLength(1)
    expect(sim.stats().byRoute.token?.['400']).toBeUndefined()
  })

  it('after invalid_grant, reads the store again and goes on with what another run rotated', async () => {
    await start()
    const path = join(tmp, 'reread.json')
    const file = new FileTokenStore(path)
    const original = await (await loggedIn(file)).tokens()
    // A store without a lock (as a copy elsewhere would be): this run still holds the old tokens.
    const unlocked: TokenStore = {
      location: path,
      load: () => file.load(),
      save: (t) => file.save(t),
      clear: () => file.clear(),
    }
    const late = client(unlocked)
    expect((await late.tokens()).refreshToken).toBe(original.refreshToken)
    clock.advance(24 * HOUR)
    await client(new FileTokenStore(path)).listActivities({ start: 0, limit: 1 })
    expect(await late.listActivities({ start: 0, limit: 1 })).toHaveLength(1)
    expect(sim.stats().byRoute.token).toMatchObject({ 200: 1, 400: 1 })
    expect(late.stats().requests.refresh).toBe(1)
  })

  it('reports a 403 challenge page on the refresh alone as a bot block (exit 4), keeping the tokens', async () => {
    await start()
    const store = new MemoryTokenStore()
    const c = await loggedIn(store)
    const before = (await c.tokens()).refreshToken
    sim.addFault({ route: 'refresh', fault: { kind: 'html' } })
    const error = await failure(c.refresh())
    expect(error.name).toBe('BotChallengeError')
    expect(error.exitCode).toBe(4)
    expect(error.message).toContain('bot protection blocked the token refresh')
    expect((await store.load())?.refreshToken).toBe(before)
    // Only refreshes are blocked: a new sign-in's ticket exchange still goes through.
    await client(new MemoryTokenStore()).login({ email: sim.user.email, password: sim.user.password })
    expect(sim.stats().byRoute.token).toEqual({ 403: 1, 200: 1 })
  })

  it('asks for a new login (exit 3) when Garmin answers invalid_grant', async () => {
    await start()
    const c = await loggedIn()
    sim.revokeRefreshTokens()
    clock.advance(24 * HOUR)
    const error = await failure(c.listActivities({ start: 0, limit: 1 }))
    expect(error).toBeInstanceOf(AuthError)
    expect(error.exitCode).toBe(3)
    expect(error.message).toContain('invalid_grant')
    expect(error.hint).toContain('garmin-s3 login')
    expect(sim.stats().byRoute.token).toEqual({ 400: 1 })
  })

  it('after invalid_grant on a token file chosen with --token-store, the hint signs in to that file again', async () => {
    await start()
    const path = join(tmp, 'chosen tokens.json')
    const c = await loggedIn(new FileTokenStore(path, { named: true }))
    sim.revokeRefreshTokens()
    clock.advance(24 * HOUR)
    const error = await failure(c.listActivities({ start: 0, limit: 1 }))
    expect(error.message).toContain('invalid_grant')
    expect([...(error.hint ?? '').matchAll(/`(garmin-s3 login[^`]*)`/g)].map((m) => m[1])).toEqual([
      `garmin-s3 login --token-store '${path}'`,
    ])
  })

  it('gives up after one refresh when the new token is refused too', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 401 }, times: 2 })
    const error = await failure(c.listActivities({ start: 0, limit: 1 }))
    expect(error).toBeInstanceOf(AuthError)
    expect(c.stats().requests).toMatchObject({ list: 2, refresh: 1 })
  })

  it('needs a login when nothing is stored', async () => {
    await start()
    const error = await failure(client(new MemoryTokenStore()).listActivities({ start: 0, limit: 1 }))
    expect(error).toBeInstanceOf(AuthError)
    expect(error.hint).toContain('garmin-s3 login')
    expect(sim.stats().total).toBe(0)
  })
})

describe('data calls', () => {
  it('recovers from 500, 503 and a reset within the retry budget', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 500 }, times: 1 })
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 503 }, times: 1 })
    sim.addFault({ route: 'activityList', fault: { kind: 'reset' }, times: 1 })
    expect(await c.listActivities({ start: 0, limit: 3 })).toHaveLength(3)
    expect(sim.stats().byRoute.activityList).toEqual({ 500: 1, 503: 1, reset: 1, 200: 1 })
    // Full jitter with random() = 0.5: half of 1 s, 2 s, 4 s.
    expect(clock.sleeps).toEqual([500, 1000, 2000])
  })

  it('gives up with GarminUnavailableError (exit 4) after three retries', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activity', fault: { kind: 'status', status: 502 } })
    const error = await failure(c.getActivity(sim.listAll()[0]!.activityId))
    expect(error).toBeInstanceOf(GarminUnavailableError)
    expect(error.exitCode).toBe(4)
    expect(sim.stats().byRoute.activity).toEqual({ 502: 4 })
  })

  it('retries a request that times out', async () => {
    await start()
    const c = await loggedIn()
    const fast = client(new MemoryTokenStore(await c.tokens()), { timeoutMs: 100 })
    sim.addFault({ route: 'activityCount', fault: { kind: 'latency', ms: 400 }, times: 1 })
    expect(await fast.countActivities()).toBe(30)
    expect(fast.stats().requests.count).toBe(2)
  })

  it('waits Retry-After: 2 on the injected clock, then succeeds', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 429, retryAfter: 2 }, times: 1 })
    expect(await c.listActivities({ start: 0, limit: 2 })).toHaveLength(2)
    expect(clock.sleeps).toEqual([2000])
  })

  it('ends a 429 storm with RateLimitedError within the budget', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 429, retryAfter: 20 } })
    const t0 = clock.now()
    const error = await failure(c.listActivities({ start: 0, limit: 2 }))
    expect(error).toBeInstanceOf(RateLimitedError)
    expect(error.exitCode).toBe(4)
    expect((error as RateLimitedError).retryAfterMs).toBe(20_000)
    expect(clock.now() - t0).toBe(60_000)
    expect(sim.stats().byRoute.activityList).toEqual({ 429: 4 })
    // Without Retry-After, back-off is bounded too, and a smaller budget is honoured.
    sim.clearFaults()
    sim.addFault({ route: 'activityCount', fault: { kind: 'status', status: 429 } })
    const tight = client(new MemoryTokenStore(await c.tokens()), { rateLimitBudgetMs: 5000 })
    const t1 = clock.now()
    await failure(tight.countActivities())
    expect(clock.now() - t1).toBeLessThanOrEqual(5000)
  })

  it('names the endpoint (path only) when the body is not JSON, and retries a truncated body', async () => {
    await start()
    const c = await loggedIn()
    sim.addFault({ route: 'activityList', fault: { kind: 'malformed' }, times: 1 })
    const error = await failure(c.listActivities({ start: 0, limit: 2 }))
    expect(error).toBeInstanceOf(UnexpectedResponseError)
    expect(error.exitCode).toBe(1)
    expect((error as UnexpectedResponseError).endpoint).toBe(LIST)
    expect(error.message).toContain(LIST)
    expect(error.message).not.toContain('?')
    sim.addFault({ route: 'activityList', fault: { kind: 'truncated' }, times: 1 })
    expect(await c.listActivities({ start: 0, limit: 2 })).toHaveLength(2)
    sim.addFault({ route: 'activityList', fault: { kind: 'html' }, times: 1 })
    expect((await failure(c.listActivities({ start: 0, limit: 2 }))).name).toBe('BotChallengeError')
  })

  it('reports a deleted activity as NotFoundError so a sync can skip it', async () => {
    await start()
    const c = await loggedIn()
    const error = await failure(c.getActivity(99_999_999_999))
    expect(error).toBeInstanceOf(NotFoundError)
    expect((error as NotFoundError).endpoint).toBe('/activity-service/activity/99999999999')
    expect(sim.stats().byRoute.activity).toEqual({ 404: 1 })
  })

  it('fetches activities, originals and daily data with the mobile app headers', async () => {
    await start()
    const c = await loggedIn()
    const [newest] = sim.listAll()
    const detail = (await c.getActivity(newest!.activityId)) as { activityId: number }
    expect(detail.activityId).toBe(newest!.activityId)
    const zip = await c.downloadOriginal(newest!.activityId)
    expect(Buffer.from(zip.subarray(0, 2)).toString()).toBe('PK')
    const today = new Date(clock.now()).toISOString().slice(0, 10)
    expect(await c.getDaily('sleep', today)).toBeTypeOf('object')
    expect(await c.getDaily('hrv', sim.gapDates()[0]!)).toBeUndefined()
    await expect(c.getDaily('steps', today)).rejects.toThrow(/Unknown daily dataset/)
    const dataCall = sent.find((r) => r.url.includes('/activity-service/activity/'))
    expect(dataCall).toBeDefined()
    expect(c.stats().requests).toMatchObject({ activity: 1, download: 1, sleep: 1, hrv: 1 })
  })
})
