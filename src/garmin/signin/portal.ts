/**
 * Strategies 4 and 5: the desktop browser's sign-in (garmin-protocol.md "Sign-in strategies"): the
 * sign-in page first (its cookies open the session), a human's pause, then the same JSON API as the
 * mobile app under the GarminConnect client id.
 */
import { type AuthContext, ssoRequest } from '../auth.js'
import { BROWSER_PAGE_HEADERS, type Flow, humanPause } from './flow.js'
import { type JsonApi, postCode, postCredentials } from './json-api.js'

const CLIENT_ID = 'GarminConnect'
/** The reference client waits 10-20 s between the page and the credentials. */
const PAUSE_MS: [number, number] = [10_000, 20_000]

function pageUrl(ctx: AuthContext): string {
  const query = new URLSearchParams({ clientId: CLIENT_ID, service: serviceOf(ctx) })
  return `${ctx.endpoints.sso}/portal/sso/en-US/sign-in?${query}`
}

function serviceOf(ctx: AuthContext): string {
  return `https://connect.${ctx.endpoints.domain}/app`
}

function api(ctx: AuthContext): JsonApi {
  const service = serviceOf(ctx)
  return {
    path: 'portal',
    query: new URLSearchParams({ clientId: CLIENT_ID, locale: 'en-US', service }),
    service,
    headers: {
      'User-Agent': BROWSER_PAGE_HEADERS['User-Agent'] ?? '',
      Accept: 'application/json, text/plain, */*',
      'Accept-Language': 'en-US,en;q=0.9',
      'Content-Type': 'application/json',
      Origin: ctx.endpoints.sso,
      Referer: pageUrl(ctx),
    },
  }
}

export const portalFlow: Flow = {
  name: 'portal',
  async start(ctx, session, credentials) {
    await ssoRequest(
      ctx,
      session.transport,
      session.jar,
      'page',
      pageUrl(ctx),
      {
        method: 'GET',
        headers: { ...BROWSER_PAGE_HEADERS },
      },
      'sign-in page',
      { htmlExpected: true },
    )
    await humanPause(ctx, ...PAUSE_MS)
    return postCredentials(ctx, session, api(ctx), credentials)
  },
  verify: (ctx, session, state, code) => postCode(ctx, session, api(ctx), state.method ?? 'email', code),
}
