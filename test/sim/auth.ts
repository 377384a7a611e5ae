/**
 * The simulator's SSO and token service: mobile login (+ MFA behind a session cookie), service tickets,
 * DI OAuth2 tokens (JWT access tokens, rotating refresh tokens) and the Bearer check of every data call.
 */
import { randomBytes, randomUUID } from 'node:crypto'

/** The DI client ids the mobile apps use (../shared/garmin-protocol.md), tried in this order by clients. */
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
export const SESSION_COOKIE = 'SESSION'

export interface AuthOptions {
  email: string
  password: string
  mfaCode?: string
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

/** Cookie value by name from a `Cookie` request header. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=')
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim()
  }
  return undefined
}

export class AuthService {
  private readonly tickets = new Map<string, { service: string; expMs: number }>()
  private readonly mfaSessions = new Map<string, { service: string; expMs: number }>()
  private readonly access = new Map<string, AccessToken>()
  private readonly refresh = new Map<string, RefreshToken>()
  private readonly issued: string[] = []
  private readonly guid = randomUUID()

  constructor(private readonly options: AuthOptions) {}

  /** The password, every service ticket and every token handed out: none of them may leak into output. */
  secrets(): string[] {
    return [this.options.password, ...this.issued]
  }

  /** `POST /mobile/api/login?clientId&locale&service` with JSON {username, password, rememberMe, captchaToken}. */
  login(query: URLSearchParams, rawBody: string): AuthAnswer {
    const service = query.get('service')
    if (!query.get('clientId') || !service) {
      return {
        status: 400,
        body: { error: { 'status-code': '400', message: 'clientId and service are required' } },
      }
    }
    const body = parseJsonObject(rawBody)
    if (!body || typeof body.username !== 'string' || typeof body.password !== 'string') {
      return {
        status: 400,
        body: { error: { 'status-code': '400', message: 'username and password are required' } },
      }
    }
    // The SSO hands out a session cookie with every answer; only the MFA step needs it back.
    const session = base64url(randomBytes(24))
    const headers = {
      'set-cookie': [
        `${SESSION_COOKIE}=${session}; Path=/; HttpOnly; SameSite=None`,
        `__cf_bm=${base64url(randomBytes(16))}; Path=/; HttpOnly`,
      ],
    }
    const userOk =
      body.username.toLowerCase() === this.options.email.toLowerCase() &&
      body.password === this.options.password
    if (!userOk) return { status: 200, body: ssoAnswer('INVALID_USERNAME_PASSWORD'), headers }
    if (this.options.mfaCode !== undefined) {
      this.mfaSessions.set(session, { service, expMs: this.options.now() + MFA_SESSION_TTL_MS })
      return {
        status: 200,
        body: ssoAnswer('MFA_REQUIRED', {
          serviceURL: service,
          customerMfaInfo: {
            mfaLastMethodUsed: 'email',
            mfaSetup: false,
            email: maskEmail(this.options.email),
          },
        }),
        headers,
      }
    }
    return { status: 200, body: this.successful(service), headers }
  }

  /** `POST /mobile/api/mfa/verifyCode`: needs the login step's session cookie. */
  verifyMfa(cookieHeader: string | undefined, rawBody: string): AuthAnswer {
    const session = cookieValue(cookieHeader, SESSION_COOKIE)
    const pending = session === undefined ? undefined : this.mfaSessions.get(session)
    if (!session || !pending || pending.expMs <= this.options.now()) {
      return { status: 401, body: ssoAnswer('SESSION_EXPIRED', { error: { 'status-code': '401' } }) }
    }
    const body = parseJsonObject(rawBody)
    if (!body || typeof body.mfaVerificationCode !== 'string') {
      return {
        status: 400,
        body: { error: { 'status-code': '400', message: 'mfaVerificationCode is required' } },
      }
    }
    if (body.mfaVerificationCode !== this.options.mfaCode)
      return { status: 200, body: ssoAnswer('INVALID_MFA_CODE') }
    this.mfaSessions.delete(session)
    return { status: 200, body: this.successful(pending.service) }
  }

  private successful(service: string): Record<string, unknown> {
    const ticket = `ST-${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}-${base64url(randomBytes(15))}-cas`
    this.tickets.set(ticket, { service, expMs: this.options.now() + TICKET_TTL_MS })
    this.issued.push(ticket)
    return ssoAnswer('SUCCESSFUL', { serviceURL: service, serviceTicketId: ticket, customerMfaInfo: null })
  }

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
      iss: 'https://diauth.garmin.com',
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
