/**
 * Strategies 4 and 5: the desktop browser's sign-in (docs/garmin-api.md "Login"): the
 * sign-in page first (its cookies open the session), a human's pause, then the same JSON API as the
 * mobile app under the GarminConnect client id.
 */
import { ssoRequest } from '../auth.js'
import { BROWSER_PAGE_HEADERS, type Flow, humanPause } from './flow.js'
import { mobileApi, portalApi, portalPageUrl, postCode, postCredentials } from './json-api.js'

/** The reference client waits 10-20 s between the page and the credentials. */
const PAUSE_MS: [number, number] = [10_000, 20_000]

export const portalFlow: Flow = {
  name: 'portal',
  async start(ctx, session, credentials) {
    await ssoRequest(
      ctx,
      session.transport,
      session.jar,
      'page',
      portalPageUrl(ctx),
      {
        method: 'GET',
        headers: { ...BROWSER_PAGE_HEADERS },
      },
      'sign-in page',
      { htmlExpected: true },
    )
    await humanPause(ctx, ...PAUSE_MS)
    return postCredentials(ctx, session, portalApi(ctx), credentials)
  },
  verify: (ctx, session, state, code) =>
    postCode(ctx, session, [portalApi(ctx), mobileApi(ctx)], state.method ?? 'email', code),
}
