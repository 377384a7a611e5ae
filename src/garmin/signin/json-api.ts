/**
 * The mobile and portal sign-ins share one JSON API (garmin-protocol.md "Login"): credentials, then a
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
import { AuthError } from '../errors.js'
import type { MfaNeeded, SsoSession, Ticket } from './flow.js'

export interface JsonApi {
  /** `mobile` or `portal`: the path segment of `/{x}/api/login` and `/{x}/api/mfa/verifyCode`. */
  path: 'mobile' | 'portal'
  query: URLSearchParams
  service: string
  headers: Record<string, string>
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
  if (answer.type !== 'SUCCESSFUL') throw unexpectedLoginStatus(answer.type)
  return { kind: 'ticket', ticket: ticketOf(answer), service: api.service }
}

export async function postCode(
  ctx: AuthContext,
  session: SsoSession,
  api: JsonApi,
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
  if (response.status === 401) throw sessionEnded()
  const answer = readSsoAnswer(ctx, response, url)
  if (answer.type === 'SUCCESSFUL') return { kind: 'ticket', ticket: ticketOf(answer), service: api.service }
  if (answer.type === 'INVALID_MFA_CODE') return { kind: 'wrong' }
  throw unexpectedLoginStatus(answer.type)
}

/** Garmin closed the session that sent the code (expired, or too many wrong codes). */
export function sessionEnded(): AuthError {
  return new AuthError(
    'Garmin ended the sign-in that sent the verification code (expired or too many tries).',
    {
      hint: 'Run `garmin-s3 login` again; Garmin then sends a new code.',
    },
  )
}
