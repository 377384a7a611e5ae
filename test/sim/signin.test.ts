/**
 * The simulator's stricter sign-in surface: per-host listeners, the portal and widget flows with their
 * cookies and CSRF, the bot check that stands in for TLS fingerprinting, faults scoped to one route or
 * one grant, and tokens that name their domain.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../helpers/fake-clock.js'
import { impitLoads, impitTransport } from '../helpers/impit.js'
import { DI_CLIENT_IDS, SERVICE_TICKET_GRANT, widgetSigninQuery } from './auth.js'
import { DEFAULT_USER, type SimOptions, type Simulator, startSimulator } from './server.js'
import { basicAuth, loginToSim, loginUrl, refreshTokens } from './session.js'

const clock = new FakeClock()
const sims: Simulator[] = []
async function sim(options: SimOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ activities: 3, now: () => clock.now(), ...options })
  sims.push(s)
  return s
}
let plain: Simulator
beforeAll(async () => {
  plain = await sim()
})
afterAll(async () => {
  await Promise.all(sims.map((s) => s.close()))
})

const credentials = JSON.stringify({
  username: DEFAULT_USER.email,
  password: DEFAULT_USER.password,
  rememberMe: true,
  captchaToken: '',
})

function cookiesOf(res: Response): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
}

describe('hosts', () => {
  it('answers each route only on its own host', async () => {
    const { sso, diauth, connectapi } = plain.hosts
    const post = (base: string) =>
      fetch(loginUrl(base), {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: base },
        body: credentials,
      })
    expect((await post(sso)).status).toBe(200)
    expect((await post(connectapi)).status).toBe(404)
    expect((await post(diauth)).status).toBe(404)
    const tokens = await loginToSim(plain.url, DEFAULT_USER)
    const profile = (base: string) =>
      fetch(`${base}/userprofile-service/socialProfile`, {
        headers: { authorization: `Bearer ${tokens.accessToken}` },
      })
    expect((await profile(connectapi)).status).toBe(200)
    expect((await profile(sso)).status).toBe(404)
    expect((await refreshTokens(sso, tokens.refreshToken)).status).toBe(404)
    expect((await refreshTokens(diauth, tokens.refreshToken)).status).toBe(200)
    expect(plain.garminUrl).toBe(`sso=${sso},diauth=${diauth},connectapi=${connectapi}`)
  })
})

describe('the portal flow', () => {
  const portalQuery = new URLSearchParams({
    clientId: 'GarminConnect',
    service: 'https://connect.garmin.com/app',
  })
  const loginQuery = new URLSearchParams({
    clientId: 'GarminConnect',
    locale: 'en-US',
    service: 'https://connect.garmin.com/app',
  })

  it('needs the sign-in page’s session, then answers like the mobile API with a ticket for the portal service', async () => {
    const base = plain.hosts.sso
    const post = (cookie?: string) =>
      fetch(`${base}/portal/api/login?${loginQuery}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: base, ...(cookie ? { cookie } : {}) },
        body: credentials,
      })
    expect((await post()).status).toBe(403)
    const page = await fetch(`${base}/portal/sso/en-US/sign-in?${portalQuery}`)
    expect(page.headers.get('content-type')).toMatch(/text\/html/)
    const answer = (await (await post(cookiesOf(page))).json()) as {
      responseStatus: { type: string }
      serviceTicketId: string
      serviceURL: string
    }
    expect(answer).toMatchObject({
      responseStatus: { type: 'SUCCESSFUL' },
      serviceURL: 'https://connect.garmin.com/app',
    })
    const exchange = await fetch(`${plain.hosts.diauth}/di-oauth2-service/oauth/token`, {
      method: 'POST',
      headers: {
        authorization: basicAuth(DI_CLIENT_IDS[0]),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({
        client_id: DI_CLIENT_IDS[0],
        service_ticket: answer.serviceTicketId,
        grant_type: SERVICE_TICKET_GRANT,
        service_url: 'https://connect.garmin.com/app',
      }),
    })
    expect(exchange.status).toBe(200)
  })
})

describe('the SSO embed widget', () => {
  it('needs the embed cookie and the form’s CSRF token, and answers a Success page with the ticket', async () => {
    const base = plain.hosts.sso
    const embed = `${base}/sso/embed`
    const signinQuery = widgetSigninQuery(base)
    const first = await fetch(
      `${embed}?id=gauth-widget&embedWidget=true&gauthHost=${encodeURIComponent(`${base}/sso`)}`,
    )
    expect(first.status).toBe(200)
    const cookie = cookiesOf(first)
    expect((await fetch(`${base}/sso/signin?${signinQuery}`)).status).toBe(403)
    const form = await (await fetch(`${base}/sso/signin?${signinQuery}`, { headers: { cookie } })).text()
    const csrf = /name="_csrf" value="([^"]+)"/.exec(form)?.[1]
    expect(csrf).toBeDefined()
    const post = (fields: Record<string, string>) =>
      fetch(`${base}/sso/signin?${signinQuery}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields),
      })
    const user = { username: DEFAULT_USER.email, password: DEFAULT_USER.password, embed: 'true' }
    expect((await post({ ...user, _csrf: 'forged' })).status).toBe(403)
    const wrong = await (await post({ ...user, password: 'nope', _csrf: csrf ?? '' })).text()
    expect(wrong).toMatch(/<title>[^<]*Invalid[^<]*<\/title>/)
    const success = await (await post({ ...user, _csrf: csrf ?? '' })).text()
    expect(success).toContain('<title>Success</title>')
    expect(success).toMatch(new RegExp(`${embed}\\?ticket=ST-`))
  })
})

describe('bot check (stands in for TLS fingerprinting)', () => {
  it('refuses what Node’s fetch sends on sso', async () => {
    const s = await sim({ botCheck: { answer: 'captcha' } })
    const headers = { 'content-type': 'application/json', origin: s.hosts.sso }
    const byFetch = await fetch(loginUrl(s.hosts.sso), { method: 'POST', headers, body: credentials })
    expect(((await byFetch.json()) as { responseStatus: { type: string } }).responseStatus.type).toBe(
      'CAPTCHA_REQUIRED',
    )
    // Headers cannot buy fetch out of it, as they cannot change a TLS fingerprint.
    const disguised = await fetch(loginUrl(s.hosts.sso), {
      method: 'POST',
      headers: { ...headers, 'sec-fetch-mode': 'navigate', 'accept-language': 'en-US,en;q=0.9' },
      body: credentials,
    })
    expect(((await disguised.json()) as { responseStatus: { type: string } }).responseStatus.type).toBe(
      'CAPTCHA_REQUIRED',
    )
    const page = await fetch(`${s.hosts.sso}/portal/sso/en-US/sign-in?clientId=GarminConnect`)
    expect([page.status, page.headers.get('cf-mitigated')]).toEqual([403, 'challenge'])

    // The token service and the data API are not checked unless asked for.
    expect(await loginToSim(s.url, DEFAULT_USER).catch((e: Error) => e.message)).toMatch(/CAPTCHA_REQUIRED/)
  })

  it.runIf(impitLoads)('lets impit through', async () => {
    const s = await sim({ botCheck: { answer: 'captcha' } })
    const headers = { 'content-type': 'application/json', origin: s.hosts.sso }
    const byImpit = await (await impitTransport())(loginUrl(s.hosts.sso), {
      method: 'POST',
      headers,
      body: credentials,
    })
    expect(((await byImpit.json()) as { responseStatus: { type: string } }).responseStatus.type).toBe(
      'SUCCESSFUL',
    )
  })

  it('answers a 403 page instead in html mode, and covers the token service with diauth', async () => {
    const s = await sim({ botCheck: { answer: 'html', diauth: true } })
    const byFetch = await fetch(loginUrl(s.hosts.sso), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: s.hosts.sso },
      body: credentials,
    })
    expect([byFetch.status, byFetch.headers.get('content-type')]).toEqual([
      403,
      expect.stringMatching(/text\/html/),
    ])
    const refresh = await fetch(`${s.hosts.diauth}/di-oauth2-service/oauth/token`, {
      method: 'POST',
      body: 'grant_type=refresh_token',
    })
    expect(refresh.status).toBe(403)
    expect(s.stats().byRoute).toEqual({ login: { 403: 1 }, token: { 403: 1 } })
  })
})

describe('scoped faults', () => {
  it('fail one route (the mobile login) and leave the portal alone', async () => {
    const s = await sim()
    s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
    const mobile = await fetch(loginUrl(s.hosts.sso), { method: 'POST', body: credentials })
    expect(mobile.status).toBe(429)
    const page = await fetch(
      `${s.hosts.sso}/portal/sso/en-US/sign-in?clientId=GarminConnect&service=${encodeURIComponent('https://connect.garmin.com/app')}`,
    )
    expect(page.status).toBe(200)
  })

  it('fail refreshes only, with a 403 challenge page, while exchanges go through', async () => {
    const s = await sim()
    s.addFault({ route: 'refresh', fault: { kind: 'html' } })
    const tokens = await loginToSim(s.url, DEFAULT_USER)
    const refreshed = await refreshTokens(s.url, tokens.refreshToken).catch(() => undefined)
    expect(refreshed).toBeUndefined() // the body is HTML, not JSON
    expect(s.stats().byRoute.token).toEqual({ 200: 1, 403: 1 })
  })
})

describe('tokens', () => {
  it('live three hours by default and name the issuing domain in iss', async () => {
    const cn = await sim({ domain: 'garmin.cn' })
    const res = await fetch(loginUrl(cn.url).replace('garmin.com', 'garmin.cn'), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: cn.url },
      body: credentials,
    })
    const { serviceTicketId } = (await res.json()) as { serviceTicketId: string }
    const exchange = await fetch(`${cn.url}/di-oauth2-service/oauth/token`, {
      method: 'POST',
      headers: { authorization: basicAuth(DI_CLIENT_IDS[0]) },
      body: new URLSearchParams({
        client_id: DI_CLIENT_IDS[0],
        service_ticket: serviceTicketId,
        grant_type: SERVICE_TICKET_GRANT,
        service_url: 'https://mobile.integration.garmin.cn/gcm/ios',
      }),
    })
    const body = (await exchange.json()) as { access_token: string; expires_in: number }
    expect(body.expires_in).toBe(10_800)
    const payload = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString())
    expect(payload.iss).toBe('https://diauth.garmin.cn')
    // The .com service URL is not this domain's.
    const wrongDomain = await fetch(loginUrl(cn.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: cn.url },
      body: credentials,
    })
    expect(wrongDomain.status).toBe(400)
  })
})
