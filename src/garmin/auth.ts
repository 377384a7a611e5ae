/**
 * What every way of signing in shares (docs/garmin-api.md "Login" and "Refresh"): the JSON answers of
 * Garmin's SSO, the ticket exchange and the token refresh. The strategies themselves live in signin/.
 * Nothing here is retried: a failed login retried in a loop is what gets accounts rate-limited for
 * hours, and a refresh whose answer was lost may already have rotated the refresh token.
 */
import type { Clock } from '../clock.js'
import { isRecord } from '../unknown.js'
import type { CookieJar } from './cookies.js'
import type { GarminEndpoints } from './endpoints.js'
import {
  AuthError,
  BotChallengeError,
  GarminUnavailableError,
  LOGIN_BACKOFF,
  RateLimitedError,
  RefreshRejectedError,
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
import { type NamedStore, signInCommand } from './sign-in-command.js'

const DI_CLIENT_IDS = [
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4',
  'GARMIN_CONNECT_MOBILE_ANDROID_DI',
  'GARMIN_CONNECT_MOBILE_IOS_DI',
] as const

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
  /** For refreshes (the sign-in strategies bring their own). */
  transport: Transport
  timeoutMs: number
  clock: Clock
  /** In [0, 1): how long the human-like pauses of the browser flows are. */
  random: () => number
  count(kind: string): void
  /** Added to bot-challenge hints, e.g. "or try --transport impit". */
  botChallengeAdvice?: string | undefined
  /** The token store this sign-in or refresh is for: the commands its hints give must reach it (signInCommand). */
  tokenStore: NamedStore
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
  /** A code given up front (--mfa-code without a pending sign-in, e.g. from an authenticator app). */
  mfaCode?: string | undefined
  promptMfa?: ((method: string) => Promise<string>) | undefined
}

/** The way round a refused sign-in that needs no password: python-garminconnect's tokens, into the same store. */
const importInstead = (store: NamedStore) =>
  `import python-garminconnect tokens with \`${signInCommand(store, '--import <file>')}\``

export interface SsoAnswer {
  type: string
  body: Record<string, unknown>
  endpoint: string
}

/**
 * One request of a sign-in, sent once with the strategy's transport and cookie jar. A 429, a 403 or an
 * HTML page where none belongs ends it with RateLimitedError or BotChallengeError.
 */
export async function ssoRequest(
  ctx: AuthContext,
  transport: Transport,
  jar: CookieJar,
  kind: string,
  url: string,
  init: RequestInit & { headers: Record<string, string> },
  what: string,
  options: { htmlExpected?: boolean } = {},
): Promise<HttpResponse> {
  const headers = { ...init.headers }
  const cookie = jar.header()
  if (cookie) headers.Cookie = cookie
  ctx.count(kind)
  const response = await sendOnce(ctx, transport, url, { ...init, headers })
  jar.storeFrom(response.headers)
  if (options.htmlExpected && response.status === 200) return response
  refuseChallenges(ctx, response, what)
  return response
}

/** The `responseStatus` answer of the JSON sign-in APIs (mobile and portal), or the error it means. */
export function readSsoAnswer(ctx: AuthContext, response: HttpResponse, url: string): SsoAnswer {
  const endpoint = endpointOf(url)
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
  if (status === 'INVALID_USERNAME_PASSWORD') throw new WrongPasswordError(ctx.tokenStore)
  // ACCOUNT_LOCKED and the like: every further strategy would send the password to a locked account.
  if (/LOCK/i.test(status)) throw new AccountLockedError(ctx.endpoints.domain, ctx.tokenStore)
  return { type: status, body, endpoint }
}

/** The one sign-in failure that stops every strategy at once. */
export class WrongPasswordError extends AuthError {
  /** `store`: the token store the sign-in was for (the hint's command signs in to it). */
  constructor(store: NamedStore) {
    super('Garmin rejected the email or password.', {
      hint: `Check GARMIN_EMAIL / GARMIN_PASSWORD (or what you typed) and run \`${signInCommand(store)}\` once more; repeated failures lock the account for a while.`,
    })
    this.name = 'AuthError'
  }
}

/**
 * Garmin says the account is locked: like a wrong password, it stops every strategy at once (each
 * further password sent to a locked account can only prolong the lock). Exit 3.
 */
export class AccountLockedError extends AuthError {
  constructor(domain: string, store: NamedStore) {
    super('Garmin says the account is locked, so no sign-in can succeed now.', {
      hint: `Unlock it at https://connect.${domain} in a browser (sign in there, or reset the password), or wait until Garmin lifts the lock; then run \`${signInCommand(store)}\` once. Do not retry in a loop: every attempt can extend the lock.`,
    })
    this.name = 'AuthError'
  }
}

export function mfaMethod(body: Record<string, unknown>): string {
  const info = body.customerMfaInfo
  const method = isRecord(info) ? info.mfaLastMethodUsed : undefined
  return typeof method === 'string' && method !== '' ? method : 'email'
}

export function unexpectedLoginStatus(ctx: AuthContext, type: string): AuthError {
  return new AuthError(`Garmin refused the sign-in (${type}).`, {
    hint: `Sign in at connect.${ctx.endpoints.domain} in a browser to see what Garmin wants (locked account, new terms), then run \`${signInCommand(ctx.tokenStore)}\` again.`,
  })
}

/** The service ticket of a SUCCESSFUL answer. */
export function ticketOf(answer: SsoAnswer): string {
  const ticket = answer.body.serviceTicketId
  if (typeof ticket !== 'string' || ticket === '') {
    throw new UnexpectedResponseError(
      answer.endpoint,
      'the sign-in succeeded but no service ticket came back',
    )
  }
  return ticket
}

/**
 * Step 3: trades the service ticket for DI OAuth2 tokens, trying each known app client id in order. Any
 * answer but 200 moves on to the next id (Garmin retires ids, and one id's outage or challenge says
 * nothing of the next), except 429: every further try would extend the block.
 */
export async function exchangeTicket(
  ctx: AuthContext,
  transport: Transport,
  ticket: string,
  service: string,
): Promise<DiTokens> {
  const url = `${ctx.endpoints.diauth}${TOKEN_PATH}`
  const refused: number[] = []
  for (const clientId of DI_CLIENT_IDS) {
    ctx.count('token')
    const response = await sendOnce(ctx, transport, url, {
      method: 'POST',
      headers: tokenHeaders(clientId),
      body: new URLSearchParams({
        client_id: clientId,
        service_ticket: ticket,
        grant_type: SERVICE_TICKET_GRANT,
        service_url: service,
      }).toString(),
    })
    if (response.status === 429) throw loginRateLimited(ctx, response)
    if (response.status === 200) {
      try {
        return readTokenAnswer(ctx, response, clientId, TOKEN_PATH)
      } catch (error) {
        if (!(error instanceof UnexpectedResponseError)) throw error
      }
    }
    refused.push(response.status)
  }
  const answers = refused.map((status) => `HTTP ${status}`).join(', ')
  if (refused.every((status) => status >= 500)) {
    throw new GarminUnavailableError(`Garmin's token service answered ${answers} for every app client id.`, {
      hint: `Try again later. ${LOGIN_BACKOFF}`,
    })
  }
  throw new AuthError(`Garmin’s token service refused every app client id garmin-s3 knows (${answers}).`, {
    hint: `Update garmin-s3 (Garmin may have changed its app ids), or ${importInstead(ctx.tokenStore)}.`,
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
        hint: `Run again later; if Garmin then says the refresh token is invalid, run \`${signInCommand(ctx.tokenStore)}\`.`,
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
      hint: `Wait an hour and run again; if it persists, run from another network or run \`${signInCommand(ctx.tokenStore)}\`.`,
    })
  }
  if (response.status === 400 || response.status === 401) {
    throw new RefreshRejectedError(ctx.tokenStore)
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

/** Any 429, 403 or HTML page on a login step ends that strategy at once. */
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
    hint: `${LOGIN_BACKOFF} Meanwhile, you can ${importInstead(ctx.tokenStore)}.`,
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
