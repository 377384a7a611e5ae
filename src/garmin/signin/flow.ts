/**
 * What a sign-in strategy is: a flow (mobile, widget or portal) over one transport. A flow starts with
 * the credentials and ends with a service ticket, or with a pending verification code whose session
 * (cookies and `state`) can be picked up again, even by another process.
 */
import type { AuthContext } from '../auth.js'
import type { CookieJar } from '../cookies.js'
import type { Transport } from '../http.js'

export const FLOW_NAMES = ['mobile', 'widget', 'portal'] as const
export type FlowName = (typeof FLOW_NAMES)[number]

/** One SSO session: the transport it runs on and its cookies. */
export interface SsoSession {
  transport: Transport
  jar: CookieJar
}

export interface Ticket {
  kind: 'ticket'
  ticket: string
  /** The service the ticket was issued for: the exchange must name it again. */
  service: string
}

export interface MfaNeeded {
  kind: 'mfa'
  /** How Garmin sent the code ("email", "sms", ...). */
  method: string
  /** What the verify step needs besides the cookies (query, CSRF token); never a credential. */
  state: Record<string, string>
}

export interface Flow {
  readonly name: FlowName
  start(
    ctx: AuthContext,
    session: SsoSession,
    credentials: { email: string; password: string },
  ): Promise<Ticket | MfaNeeded>
  /** Submits a code in the session that asked for it. `wrong` leaves the session usable for another try. */
  verify(
    ctx: AuthContext,
    session: SsoSession,
    state: Record<string, string>,
    code: string,
  ): Promise<Ticket | { kind: 'wrong' }>
}

/** The browser-like headers of the portal and widget pages. */
export const BROWSER_PAGE_HEADERS: Readonly<Record<string, string>> = {
  'User-Agent':
    'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36',
  Accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'Accept-Language': 'en-US,en;q=0.9',
}

/** A pause of `min`..`max` ms on the injected clock: Cloudflare flags a form posted at machine speed. */
export function humanPause(ctx: AuthContext, min: number, max: number): Promise<void> {
  return ctx.clock.sleep(Math.round(min + ctx.random() * (max - min)))
}
