/**
 * Strategy 3: the SSO embed widget, an HTML form flow on another rate-limit bucket than the app client
 * ids (docs/garmin-api.md "Login"): the embed page (cookies), the sign-in form (a CSRF
 * token bound to them), a human's pause, then the form; the answer is a page titled "Success" that
 * carries the ticket, or the MFA page.
 */
import { AccountLockedError, type AuthContext, ssoRequest, WrongPasswordError } from '../auth.js'
import { UnexpectedResponseError } from '../errors.js'
import type { HttpResponse } from '../http.js'
import {
  BROWSER_PAGE_HEADERS,
  type Flow,
  humanPause,
  type MfaNeeded,
  type SsoSession,
  type Ticket,
} from './flow.js'
import { sessionEnded } from './json-api.js'

/** The reference client waits 3-8 s between the form and the post. */
const PAUSE_MS: [number, number] = [3_000, 8_000]
/** Titles that refuse the credentials (the reference's list): no other strategy can do better. */
const CREDENTIAL_TITLES = ['invalid', 'incorrect', 'account error']

function urls(ctx: AuthContext) {
  const embed = `${ctx.endpoints.sso}/sso/embed`
  const signinQuery = new URLSearchParams({
    id: 'gauth-widget',
    embedWidget: 'true',
    gauthHost: embed,
    service: embed,
    source: embed,
    redirectAfterAccountLoginUrl: embed,
    redirectAfterAccountCreationUrl: embed,
  })
  return {
    embed,
    embedPage: `${embed}?${new URLSearchParams({ id: 'gauth-widget', embedWidget: 'true', gauthHost: `${ctx.endpoints.sso}/sso` })}`,
    signin: `${ctx.endpoints.sso}/sso/signin?${signinQuery}`,
    verify: `${ctx.endpoints.sso}/sso/verifyMFA/loginEnterMfaCode?${signinQuery}`,
  }
}

const text = (response: HttpResponse) => new TextDecoder().decode(response.body)
const titleOf = (html: string) => /<title>([^<]*)<\/title>/i.exec(html)?.[1]?.trim() ?? ''
const csrfOf = (html: string) => /name="_csrf"\s+value="([^"]+)"/.exec(html)?.[1]

/** A GET of a page, or (with `fields`) a form post; both answer HTML, which is no challenge here. */
function widgetRequest(
  ctx: AuthContext,
  session: SsoSession,
  kind: string,
  url: string,
  options: { referer?: string; fields?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { ...BROWSER_PAGE_HEADERS }
  if (options.referer) headers.Referer = options.referer
  const init: RequestInit & { headers: Record<string, string> } = { method: 'GET', headers }
  if (options.fields) {
    headers['Content-Type'] = 'application/x-www-form-urlencoded'
    headers.Referer = url
    Object.assign(init, { method: 'POST', body: new URLSearchParams(options.fields).toString() })
  }
  return ssoRequest(
    ctx,
    session.transport,
    session.jar,
    kind,
    url,
    init,
    options.fields ? 'sign-in form' : 'sign-in page',
    {
      htmlExpected: true,
    },
  )
}

/** What the answer page to a form says: a ticket, a code to enter, or a refusal. */
function readPage(
  ctx: AuthContext,
  html: string,
  endpoint: string,
): Ticket | MfaNeeded | { kind: 'other'; title: string } {
  const title = titleOf(html)
  const lower = title.toLowerCase()
  if (title === 'Success') {
    const ticket = /[?&]ticket=(ST-[^"&\s<]+)/.exec(html)?.[1]
    if (!ticket) throw new UnexpectedResponseError(endpoint, 'a Success page without a service ticket')
    return { kind: 'ticket', ticket, service: urls(ctx).embed }
  }
  if (lower.includes('locked')) throw new AccountLockedError(ctx.endpoints.domain, ctx.tokenStore)
  if (CREDENTIAL_TITLES.some((hint) => lower.includes(hint))) throw new WrongPasswordError(ctx.tokenStore)
  const method = /var\s+mfaMethod\s*=\s*"([^"]*)"/.exec(html)?.[1]
  if (method) return { kind: 'mfa', method, state: { csrf: csrfOf(html) ?? '' } }
  return { kind: 'other', title }
}

export const widgetFlow: Flow = {
  name: 'widget',
  async start(ctx, session, credentials) {
    const u = urls(ctx)
    await widgetRequest(ctx, session, 'page', u.embedPage)
    const form = text(await widgetRequest(ctx, session, 'page', u.signin, { referer: u.embed }))
    const csrf = csrfOf(form)
    if (!csrf) throw new UnexpectedResponseError('/sso/signin', 'the sign-in form has no CSRF token')
    await humanPause(ctx, ...PAUSE_MS)
    const answer = await widgetRequest(ctx, session, 'login', u.signin, {
      fields: { username: credentials.email, password: credentials.password, embed: 'true', _csrf: csrf },
    })
    const read = readPage(ctx, text(answer), '/sso/signin')
    if (read.kind === 'other') {
      throw new UnexpectedResponseError('/sso/signin', `HTTP ${answer.status}, a page titled "${read.title}"`)
    }
    return read
  },
  async verify(ctx, session, state, code) {
    const answer = await widgetRequest(ctx, session, 'mfa', urls(ctx).verify, {
      fields: { 'mfa-code': code, embed: 'true', _csrf: state.csrf ?? '', fromPage: 'setupEnterMfaCode' },
    })
    const read = readPage(ctx, text(answer), '/sso/verifyMFA/loginEnterMfaCode')
    if (read.kind === 'ticket') return read
    if (read.kind === 'mfa') {
      // The page asks again: a wrong code; its (new) CSRF token goes with the next try.
      state.csrf = read.state.csrf ?? state.csrf ?? ''
      return { kind: 'wrong' }
    }
    throw sessionEnded(ctx)
  },
}
