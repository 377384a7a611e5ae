import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../helpers/fake-clock.js'
import { DI_CLIENT_IDS, MFA_TRIES, SERVICE_TICKET_GRANT } from './auth.js'
import { DEFAULT_USER, type Simulator, startSimulator } from './server.js'
import {
  exchangeTicket,
  loginToSim,
  loginUrl,
  refreshTokens,
  SIM_SERVICE_URL,
  tokenRequest,
} from './session.js'

const clock = new FakeClock()
let sim: Simulator
let mfaSim: Simulator

beforeAll(async () => {
  ;[sim, mfaSim] = await Promise.all([
    startSimulator({ activities: 20, now: () => clock.now(), rejectedClientIds: [DI_CLIENT_IDS[0]] }),
    startSimulator({
      activities: 5,
      now: () => clock.now(),
      user: { email: 'mfa@example.com', password: 'pw-mfa', mfa: 'email' },
    }),
  ])
})
afterAll(async () => {
  await Promise.all([sim.close(), mfaSim.close()])
})
afterEach(() => {
  sim.clearFaults()
  mfaSim.clearFaults()
})

const OK_CLIENT = DI_CLIENT_IDS[1]

interface SsoAnswer {
  responseStatus: { type: string }
  serviceTicketId?: string
  serviceURL?: string | null
  customerMfaInfo?: { mfaLastMethodUsed: string }
  error?: { 'status-code': string }
}

async function login(s: Simulator, username: string, password: string) {
  const res = await fetch(loginUrl(s.url), {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.url },
    body: JSON.stringify({ username, password, rememberMe: true, captchaToken: '' }),
  })
  return { res, body: (await res.json()) as SsoAnswer }
}

const MOBILE_QUERY = new URLSearchParams({
  clientId: 'GCM_IOS_DARK',
  locale: 'en-US',
  service: SIM_SERVICE_URL,
})

async function verify(s: Simulator, code: string, cookie?: string) {
  const res = await fetch(`${s.url}/mobile/api/mfa/verifyCode?${MOBILE_QUERY}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: s.url, ...(cookie ? { cookie } : {}) },
    body: JSON.stringify({
      mfaMethod: 'email',
      mfaVerificationCode: code,
      rememberMyBrowser: true,
      reconsentList: [],
      mfaSetup: false,
    }),
  })
  return { status: res.status, body: (await res.json()) as SsoAnswer }
}

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
}

function getProfile(s: Simulator, accessToken?: string) {
  return fetch(`${s.url}/userprofile-service/socialProfile`, {
    headers: accessToken ? { authorization: `Bearer ${accessToken}` } : {},
  })
}

function jwtPayload(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8'))
}

describe('login', () => {
  it('answers SUCCESSFUL with a service ticket for the right credentials', async () => {
    const { res, body } = await login(sim, DEFAULT_USER.email, DEFAULT_USER.password)
    expect(res.status).toBe(200)
    expect(body.responseStatus.type).toBe('SUCCESSFUL')
    expect(body.serviceTicketId).toMatch(/^ST-/)
    expect(body.serviceURL).toBe(SIM_SERVICE_URL)
  })

  it('answers INVALID_USERNAME_PASSWORD for a wrong password or user', async () => {
    expect((await login(sim, DEFAULT_USER.email, 'wrong')).body.responseStatus.type).toBe(
      'INVALID_USERNAME_PASSWORD',
    )
    expect((await login(sim, 'nobody@example.com', DEFAULT_USER.password)).body.responseStatus.type).toBe(
      'INVALID_USERNAME_PASSWORD',
    )
  })

  it('answers ACCOUNT_LOCKED for a locked account, whatever the password, and issues no ticket', async () => {
    const locked = await startSimulator({
      activities: 1,
      now: () => clock.now(),
      user: { ...DEFAULT_USER, locked: true },
    })
    try {
      for (const password of [DEFAULT_USER.password, 'wrong']) {
        const { res, body } = await login(locked, DEFAULT_USER.email, password)
        expect([res.status, body.responseStatus.type, body.serviceTicketId]).toEqual([
          200,
          'ACCOUNT_LOCKED',
          undefined,
        ])
      }
      // Another email is no account of this sim: the usual answer.
      expect((await login(locked, 'nobody@example.com', 'x')).body.responseStatus.type).toBe(
        'INVALID_USERNAME_PASSWORD',
      )
    } finally {
      await locked.close()
    }
  })

  it('refuses a login without clientId/service or JSON credentials', async () => {
    const noQuery = await fetch(`${sim.url}/mobile/api/login`, { method: 'POST', body: '{}' })
    expect(noQuery.status).toBe(400)
    const notJson = await fetch(loginUrl(sim.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: sim.url },
      body: 'username=a',
    })
    expect(notJson.status).toBe(400)
  })

  it('checks the request shape: clientId, the service URL for its domain, JSON content type and Origin', async () => {
    const body = JSON.stringify({ username: DEFAULT_USER.email, password: DEFAULT_USER.password })
    const post = (query: URLSearchParams, headers: Record<string, string>) =>
      fetch(`${sim.url}/mobile/api/login?${query}`, { method: 'POST', headers, body }).then(async (r) => ({
        status: r.status,
        message: ((await r.json()) as { error?: { message?: string } }).error?.message,
      }))
    const good = { 'content-type': 'application/json', origin: sim.url }
    const query = (changes: Record<string, string>) =>
      new URLSearchParams({ ...Object.fromEntries(MOBILE_QUERY), ...changes })
    expect(await post(query({ clientId: 'GarminConnect' }), good)).toEqual({
      status: 400,
      message: expect.stringMatching(/clientId/),
    })
    expect(
      await post(query({ service: 'https://mobile.integration.garmin.cn/gcm/ios' }), good),
    ).toMatchObject({ status: 400, message: expect.stringMatching(/service/) })
    expect(await post(MOBILE_QUERY, { ...good, 'content-type': 'text/plain' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/Content-Type/),
    })
    expect(await post(MOBILE_QUERY, { 'content-type': 'application/json' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/Origin/),
    })
    expect(await post(MOBILE_QUERY, { ...good, origin: 'https://attacker.invalid' })).toMatchObject({
      status: 400,
    })
    expect((await post(MOBILE_QUERY, good)).status).toBe(200)
  })

  it('can be made to ask for a CAPTCHA, rate limit (status or JSON body) or serve a Cloudflare page', async () => {
    sim.addFault({ route: 'login', fault: { kind: 'captcha' }, times: 1 })
    expect((await login(sim, DEFAULT_USER.email, DEFAULT_USER.password)).body.responseStatus.type).toBe(
      'CAPTCHA_REQUIRED',
    )
    sim.addFault({ route: 'login', fault: { kind: 'rateLimitBody' }, times: 1 })
    expect((await login(sim, DEFAULT_USER.email, DEFAULT_USER.password)).body.error?.['status-code']).toBe(
      '429',
    )
    sim.addFault({ route: 'login', fault: { kind: 'status', status: 429, retryAfter: 3600 }, times: 1 })
    const limited = await fetch(loginUrl(sim.url), { method: 'POST', body: '{}' })
    expect([limited.status, limited.headers.get('retry-after')]).toEqual([429, '3600'])
    sim.addFault({ route: 'login', fault: { kind: 'html' }, times: 1 })
    const challenged = await fetch(loginUrl(sim.url), { method: 'POST', body: '{}' })
    expect(challenged.status).toBe(403)
    expect(challenged.headers.get('content-type')).toMatch(/text\/html/)
    expect(await challenged.text()).toContain('Just a moment')
    expect((await login(sim, DEFAULT_USER.email, DEFAULT_USER.password)).body.responseStatus.type).toBe(
      'SUCCESSFUL',
    )
  })
})

describe('MFA', () => {
  const newestCode = () => mfaSim.inbox().at(-1)?.code ?? ''

  it('sends a fresh code to the inbox, then needs the login cookie and that code', async () => {
    const { res, body } = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    expect(body.responseStatus.type).toBe('MFA_REQUIRED')
    expect(body.customerMfaInfo?.mfaLastMethodUsed).toBe('email')
    expect(body.serviceTicketId).toBeUndefined()
    const cookie = cookiesOf(res)
    expect(cookie).toMatch(/SESSION=/)
    const code = newestCode()
    expect(code).toMatch(/^\d{6}$/)
    const inbox = (await (await fetch(`${mfaSim.url}/__sim/inbox`)).json()) as {
      messages: { code: string; method: string }[]
    }
    expect(inbox.messages.at(-1)).toMatchObject({ code, method: 'email', to: 'm***@example.com' })

    expect((await verify(mfaSim, code)).status).toBe(401)
    expect((await verify(mfaSim, code, 'SESSION=forged')).status).toBe(401)
    const wrong = await verify(mfaSim, code === '000000' ? '000001' : '000000', cookie)
    expect(wrong.body.responseStatus.type).toBe('INVALID_MFA_CODE')
    const right = await verify(mfaSim, code, cookie)
    expect(right.body.responseStatus.type).toBe('SUCCESSFUL')
    expect(right.body.serviceTicketId).toMatch(/^ST-/)
    // The MFA session is used up.
    expect((await verify(mfaSim, code, cookie)).status).toBe(401)
    expect((await exchangeTicket(mfaSim.url, right.body.serviceTicketId ?? '', OK_CLIENT)).status).toBe(200)
  })

  it('binds each code to its session: a new login sends a new code and the older one stops working', async () => {
    const first = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    const firstCode = newestCode()
    const second = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    const secondCode = newestCode()
    expect(mfaSim.inbox().length).toBeGreaterThanOrEqual(2)
    // The first session's code is dead, and the second session does not take the first code.
    expect((await verify(mfaSim, firstCode, cookiesOf(first.res))).status).toBe(401)
    if (firstCode !== secondCode) {
      expect((await verify(mfaSim, firstCode, cookiesOf(second.res))).body.responseStatus.type).toBe(
        'INVALID_MFA_CODE',
      )
    }
    expect((await verify(mfaSim, secondCode, cookiesOf(second.res))).body.responseStatus.type).toBe(
      'SUCCESSFUL',
    )
  })

  it(`allows ${MFA_TRIES - 1} wrong codes in a session, then closes it`, async () => {
    const first = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    const code = newestCode()
    const wrongCode = code === '000000' ? '000001' : '000000'
    for (let i = 0; i < MFA_TRIES - 1; i++) {
      expect((await verify(mfaSim, wrongCode, cookiesOf(first.res))).body.responseStatus.type).toBe(
        'INVALID_MFA_CODE',
      )
    }
    expect((await verify(mfaSim, code, cookiesOf(first.res))).body.responseStatus.type).toBe('SUCCESSFUL')
    const second = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    for (let i = 0; i < MFA_TRIES; i++) await verify(mfaSim, wrongCode, cookiesOf(second.res))
    expect((await verify(mfaSim, newestCode(), cookiesOf(second.res))).status).toBe(401)
  })

  it('accepts the portal path too and expires the pending session with the sim clock', async () => {
    const first = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    clock.advance(11 * 60_000)
    expect((await verify(mfaSim, newestCode(), cookiesOf(first.res))).status).toBe(401)
    const second = await login(mfaSim, 'mfa@example.com', 'pw-mfa')
    const portal = new URLSearchParams({
      clientId: 'GarminConnect',
      locale: 'en-US',
      service: 'https://connect.garmin.com/app',
    })
    const res = await fetch(`${mfaSim.url}/portal/api/mfa/verifyCode?${portal}`, {
      method: 'POST',
      headers: { cookie: cookiesOf(second.res), 'content-type': 'application/json', origin: mfaSim.url },
      body: JSON.stringify({ mfaVerificationCode: newestCode() }),
    })
    expect(((await res.json()) as SsoAnswer).responseStatus.type).toBe('SUCCESSFUL')
    expect(mfaSim.stats().byRoute.portalMfa?.['200']).toBe(1)
  })

  it('works end to end through the session helper', async () => {
    const tokens = await loginToSim(mfaSim.url, {
      email: 'mfa@example.com',
      password: 'pw-mfa',
      clientId: OK_CLIENT,
    })
    expect((await getProfile(mfaSim, tokens.accessToken)).status).toBe(200)
  })
})

describe('token exchange', () => {
  async function ticket(): Promise<string> {
    return (await login(sim, DEFAULT_USER.email, DEFAULT_USER.password)).body.serviceTicketId ?? ''
  }

  it('answers a JWT access token and a refresh token for a service ticket', async () => {
    const { status, body } = await exchangeTicket(sim.url, await ticket(), OK_CLIENT)
    expect(status).toBe(200)
    expect(body).toMatchObject({
      token_type: 'bearer',
      expires_in: 3 * 3600,
      refresh_token_expires_in: 2_592_000,
    })
    expect(typeof body.scope).toBe('string')
    const access = body.access_token as string
    expect(access.split('.')).toHaveLength(3)
    const payload = jwtPayload(access)
    expect(payload.client_id).toBe(OK_CLIENT)
    expect(payload.exp).toBe(Math.floor(clock.now() / 1000) + 3 * 3600)
    expect(payload.iss).toBe('https://diauth.garmin.com')
    expect(payload.iat).toBe(Math.floor(clock.now() / 1000))
    expect(typeof body.refresh_token).toBe('string')
  })

  it('uses each ticket once and checks the service URL', async () => {
    const t = await ticket()
    expect((await exchangeTicket(sim.url, t, OK_CLIENT)).status).toBe(200)
    const again = await exchangeTicket(sim.url, t, OK_CLIENT)
    expect([again.status, again.body.error]).toEqual([400, 'invalid_grant'])
    const wrongService = await tokenRequest(sim.url, OK_CLIENT, {
      service_ticket: await ticket(),
      grant_type: SERVICE_TICKET_GRANT,
      service_url: 'https://elsewhere.example',
    })
    expect([wrongService.status, wrongService.body.error]).toEqual([400, 'invalid_grant'])
  })

  it('expires unused tickets after five minutes of sim time', async () => {
    const t = await ticket()
    clock.advance(5 * 60_000 + 1)
    expect((await exchangeTicket(sim.url, t, OK_CLIENT)).body.error).toBe('invalid_grant')
  })

  it('refuses rejected and unknown client ids, so clients must try the next one', async () => {
    const t = await ticket()
    const rejected = await exchangeTicket(sim.url, t, DI_CLIENT_IDS[0])
    expect([rejected.status, rejected.body.error]).toEqual([401, 'invalid_client'])
    const unknown = await exchangeTicket(sim.url, t, 'SOME_OTHER_CLIENT')
    expect(unknown.status).toBe(401)
    // The refusal did not use up the ticket: the next id works.
    expect((await exchangeTicket(sim.url, t, OK_CLIENT)).status).toBe(200)
  })

  it('needs Basic client authentication matching the form', async () => {
    const noAuth = await fetch(`${sim.url}/di-oauth2-service/oauth/token`, {
      method: 'POST',
      body: new URLSearchParams({ client_id: OK_CLIENT, grant_type: 'refresh_token', refresh_token: 'x' }),
    })
    expect(noAuth.status).toBe(401)
    const mismatch = await fetch(`${sim.url}/di-oauth2-service/oauth/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${DI_CLIENT_IDS[2]}:`).toString('base64')}` },
      body: new URLSearchParams({ client_id: OK_CLIENT, grant_type: 'refresh_token', refresh_token: 'x' }),
    })
    expect(mismatch.status).toBe(401)
    const badGrant = await tokenRequest(sim.url, OK_CLIENT, { grant_type: 'password' })
    expect([badGrant.status, badGrant.body.error]).toEqual([400, 'unsupported_grant_type'])
  })
})

describe('refresh', () => {
  it('rotates: the new tokens work, the used refresh token answers invalid_grant', async () => {
    const first = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const rotated = await refreshTokens(sim.url, first.refreshToken, OK_CLIENT)
    expect(rotated.status).toBe(200)
    expect(rotated.body.refresh_token).not.toBe(first.refreshToken)
    expect(rotated.body.access_token).not.toBe(first.accessToken)
    expect((await getProfile(sim, rotated.body.access_token as string)).status).toBe(200)
    const reuse = await refreshTokens(sim.url, first.refreshToken, OK_CLIENT)
    expect([reuse.status, reuse.body]).toEqual([400, expect.objectContaining({ error: 'invalid_grant' })])
    expect((await refreshTokens(sim.url, rotated.body.refresh_token as string, OK_CLIENT)).status).toBe(200)
  })

  it('refuses a refresh token with another client id, or after it expired', async () => {
    const t = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    expect((await refreshTokens(sim.url, t.refreshToken, DI_CLIENT_IDS[2])).body.error).toBe('invalid_grant')
    clock.advance(2_592_000_000 + 1)
    expect((await refreshTokens(sim.url, t.refreshToken, OK_CLIENT)).body.error).toBe('invalid_grant')
  })

  it('answers invalid_grant for every refresh token once revoked (method and HTTP)', async () => {
    const a = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const b = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    sim.revokeRefreshTokens()
    expect((await refreshTokens(sim.url, a.refreshToken, OK_CLIENT)).body.error).toBe('invalid_grant')
    const c = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const res = await fetch(`${sim.url}/__sim/tokens`, {
      method: 'POST',
      body: JSON.stringify({ revokeRefreshTokens: true }),
    })
    expect(res.status).toBe(200)
    for (const t of [b, c]) expect((await refreshTokens(sim.url, t.refreshToken, OK_CLIENT)).status).toBe(400)
  })
})

describe('Bearer check on data calls', () => {
  it('answers 401 without a token, with an unknown one, and once it expired on the sim clock', async () => {
    expect((await getProfile(sim)).status).toBe(401)
    expect((await getProfile(sim, 'not-a-token')).status).toBe(401)
    const t = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const ok = await getProfile(sim, t.accessToken)
    expect(ok.status).toBe(200)
    expect(await ok.json()).toMatchObject({ displayName: 'runner_1', userName: DEFAULT_USER.email })
    clock.advance(3 * 3_600_000 - 1000)
    expect((await getProfile(sim, t.accessToken)).status).toBe(200)
    clock.advance(1000)
    const expired = await getProfile(sim, t.accessToken)
    expect(expired.status).toBe(401)
    expect(await expired.json()).toMatchObject({ message: 'Token is not active' })
  })

  it('expires current access tokens after K more calls, leaving newer tokens alone', async () => {
    const t = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    sim.expireAccessTokensAfter(2)
    const fresh = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const statuses = []
    for (let i = 0; i < 3; i++) statuses.push((await getProfile(sim, t.accessToken)).status)
    expect(statuses).toEqual([200, 200, 401])
    expect((await getProfile(sim, fresh.accessToken)).status).toBe(200)
    await fetch(`${sim.url}/__sim/tokens`, {
      method: 'POST',
      body: JSON.stringify({ expireAccessTokensAfter: 0 }),
    })
    expect((await getProfile(sim, fresh.accessToken)).status).toBe(401)
  })

  it('can give every access token a fixed number of calls', async () => {
    const limited = await startSimulator({ activities: 3, accessTokenMaxCalls: 1, accessTokenTtlSeconds: 60 })
    try {
      const t = await loginToSim(limited.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
      expect(t.expiresIn).toBe(60)
      expect((await getProfile(limited, t.accessToken)).status).toBe(200)
      expect((await getProfile(limited, t.accessToken)).status).toBe(401)
    } finally {
      await limited.close()
    }
  })

  it('lists the password, tickets and every token among its secrets', async () => {
    const t = await loginToSim(sim.url, { ...DEFAULT_USER, clientId: OK_CLIENT })
    const secrets = sim.secrets()
    expect(secrets).toContain(DEFAULT_USER.password)
    expect(secrets).toContain(t.accessToken)
    expect(secrets).toContain(t.refreshToken)
    expect(secrets.some((s) => s.startsWith('ST-'))).toBe(true)
  })
})
