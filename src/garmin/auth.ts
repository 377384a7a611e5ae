/**
 * Garmin's mobile sign-in and token service (garmin-protocol.md "Login" and "Refresh"). Nothing here is
 * retried: a failed login retried in a loop is what gets accounts rate-limited for hours, and a refresh
 * whose answer was lost may already have rotated the refresh token.
 */
import type { Clock } from '../clock.js'
import { isRecord } from '../unknown.js'
import { CookieJar } from './cookies.js'
import { type GarminEndpoints, loginServiceUrl } from './endpoints.js'
import {
  AuthError,
  BotChallengeError,
  GarminUnavailableError,
  LOGIN_BACKOFF,
  MfaRequiredError,
  RateLimitedError,
  UnexpectedResponseError,
} from './errors.js'
import {
  endpointOf,
  type HttpResponse,
  looksLikeHtml,
  notJsonReason,
  parseJsonBody,
  send,
  type Transport,
  TransportFailure,
} from './http.js'
import { accessTokenExpiry } from './jwt.js'
import { parseRetryAfter } from './retry.js'

const DI_CLIENT_IDS = [
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI',
  'GARMIN_CONNECT_MOBILE_IOS_DI',
] as const

const SSO_CLIENT_ID = 'GCM_IOS_DARK'
const IOS_LOGIN_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'
const SERVICE_TICKET_GRANT = 'https://connectapi.garmin.com/di-oauth2-service/oauth/grant/service_ticket'
const TOKEN_PATH = '/di-oauth2-service/oauth/token'

/** The Android app's headers; data calls and the token service expect them. */
export const MOBILE_APP_HEADERS: Readonly<Record<string, string>> = {
  'User-Agent': 'GCM-Android-5.23',
  'X-Garmin-User-Agent':
    'com.garmin.android.apps.connectmobile/5.23; ; Google/sdk_gphone64_arm64/google; Android/33; Dalvik/2.1.0',
  'X-Garmin-Paired-App-Version': '10861',
  'X-Garmin-Client-Platform': 'Android',
  'X-App-Ver': '10861',
  'X-Lang': 'en',
  'X-GCExperience': 'GC5',
  'Accept-Language': 'en-US,en;q=0.9',
}

export interface AuthContext {
  endpoints: GarminEndpoints
  /** For the login steps and the ticket exchange (may be the TLS-impersonating one). */
  loginTransport: Transport
  /** For refreshes. */
  transport: Transport
  timeoutMs: number
  clock: Clock
  count(kind: string): void
  /** Added to bot-challenge hints, e.g. "or try --transport impit". */
  botChallengeAdvice?: string | undefined
}

export interface DiTokens {
  accessToken: string
  /** Undefined when the token service did not rotate it. */
  refreshToken: string | undefined
  clientId: string
  /** Epoch ms. */
  expiresAt: number
}

export interface LoginInput {
  email: string
  password: string
  mfaCode?: string | undefined
  promptMfa?: ((method: string) => Promise<string>) | undefined
}

const LOGIN_RATE_LIMITED_HINT = `${LOGIN_BACKOFF} Meanwhile, tokens from python-garminconnect can be used with \`garmin-s3 login --import\`.`

/** Steps 1-3 of the mobile login: credentials (and MFA) -> service ticket -> DI tokens. */
export async function signIn(ctx: AuthContext, input: LoginInput): Promise<DiTokens> {
  const jar = new CookieJar(ctx.clock)
  const service = loginServiceUrl(ctx.endpoints.domain)
  const query = new URLSearchParams({ clientId: SSO_CLIENT_ID, locale: 'en-US', service }).toString()

  let answer = await ssoPost(ctx, jar, 'login', `${ctx.endpoints.sso}/mobile/api/login?${query}`, {
    username: input.email,
    password: input.password,
    rememberMe: true,
    captchaToken: '',
  })
  if (answer.type === 'MFA_REQUIRED') {
    const method = mfaMethod(answer.body)
    let code = input.mfaCode?.trim()
    if (!code) {
      if (!input.promptMfa) throw new MfaRequiredError(method)
      code = (await input.promptMfa(method)).trim()
    }
    if (!/^\d{4,10}$/.test(code)) {
      throw new AuthError('The verification code should be the digits Garmin sent you.', {
        hint: 'Run `garmin-s3 login` again and enter the newest code.',
      })
    }
    answer = await ssoPost(ctx, jar, 'mfa', `${ctx.endpoints.sso}/mobile/api/mfa/verifyCode?${query}`, {
      mfaMethod: method,
      mfaVerificationCode: code,
      rememberMyBrowser: true,
      reconsentList: [],
      mfaSetup: false,
    })
    if (answer.type !== 'SUCCESSFUL') {
      throw new AuthError(`Garmin did not accept the verification code (${answer.type}).`, {
        hint: 'Run `garmin-s3 login` again and enter the newest code Garmin sent.',
      })
    }
  }
  if (answer.type !== 'SUCCESSFUL') throw unexpectedLoginStatus(answer.type)
  const ticket = answer.body.serviceTicketId
  if (typeof ticket !== 'string' || ticket === '') {
    throw new UnexpectedResponseError(
      answer.endpoint,
      'the sign-in succeeded but no service ticket came back',
    )
  }
  return exchangeTicket(ctx, ticket, service)
}

interface SsoAnswer {
  type: string
  body: Record<string, unknown>
  endpoint: string
}

async function ssoPost(
  ctx: AuthContext,
  jar: CookieJar,
  kind: 'login' | 'mfa',
  url: string,
  payload: unknown,
): Promise<SsoAnswer> {
  const endpoint = endpointOf(url)
  const headers: Record<string, string> = {
    'User-Agent': IOS_LOGIN_USER_AGENT,
    Accept: 'application/json, text/plain, */*',
    'Content-Type': 'application/json',
    Origin: ctx.endpoints.sso,
  }
  const cookie = jar.header()
  if (cookie) headers.Cookie = cookie
  ctx.count(kind)
  const response = await sendOnce(ctx, ctx.loginTransport, url, {
    method: 'POST',
    headers,
    body: JSON.stringify(payload),
  })
  jar.storeFrom(response.headers)
  refuseChallenges(ctx, response, 'sign-in')
  const parsed = parseJsonBody(response)
  const body = parsed.ok && isRecord(parsed.value) ? parsed.value : undefined
  if (body && isRecord(body.error) && String(body.error['status-code']) === '429') {
    throw loginRateLimited(ctx, response)
  }
  if (response.status >= 500) {
    throw new GarminUnavailableError(`Garmin's sign-in answered HTTP ${response.status}.`, {
      hint: `Try again later. ${LOGIN_BACKOFF}`,
    })
  }
  if (!body)
    throw new UnexpectedResponseError(endpoint, `HTTP ${response.status} with a body that is not JSON`)
  const status = isRecord(body.responseStatus) ? body.responseStatus.type : undefined
  if (typeof status !== 'string') {
    throw new UnexpectedResponseError(endpoint, `HTTP ${response.status} without a responseStatus`)
  }
  if (status === 'CAPTCHA_REQUIRED') throw botChallenge(ctx, 'Garmin asks for a captcha before signing in')
  if (status === 'INVALID_USERNAME_PASSWORD') {
    throw new AuthError('Garmin rejected the email or password.', {
      hint: 'Check GARMIN_EMAIL / GARMIN_PASSWORD (or what you typed) and try once more; repeated failures lock the account for a while.',
    })
  }
  return { type: status, body, endpoint }
}

function mfaMethod(body: Record<string, unknown>): string {
  const info = body.customerMfaInfo
  const method = isRecord(info) ? info.mfaLastMethodUsed : undefined
  return typeof method === 'string' && method !== '' ? method : 'email'
}

function unexpectedLoginStatus(type: string): AuthError {
  return new AuthError(`Garmin refused the sign-in (${type}).`, {
    hint: 'Sign in at connect.garmin.com in a browser to see what Garmin wants (locked account, new terms), then run `garmin-s3 login` again.',
  })
}

/** Step 3: trades the service ticket for DI OAuth2 tokens, trying each known app client id in order. */
async function exchangeTicket(ctx: AuthContext, ticket: string, service: string): Promise<DiTokens> {
  const url = `${ctx.endpoints.diauth}${TOKEN_PATH}`
  for (const clientId of DI_CLIENT_IDS) {
    ctx.count('token')
    const response = await sendOnce(ctx, ctx.loginTransport, url, {
      method: 'POST',
      headers: tokenHeaders(clientId),
      body: new URLSearchParams({
        client_id: clientId,
        service_ticket: ticket,
        grant_type: SERVICE_TICKET_GRANT,
        service_url: service,
      }).toString(),
    })
    refuseChallenges(ctx, response, 'token exchange')
    if (response.status >= 500) {
      throw new GarminUnavailableError(`Garmin's token service answered HTTP ${response.status}.`, {
        hint: `Try again later. ${LOGIN_BACKOFF}`,
      })
    }
    // A client id Garmin has retired answers 400/401; the next one may still work.
    if (response.status === 400 || response.status === 401) continue
    return readTokenAnswer(ctx, response, clientId, TOKEN_PATH)
  }
  throw new AuthError('Garmin’s token service refused every app client id garmin-s3 knows.', {
    hint: 'Update garmin-s3 (Garmin may have changed its app ids), or import python-garminconnect tokens with `garmin-s3 login --import`.',
  })
}

/** Exchanges a refresh token for new tokens. A rotated refresh token comes back in `refreshToken`. */
export async function refreshTokens(
  ctx: AuthContext,
  current: { clientId: string; refreshToken: string },
): Promise<DiTokens> {
  const url = `${ctx.endpoints.diauth}${TOKEN_PATH}`
  ctx.count('refresh')
  let response: HttpResponse
  try {
    response = await sendOnce(ctx, ctx.transport, url, {
      method: 'POST',
      headers: tokenHeaders(current.clientId),
      body: new URLSearchParams({
        grant_type: 'refresh_token',
        client_id: current.clientId,
        refresh_token: current.refreshToken,
      }).toString(),
    })
  } catch (error) {
    if (error instanceof GarminUnavailableError) {
      throw new GarminUnavailableError(`Refreshing the Garmin token failed: ${error.message}`, {
        hint: 'Run again later; if Garmin then says the refresh token is invalid, run `garmin-s3 login`.',
        cause: error,
      })
    }
    throw error
  }
  if (response.status === 429) {
    throw new RateLimitedError('Garmin’s token service is rate-limiting token refreshes (HTTP 429).', {
      retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), ctx.clock.now()) ?? 0,
    })
  }
  if (response.status === 403 || (response.status < 500 && looksLikeHtml(response))) {
    throw new BotChallengeError('Garmin’s bot protection blocked the token refresh.', {
      hint: 'Wait an hour and run again; if it persists, run from another network or run `garmin-s3 login`.',
    })
  }
  if (response.status === 400 || response.status === 401) {
    throw new AuthError('Garmin no longer accepts the stored refresh token (invalid_grant).', {
      hint: 'Run `garmin-s3 login` to sign in again.',
    })
  }
  if (response.status >= 500) {
    throw new GarminUnavailableError(`Garmin’s token service answered HTTP ${response.status} to a refresh.`)
  }
  return readTokenAnswer(ctx, response, current.clientId, TOKEN_PATH)
}

function readTokenAnswer(
  ctx: AuthContext,
  response: HttpResponse,
  clientId: string,
  endpoint: string,
): DiTokens {
  if (response.status !== 200) {
    throw new UnexpectedResponseError(endpoint, `HTTP ${response.status}`)
  }
  const parsed = parseJsonBody(response)
  if (!parsed.ok) throw new UnexpectedResponseError(endpoint, notJsonReason(response))
  if (!isRecord(parsed.value)) throw new UnexpectedResponseError(endpoint, 'the body is not a JSON object')
  const { access_token, refresh_token, expires_in } = parsed.value
  if (typeof access_token !== 'string' || access_token === '') {
    throw new UnexpectedResponseError(endpoint, 'no access_token in the answer')
  }
  if (refresh_token !== undefined && (typeof refresh_token !== 'string' || refresh_token === '')) {
    throw new UnexpectedResponseError(endpoint, 'refresh_token is not a string')
  }
  const expiresAt = accessTokenExpiry(access_token, ctx.clock.now(), expires_in)
  if (expiresAt === undefined) throw new UnexpectedResponseError(endpoint, 'the access token has no expiry')
  return { accessToken: access_token, refreshToken: refresh_token, clientId, expiresAt }
}

function tokenHeaders(clientId: string): Record<string, string> {
  return {
    ...MOBILE_APP_HEADERS,
    Authorization: `Basic ${Buffer.from(`${clientId}:`).toString('base64')}`,
    Accept: 'application/json',
    'Content-Type': 'application/x-www-form-urlencoded',
  }
}

/** Any 429, 403 or HTML page on a login step ends the login at once. */
function refuseChallenges(ctx: AuthContext, response: HttpResponse, step: string): void {
  if (response.status === 429) throw loginRateLimited(ctx, response)
  // A 502/503 page from a proxy is HTML too, but it is an outage, not a challenge.
  if (response.status === 403 || (response.status < 500 && looksLikeHtml(response))) {
    throw botChallenge(
      ctx,
      looksLikeHtml(response)
        ? `Garmin's bot protection answered the ${step} with a challenge page (HTTP ${response.status})`
        : `Garmin's bot protection refused the ${step} (HTTP 403)`,
    )
  }
}

function loginRateLimited(ctx: AuthContext, response: HttpResponse): RateLimitedError {
  const retryAfter = parseRetryAfter(response.headers.get('retry-after'), ctx.clock.now())
  return new RateLimitedError('Garmin is rate-limiting sign-ins for this account or network (HTTP 429).', {
    hint: LOGIN_RATE_LIMITED_HINT,
    retryAfterMs: retryAfter ?? 0,
  })
}

function botChallenge(ctx: AuthContext, what: string): BotChallengeError {
  const advice = ctx.botChallengeAdvice ? ` ${ctx.botChallengeAdvice}` : ''
  return new BotChallengeError(`${what}.`, {
    hint: `${LOGIN_BACKOFF} Sign in from your own computer and home network (cloud and CI addresses are often blocked).${advice}`,
  })
}

/** One request, no retry; network failures and timeouts become GarminUnavailableError. */
async function sendOnce(ctx: AuthContext, transport: Transport, url: string, init: RequestInit) {
  try {
    return await send(transport, url, init, { timeoutMs: ctx.timeoutMs })
  } catch (error) {
    if (error instanceof TransportFailure) {
      throw new GarminUnavailableError(`Garmin did not answer ${endpointOf(url)}: ${error.message}.`, {
        hint: `Check the network and try again later. ${LOGIN_BACKOFF}`,
      })
    }
    throw error
  }
}
