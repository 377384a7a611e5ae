/**
 * The simulator's SSO and token service, as strict as Garmin's: the mobile, portal and embed-widget
 * sign-ins (each with its query, headers and cookies checked), MFA codes bound to the SSO session that
 * asked for them, service tickets, DI OAuth2 tokens (JWT access tokens, rotating refresh tokens) and the
 * Bearer check of every data call.
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto'

/** The DI client ids the mobile apps use (docs/garmin-api.md), tried in this order by clients. */
export const DI_CLIENT_IDS = [
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI',
  'GARMIN_CONNECT_MOBILE_IOS_DI',
] as const
export const SERVICE_TICKET_GRANT =
  'https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket'
const SCOPES = [
  'COMMUNITY_COURSE_READ',
  'CONNECT_MCP_DEVICE_DATA_READ',
  'CONNECT_NON_SOCIAL_SHARED_READ',
  'CONNECT_READ',
  'CONNECT_WRITE',
  'DI_OAUTH_2_AUTHORIZATION_CODE_CREATE',
  'DT_CLIENT_ANALYTICS_WRITE',
  'GARMINPAY_READ',
  'GOLF_API_READ',
  'INSIGHTS_READ',
]
const TICKET_TTL_MS = 5 * 60_000
const MFA_SESSION_TTL_MS = 10 * 60_000
/** Wrong codes one SSO session accepts before it is closed. */
export const MFA_TRIES = 5
export const SESSION_COOKIE = 'SESSION'

export type SimDomain = 'garmin.com' | 'garmin.cn'
export type MfaMethod = 'email' | 'sms'

/** The mobile apps' SSO client ids and the service each signs in for. */
const MOBILE_CLIENTS: Record<string, (domain: SimDomain) => string> = {
  GCM_IOS_DARK: (domain) => `https://mobile.integration.${domain}/gcm/ios`,
  GCM_ANDROID_DARK: (domain) => `https://mobile.integration.${domain}/gcm/android`,
}
export const PORTAL_CLIENT_ID = 'GarminConnect'
export const portalService = (domain: SimDomain) => `https://connect.${domain}/app`

export interface AuthOptions {
  email: string
  password: string
  /** The account has MFA on: every sign-in sends a fresh code by this method to the inbox. */
  mfa?: MfaMethod
  /**
   * The account is locked (too many failed sign-ins, or by Garmin): every sign-in with its email is
   * refused as locked, whatever the password, until it is unlocked at Garmin's site.
   */
  locked?: boolean
  domain: SimDomain
  accessTokenTtlSeconds: number
  refreshTokenTtlSeconds: number
  rejectedClientIds: readonly string[]
  /** Every access token answers 401 after this many data calls (unset: no limit). */
  accessTokenMaxCalls?: number
  now: () => number
}

export interface AuthAnswer {
  status: number
  body: unknown
  headers?: Record<string, string | string[]>
  /** The body is this HTML page instead of JSON. */
  html?: string
}

/** One request to an SSO route, as the server hands it over. */
export interface SsoRequest {
  query: URLSearchParams
  body: string
  cookie: string | undefined
  contentType: string
  origin: string | undefined
  /** The origin of the SSO host that received the request (what a browser would send as Origin). */
  ssoOrigin: string
}

/** A code "sent" to the user: what the simulator's inbox holds. */
export interface InboxMessage {
  method: MfaMethod
  to: string
  code: string
  /** Sim-clock epoch ms. */
  sentAt: number
}

interface PendingMfa {
  code: string
  method: MfaMethod
  /** The service the sign-in was for: the ticket is issued for it. */
  service: string
  expMs: number
  wrong: number
}

interface SsoSession {
  flow: 'mobile' | 'portal' | 'widget'
  csrf?: string
  mfa?: PendingMfa
}

interface AccessToken {
  expMs: number
  clientId: string
  callsLeft?: number
}
interface RefreshToken {
  expMs: number
  clientId: string
  state: 'active' | 'used' | 'revoked'
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url')
}

function ssoAnswer(type: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { serviceURL: null, responseStatus: { type, message: '', httpStatus: 'OK' }, ...extra }
}

function badRequest(message: string): AuthAnswer {
  return { status: 400, body: { error: { 'status-code': '400', message } } }
}

/** Cookie value by name from a `Cookie` request header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

function page(title: string, body: string): string {
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`
}

function htmlAnswer(status: number, html: string, headers: Record<string, string | string[]> = {}) {
  return { status, body: undefined, html, headers }
}

/** The query of the widget's `/sso/signin` (docs/garmin-api.md), for an SSO at `ssoOrigin`. */
export function widgetSigninQuery(ssoOrigin: string): URLSearchParams {
  const embed = `${ssoOrigin}/sso/embed`
  return new URLSearchParams({
    id: 'gauth-widget',
    embedWidget: 'true',
    gauthHost: embed,
    service: embed,
    source: embed,
    redirectAfterAccountLoginUrl: embed,
    redirectAfterAccountCreationUrl: embed,
  })
}

export class AuthService {
  private readonly tickets = new Map<string, { service: string; expMs: number }>()
  private readonly sessions = new Map<string, SsoSession>()
  private readonly access = new Map<string, AccessToken>()
  private readonly refresh = new Map<string, RefreshToken>()
  private readonly issued: string[] = []
  private readonly messages: InboxMessage[] = []
  private readonly guid = randomUUID()

  constructor(private readonly options: AuthOptions) {}

  /** The password, every service ticket and every token handed out: none of them may leak into output. */
  secrets(): string[] {
    return [this.options.password, ...this.issued]
  }

  /** Every MFA code sent so far, oldest first. */
  inbox(): InboxMessage[] {
    return this.messages.map((m) => ({ ...m }))
  }

  // ---- mobile and portal: JSON APIs ----

  /** `POST /mobile/api/login?clientId&locale&service` with JSON {username, password, rememberMe, captchaToken}. */
  mobileLogin(req: SsoRequest): AuthAnswer {
    const clientId = req.query.get('clientId') ?? ''
    const serviceOf = MOBILE_CLIENTS[clientId]
    if (!serviceOf) return badRequest(`unknown clientId ${JSON.stringify(clientId)}`)
    const problem = this.jsonApiProblem(req, serviceOf(this.options.domain))
    if (problem) return problem
    // The mobile API hands out a new SSO session with every sign-in.
    const id = this.openSession({ flow: 'mobile' })
    return this.credentials(req, id, serviceOf(this.options.domain))
  }

  /** `GET /portal/sso/en-US/sign-in?clientId=GarminConnect&service=...`: the page that opens a portal session. */
  portalPage(req: SsoRequest): AuthAnswer {
    if (req.query.get('clientId') !== PORTAL_CLIENT_ID) return badRequest('clientId must be GarminConnect')
    if (req.query.get('service') !== portalService(this.options.domain)) {
      return badRequest('service is not the portal service for this domain')
    }
    const id = this.openSession({ flow: 'portal' })
    return htmlAnswer(200, page('Sign In', '<div id="root"></div>'), this.sessionCookies(id))
  }

  /** `POST /portal/api/login`: like the mobile one, but only inside a session the sign-in page opened. */
  portalLogin(req: SsoRequest): AuthAnswer {
    if (req.query.get('clientId') !== PORTAL_CLIENT_ID) return badRequest('clientId must be GarminConnect')
    const service = portalService(this.options.domain)
    const problem = this.jsonApiProblem(req, service)
    if (problem) return problem
    const id = cookieValue(req.cookie, SESSION_COOKIE)
    if (id === undefined || this.sessions.get(id)?.flow !== 'portal') {
      return { status: 403, body: { error: { 'status-code': '403', message: 'no sign-in session' } } }
    }
    return this.credentials(req, id, service)
  }

  /** `POST /{mobile|portal}/api/mfa/verifyCode`: needs the session cookie of the sign-in that sent the code. */
  verifyMfa(path: 'mobile' | 'portal', req: SsoRequest): AuthAnswer {
    const clientId = req.query.get('clientId') ?? ''
    const service =
      path === 'portal'
        ? clientId === PORTAL_CLIENT_ID
          ? portalService(this.options.domain)
          : undefined
        : MOBILE_CLIENTS[clientId]?.(this.options.domain)
    if (!service) return badRequest(`clientId ${JSON.stringify(clientId)} does not belong on this path`)
    const problem = this.jsonApiProblem(req, service)
    if (problem) return problem
    const body = parseJsonObject(req.body)
    if (!body || typeof body.mfaVerificationCode !== 'string') {
      return badRequest('mfaVerificationCode is required')
    }
    const checked = this.checkCode(req.cookie, body.mfaVerificationCode)
    if (checked === 'no session') {
      return { status: 401, body: ssoAnswer('SESSION_EXPIRED', { error: { 'status-code': '401' } }) }
    }
    if (checked === 'wrong') return { status: 200, body: ssoAnswer('INVALID_MFA_CODE') }
    return { status: 200, body: this.successful(checked.service) }
  }

  /** What Garmin checks on the JSON sign-in APIs besides the credentials; undefined when all is well. */
  private jsonApiProblem(req: SsoRequest, service: string): AuthAnswer | undefined {
    if (req.query.get('service') !== service) {
      return badRequest('service is not the one this clientId signs in for on this domain')
    }
    if (!/^application\/json\b/i.test(req.contentType)) return badRequest('Content-Type must be JSON')
    // The SSO's own origin: this listener's, or Garmin's for a client that was pointed here some other way.
    if (req.origin !== req.ssoOrigin && req.origin !== `https://sso.${this.options.domain}`) {
      return badRequest('Origin must be the SSO host')
    }
    return undefined
  }

  private credentials(req: SsoRequest, id: string, service: string): AuthAnswer {
    const headers = this.sessionCookies(id)
    const body = parseJsonObject(req.body)
    if (!body || typeof body.username !== 'string' || typeof body.password !== 'string') {
      return { ...badRequest('username and password are required'), headers }
    }
    // The JSON answer for a locked account is not recorded; this type carries what clients look for.
    if (this.lockedOut(body.username)) return { status: 200, body: ssoAnswer('ACCOUNT_LOCKED'), headers }
    if (!this.passwordOk(body.username, body.password)) {
      return { status: 200, body: ssoAnswer('INVALID_USERNAME_PASSWORD'), headers }
    }
    const mfa = this.startMfa(id, service)
    if (mfa) {
      return {
        status: 200,
        body: ssoAnswer('MFA_REQUIRED', {
          serviceURL: service,
          customerMfaInfo: { mfaLastMethodUsed: mfa.method, mfaSetup: false, email: mfa.to },
        }),
        headers,
      }
    }
    return { status: 200, body: this.successful(service), headers }
  }

  // ---- the SSO embed widget: HTML forms with CSRF ----

  /** `GET /sso/embed?id=gauth-widget&embedWidget=true&gauthHost={sso}/sso`: opens a widget session. */
  widgetEmbed(req: SsoRequest): AuthAnswer {
    const q = req.query
    if (q.get('id') !== 'gauth-widget' || q.get('embedWidget') !== 'true') {
      return badRequest('id=gauth-widget&embedWidget=true are required')
    }
    if (q.get('gauthHost') !== `${req.ssoOrigin}/sso`) return badRequest('gauthHost must be this SSO')
    const id = this.openSession({ flow: 'widget' })
    return htmlAnswer(200, page('GARMIN Authentication Application', ''), this.sessionCookies(id))
  }

  /** `GET /sso/signin?...`: the sign-in form, with a CSRF token bound to the widget session. */
  widgetPage(req: SsoRequest): AuthAnswer {
    const problem = this.widgetQueryProblem(req)
    if (problem) return problem
    const session = this.widgetSession(req.cookie)
    if (!session) return htmlAnswer(403, page('Forbidden', '<h1>Forbidden</h1>'))
    session.csrf = base64url(randomBytes(18))
    return htmlAnswer(200, this.widgetForm(session.csrf))
  }

  /** `POST /sso/signin` (form: username, password, embed, _csrf): a Success page with the ticket, or the MFA page. */
  widgetLogin(req: SsoRequest): AuthAnswer {
    const form = this.widgetFormProblem(req)
    if ('status' in form) return form
    const { id, fields } = form
    const service = `${req.ssoOrigin}/sso/embed`
    if (this.lockedOut(fields.get('username') ?? '')) {
      // Clients (the reference's widget strategy) look for "locked" in the title.
      return htmlAnswer(
        200,
        page(
          'GARMIN Authentication Application - Account Locked',
          '<div class="error">Your account is locked.</div>',
        ),
      )
    }
    if (!this.passwordOk(fields.get('username') ?? '', fields.get('password') ?? '')) {
      // The real page's title is not recorded; this one carries what clients look for ("invalid").
      return htmlAnswer(
        200,
        page(
          'GARMIN Authentication Application - Invalid sign in',
          '<div class="error">Invalid sign in.</div>',
        ),
      )
    }
    const mfa = this.startMfa(id, service)
    if (mfa) return htmlAnswer(200, this.widgetMfaPage(this.widgetSession(req.cookie)?.csrf ?? '', mfa))
    return htmlAnswer(200, this.widgetSuccess(service))
  }

  /** `POST /sso/verifyMFA/loginEnterMfaCode` (form: mfa-code, embed, _csrf, fromPage). */
  widgetVerifyMfa(req: SsoRequest): AuthAnswer {
    const form = this.widgetFormProblem(req)
    if ('status' in form) return form
    const checked = this.checkCode(req.cookie, form.fields.get('mfa-code') ?? '')
    if (checked === 'no session') return htmlAnswer(200, page('Session expired', ''))
    if (checked === 'wrong') {
      const pending = this.sessions.get(form.id)?.mfa
      return htmlAnswer(
        200,
        this.widgetMfaPage(this.sessions.get(form.id)?.csrf ?? '', {
          method: pending?.method ?? 'email',
          to: maskEmail(this.options.email),
          title: 'Enter MFA code for login',
        }),
      )
    }
    return htmlAnswer(200, this.widgetSuccess(checked.service))
  }

  private widgetQueryProblem(req: SsoRequest): AuthAnswer | undefined {
    for (const [key, value] of widgetSigninQuery(req.ssoOrigin)) {
      if (req.query.get(key) !== value) return badRequest(`${key} must be ${value}`)
    }
    return undefined
  }

  private widgetFormProblem(req: SsoRequest): AuthAnswer | { id: string; fields: URLSearchParams } {
    const problem = this.widgetQueryProblem(req)
    if (problem) return problem
    if (!/^application\/x-www-form-urlencoded\b/i.test(req.contentType)) {
      return badRequest('the widget posts a form')
    }
    const id = cookieValue(req.cookie, SESSION_COOKIE)
    const session = this.widgetSession(req.cookie)
    const fields = new URLSearchParams(req.body)
    // Spring Security's answer to a missing or wrong CSRF token: 403.
    if (!id || !session?.csrf || fields.get('_csrf') !== session.csrf) {
      return htmlAnswer(403, page('Forbidden', '<h1>Invalid CSRF token</h1>'))
    }
    return { id, fields }
  }

  private widgetSession(cookie: string | undefined): SsoSession | undefined {
    const id = cookieValue(cookie, SESSION_COOKIE)
    const session = id === undefined ? undefined : this.sessions.get(id)
    return session?.flow === 'widget' ? session : undefined
  }

  private widgetForm(csrf: string): string {
    return page(
      'GARMIN Authentication Application',
      `<form method="post" id="login-form"><input type="hidden" name="_csrf" value="${csrf}"/><input name="username"/><input type="password" name="password"/><input type="hidden" name="embed" value="true"/></form>`,
    )
  }

  private widgetMfaPage(csrf: string, mfa: { method: MfaMethod; to: string; title?: string }): string {
    return page(
      mfa.title ?? 'GARMIN Authentication Application',
      `<script>var customerGuid = "${this.guid}"; var mfaMethod = "${mfa.method}"; var locale = "en-US"; var clientId = ""; var codeSentTo = "${mfa.to}";</script><form method="post"><input type="hidden" name="_csrf" value="${csrf}"/><input name="mfa-code"/></form>`,
    )
  }

  private widgetSuccess(service: string): string {
    const { serviceTicketId } = this.successful(service) as { serviceTicketId: string }
    return page(
      'Success',
      `<script>var response_url = "${service}?ticket=${serviceTicketId}";</script><a href="${service}?ticket=${serviceTicketId}">continue</a>`,
    )
  }

  // ---- sessions and MFA codes ----

  private openSession(session: SsoSession): string {
    const id = base64url(randomBytes(24))
    this.sessions.set(id, session)
    return id
  }

  private sessionCookies(id: string): Record<string, string[]> {
    return {
      'set-cookie': [
        `${SESSION_COOKIE}=${id}; Path=/; Secure; HttpOnly; SameSite=None`,
        `__cf_bm=${base64url(randomBytes(16))}; Path=/; HttpOnly`,
      ],
    }
  }

  private lockedOut(username: string): boolean {
    return this.options.locked === true && username.toLowerCase() === this.options.email.toLowerCase()
  }

  private passwordOk(username: string, password: string): boolean {
    return username.toLowerCase() === this.options.email.toLowerCase() && password === this.options.password
  }

  /** With MFA on: a fresh code for this session, sent to the inbox; every older code stops working. */
  private startMfa(id: string, service: string): { method: MfaMethod; to: string } | undefined {
    const method = this.options.mfa
    const session = this.sessions.get(id)
    if (!method || !session) return undefined
    for (const other of this.sessions.values()) delete other.mfa
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
    const now = this.options.now()
    session.mfa = { code, method, service, expMs: now + MFA_SESSION_TTL_MS, wrong: 0 }
    const to = method === 'email' ? maskEmail(this.options.email) : '+** *** ** 42'
    this.messages.push({ method, to, code, sentAt: now })
    return { method, to }
  }

  private checkCode(cookie: string | undefined, code: string): 'no session' | 'wrong' | PendingMfa {
    const id = cookieValue(cookie, SESSION_COOKIE)
    const session = id === undefined ? undefined : this.sessions.get(id)
    const pending = session?.mfa
    if (!session || !pending || pending.expMs <= this.options.now()) return 'no session'
    if (code !== pending.code) {
      pending.wrong += 1
      if (pending.wrong >= MFA_TRIES) delete session.mfa
      return 'wrong'
    }
    delete session.mfa
    return pending
  }

  private successful(service: string): Record<string, unknown> {
    const ticket = `ST-${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}-${base64url(randomBytes(15))}-cas`
    this.tickets.set(ticket, { service, expMs: this.options.now() + TICKET_TTL_MS })
    this.issued.push(ticket)
    return ssoAnswer('SUCCESSFUL', { serviceURL: service, serviceTicketId: ticket, customerMfaInfo: null })
  }

  // ---- the token service ----

  /** `POST /di-oauth2-service/oauth/token`, form-encoded, `Authorization: Basic base64(client_id:)`. */
  token(authorization: string | undefined, rawBody: string): AuthAnswer {
    const form = new URLSearchParams(rawBody)
    const basic = /^Basic\s+(\S+)$/i.exec(authorization ?? '')
    const basicId = basic ? Buffer.from(basic[1]!, 'base64').toString('utf8').replace(/:.*$/s, '') : undefined
    const clientId = form.get('client_id') ?? basicId
    const invalidClient = (description: string): AuthAnswer => ({
      status: 401,
      body: { error: 'invalid_client', error_description: description },
    })
    if (!basicId || !clientId) return invalidClient('client authentication (Basic client_id:) is required')
    if (basicId !== clientId) return invalidClient('client_id does not match the Basic credentials')
    if (!(DI_CLIENT_IDS as readonly string[]).includes(clientId))
      return invalidClient(`unknown client ${clientId}`)
    if (this.options.rejectedClientIds.includes(clientId))
      return invalidClient(`client ${clientId} is not allowed`)
    const invalidGrant = (description: string): AuthAnswer => ({
      status: 400,
      body: { error: 'invalid_grant', error_description: description },
    })
    const now = this.options.now()
    const grant = form.get('grant_type')
    if (grant === SERVICE_TICKET_GRANT) {
      const ticket = form.get('service_ticket') ?? ''
      const known = this.tickets.get(ticket)
      // Service tickets are single-use, whatever the outcome.
      this.tickets.delete(ticket)
      if (!known || known.expMs <= now) return invalidGrant('service ticket is unknown, used or expired')
      if (form.get('service_url') !== known.service)
        return invalidGrant('service_url does not match the login service')
      return { status: 200, body: this.issue(clientId) }
    }
    if (grant === 'refresh_token') {
      const value = form.get('refresh_token') ?? ''
      const known = this.refresh.get(value)
      if (known?.state !== 'active' || known.expMs <= now || known.clientId !== clientId) {
        return invalidGrant('refresh token is invalid, used, revoked or expired')
      }
      // Rotation: the refresh token just used stops working.
      known.state = 'used'
      return { status: 200, body: this.issue(clientId) }
    }
    return {
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: `grant_type ${grant}` },
    }
  }

  private issue(clientId: string): Record<string, unknown> {
    const now = this.options.now()
    const iat = Math.floor(now / 1000)
    const accessTtl = this.options.accessTokenTtlSeconds
    const refreshTtl = this.options.refreshTokenTtlSeconds
    const accessToken = this.jwt({ exp: iat + accessTtl, iat, client_id: clientId, scope: SCOPES })
    const refreshToken = this.jwt({ exp: iat + refreshTtl, iat, client_id: clientId, token_use: 'refresh' })
    this.access.set(accessToken, {
      expMs: (iat + accessTtl) * 1000,
      clientId,
      ...(this.options.accessTokenMaxCalls === undefined
        ? {}
        : { callsLeft: this.options.accessTokenMaxCalls }),
    })
    this.refresh.set(refreshToken, { expMs: (iat + refreshTtl) * 1000, clientId, state: 'active' })
    this.issued.push(accessToken, refreshToken)
    return {
      scope: SCOPES.join(' '),
      jti: randomUUID(),
      access_token: accessToken,
      token_type: 'bearer',
      refresh_token: refreshToken,
      expires_in: accessTtl,
      refresh_token_expires_in: refreshTtl,
    }
  }

  /** Shaped like Garmin's DI tokens (RS256, ~1 KB); the signature is random: only this server checks it. */
  private jwt(claims: Record<string, unknown>): string {
    const header = { alg: 'RS256', typ: 'JWT', kid: 'di-oauth-signer-prod-2024-q4' }
    const payload = {
      ...claims,
      iss: `https://diauth.${this.options.domain}`,
      revocation_eligibility: ['GLOBAL_SIGNOUT'],
      client_type: 'UNDEFINED',
      garmin_guid: this.guid,
      jti: randomUUID(),
    }
    return `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(payload))}.${base64url(randomBytes(256))}`
  }

  /** The Bearer check of a data call; undefined when the call may go on. */
  checkBearer(authorization: string | undefined): AuthAnswer | undefined {
    const m = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')
    const unauthorized = (message: string): AuthAnswer => ({
      status: 401,
      body: { message, error: 'Unauthorized' },
      headers: { 'www-authenticate': 'Bearer error="invalid_token"' },
    })
    if (!m) return unauthorized('Full authentication is required to access this resource')
    const token = this.access.get(m[1]!)
    if (!token || token.expMs <= this.options.now() || token.callsLeft === 0)
      return unauthorized('Token is not active')
    if (token.callsLeft !== undefined) token.callsLeft -= 1
    return undefined
  }

  revokeRefreshTokens(): void {
    for (const token of this.refresh.values()) token.state = 'revoked'
  }

  /** Each access token issued so far answers 401 after `calls` more data calls made with it. */
  expireAccessTokensAfter(calls: number): void {
    for (const token of this.access.values()) {
      token.callsLeft = token.callsLeft === undefined ? calls : Math.min(token.callsLeft, calls)
    }
  }
}

function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw)
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined
  } catch {
    return undefined
  }
}

function maskEmail(email: string): string {
  const [name = '', domain = ''] = email.split('@')
  return `${name.slice(0, 1)}***@${domain}`
}
