/**
 * The mobile and portal sign-ins share one JSON API (docs/garmin-api.md "Login"): credentials, then a
 * code at `verifyCode` in the same session, each answered with a `responseStatus`.
 */
import {
  type AuthContext,
  mfaMethod,
  readSsoAnswer,
  ssoRequest,
  ticketOf,
  unexpectedLoginStatus,
} from '../auth.js'
import { loginServiceUrl } from '../endpoints.js'
import { AuthError, RateLimitedError } from '../errors.js'
import { signInCommand } from '../sign-in-command.js'
import { BROWSER_PAGE_HEADERS, type MfaNeeded, type SsoSession, type Ticket } from './flow.js'

const IOS_LOGIN_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
const PORTAL_CLIENT_ID = 'GarminConnect'

export interface JsonApi {
  /** `mobile` or `portal`: the path segment of `/{x}/api/login` and `/{x}/api/mfa/verifyCode`. */
  path: 'mobile' | 'portal'
  query: URLSearchParams
  service: string
  headers: Record<string, string>
}

/** The iOS app's: client id GCM_IOS_DARK, for the mobile service URL of the domain. */
export function mobileApi(ctx: AuthContext): JsonApi {
  const service = loginServiceUrl(ctx.endpoints.domain)
  return {
    path: 'mobile',
    query: new URLSearchParams({ clientId: 'GCM_IOS_DARK', locale: 'en-US', service }),
    service,
    headers: {
      'User-Agent': IOS_LOGIN_USER_AGENT,
      Accept: 'application/json, text/plain, */*',
      'Content-Type': 'application/json',
      Origin: ctx.endpoints.sso,
    },
  }
}

/** The web portal's: client id GarminConnect, for https://connect.{domain}/app. */
export function portalApi(ctx: AuthContext): JsonApi {
  const service = `https://connect.${ctx.endpoints.domain}/app`
  return {
    path: 'portal',
    query: new URLSearchParams({ clientId: PORTAL_CLIENT_ID, locale: 'en-US', service }),
    service,
    headers: {
      'User-Agent': BROWSER_PAGE_HEADERS['User-Agent'] ?? '',
      Accept: 'application/json, text/plain, */*',
      'Accept-Language': 'en-US,en;q=0.9',
      'Content-Type': 'application/json',
      Origin: ctx.endpoints.sso,
      Referer: portalPageUrl(ctx),
    },
  }
}

export function portalPageUrl(ctx: AuthContext): string {
  const query = new URLSearchParams({
    clientId: PORTAL_CLIENT_ID,
    service: `https://connect.${ctx.endpoints.domain}/app`,
  })
  return `${ctx.endpoints.sso}/portal/sso/en-US/sign-in?${query}`
}

export async function postCredentials(
  ctx: AuthContext,
  session: SsoSession,
  api: JsonApi,
  credentials: { email: string; password: string },
): Promise<Ticket | MfaNeeded> {
  const url = `${ctx.endpoints.sso}/${api.path}/api/login?${api.query}`
  const response = await ssoRequest(
    ctx,
    session.transport,
    session.jar,
    'login',
    url,
    {
      method: 'POST',
      headers: api.headers,
      body: JSON.stringify({
        username: credentials.email,
        password: credentials.password,
        rememberMe: true,
        captchaToken: '',
      }),
    },
    'sign-in',
  )
  const answer = readSsoAnswer(ctx, response, url)
  if (answer.type === 'MFA_REQUIRED') {
    return { kind: 'mfa', method: mfaMethod(answer.body), state: { query: api.query.toString() } }
  }
  if (answer.type !== 'SUCCESSFUL') throw unexpectedLoginStatus(ctx, answer.type)
  return { kind: 'ticket', ticket: ticketOf(answer), service: api.service }
}

/**
 * Submits a code in the session that asked for it. The mobile and portal `verifyCode` paths share the
 * session but not their rate-limit bucket: on a 429 at one, the other is tried (as the reference does).
 * The ticket is for the service the sign-in was for, whichever path issued it.
 */
export async function postCode(
  ctx: AuthContext,
  session: SsoSession,
  apis: [JsonApi, JsonApi],
  method: string,
  code: string,
): Promise<Ticket | { kind: 'wrong' }> {
  const service = apis[0].service
  let limited: RateLimitedError | undefined
  for (const api of apis) {
    try {
      return await verifyAt(ctx, session, api, service, method, code)
    } catch (error) {
      if (!(error instanceof RateLimitedError)) throw error
      limited = error
    }
  }
  throw limited
}

async function verifyAt(
  ctx: AuthContext,
  session: SsoSession,
  api: JsonApi,
  service: string,
  method: string,
  code: string,
): Promise<Ticket | { kind: 'wrong' }> {
  const url = `${ctx.endpoints.sso}/${api.path}/api/mfa/verifyCode?${api.query}`
  const response = await ssoRequest(
    ctx,
    session.transport,
    session.jar,
    'mfa',
    url,
    {
      method: 'POST',
      headers: api.headers,
      body: JSON.stringify({
        mfaMethod: method,
        mfaVerificationCode: code,
        rememberMyBrowser: true,
        reconsentList: [],
        mfaSetup: false,
      }),
    },
    'verification code',
  )
  if (response.status === 401) throw sessionEnded(ctx)
  const answer = readSsoAnswer(ctx, response, url)
  if (answer.type === 'SUCCESSFUL') return { kind: 'ticket', ticket: ticketOf(answer), service }
  if (answer.type === 'INVALID_MFA_CODE') return { kind: 'wrong' }
  throw unexpectedLoginStatus(ctx, answer.type)
}

/** Garmin closed the session that sent the code (expired, or too many wrong codes). */
export function sessionEnded(ctx: AuthContext): AuthError {
  return new AuthError(
    'Garmin ended the sign-in that sent the verification code (expired or too many tries).',
    {
      hint: `Run \`${signInCommand(ctx.tokenStore)}\` again; Garmin then sends a new code.`,
    },
  )
}
