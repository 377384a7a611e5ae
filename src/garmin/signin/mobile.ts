/** Strategies 1 and 2: the iOS app's JSON sign-in (garmin-protocol.md "Login (mobile flow)"). */

import type { AuthContext } from '../auth.js'
import { loginServiceUrl } from '../endpoints.js'
import type { Flow } from './flow.js'
import { type JsonApi, postCode, postCredentials } from './json-api.js'

const IOS_LOGIN_USER_AGENT =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_7 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148'

function api(ctx: AuthContext): JsonApi {
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

export const mobileFlow: Flow = {
  name: 'mobile',
  start: (ctx, session, credentials) => postCredentials(ctx, session, api(ctx), credentials),
  verify: (ctx, session, state, code) => postCode(ctx, session, api(ctx), state.method ?? 'email', code),
}
