/** Strategies 1 and 2: the iOS app's JSON sign-in (docs/garmin-api.md "Login"). */
import type { Flow } from './flow.js'
import { mobileApi, portalApi, postCode, postCredentials } from './json-api.js'

export const mobileFlow: Flow = {
  name: 'mobile',
  start: (ctx, session, credentials) => postCredentials(ctx, session, mobileApi(ctx), credentials),
  verify: (ctx, session, state, code) =>
    postCode(ctx, session, [mobileApi(ctx), portalApi(ctx)], state.method ?? 'email', code),
}
