/**
 * The one redirect policy for everything sent to Garmin (sso, diauth, connectapi). Transports are
 * called with `redirect: 'manual'`, so neither fetch nor impit ever follows a redirect on its own and
 * re-sends a password, an MFA code, a service ticket or a refresh token somewhere else. A redirect is
 * followed here only when its target is one of the configured Garmin origins, and then as a bare GET:
 * no body, no Authorization, no Cookie. Any other target is refused before the transport is called
 * again, so nothing (not even a DNS lookup) goes to that host.
 */
import { GarminS3Error } from '../errors.js'
import type { GarminEndpoints } from './endpoints.js'
import type { Transport } from './http.js'

/** At most this many redirects are followed for one request. */
const MAX_REDIRECTS = 3

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308])
/** Headers that carry credentials or describe a body; never sent on a followed redirect. */
const DROPPED_ON_REDIRECT = ['authorization', 'cookie', 'content-type', 'content-length', 'origin']

/** Garmin answered with a redirect garmin-s3 will not follow: exit 1, nothing was sent there. */
export class RedirectRefusedError extends GarminS3Error {
  /** The host (with port) the redirect pointed at. */
  readonly host: string
  constructor(host: string, from: string, why: string) {
    super(`Garmin's answer to ${from} redirected to ${host}, ${why}; garmin-s3 did not follow it.`, {
      hint: 'Nothing was sent to that host. If it persists, check the network (a proxy or captive portal may be rewriting answers) or report it.',
    })
    this.host = host
  }
}

/** The origins (scheme, host and port) a redirect may lead to: the configured sso, diauth and connectapi. */
function garminOrigins(endpoints: GarminEndpoints): Set<string> {
  return new Set([endpoints.sso, endpoints.diauth, endpoints.connectapi].map((base) => new URL(base).origin))
}

/** Wraps a transport so that redirects follow the policy above. */
export function guardRedirects(transport: Transport, endpoints: GarminEndpoints): Transport {
  const allowed = garminOrigins(endpoints)
  return (async (input: string | URL | Request, init?: RequestInit) => {
    let url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
    let request: RequestInit = { ...init, redirect: 'manual' }
    for (let followed = 0; ; followed++) {
      const response = await transport(url.toString(), request)
      const location = response.headers.get('location')
      if (!REDIRECT_STATUSES.has(response.status) || location === null) return response
      const from = url.pathname
      let target: URL
      try {
        target = new URL(location, url)
      } catch {
        await discard(response)
        throw new RedirectRefusedError('an unreadable address', from, 'which is not a URL')
      }
      await discard(response)
      if (!allowed.has(target.origin)) {
        throw new RedirectRefusedError(target.host, from, 'which is not one of Garmin’s hosts')
      }
      if (followed >= MAX_REDIRECTS) {
        throw new RedirectRefusedError(target.host, from, `after ${MAX_REDIRECTS} redirects already`)
      }
      url = target
      request = { ...bareGet(request), redirect: 'manual' }
    }
  }) as Transport
}

/** The same request as a GET without body or credentials (the signal and harmless headers stay). */
function bareGet(init: RequestInit): RequestInit {
  const headers = new Headers(init.headers)
  for (const name of DROPPED_ON_REDIRECT) headers.delete(name)
  const { body: _body, method: _method, ...rest } = init
  return { ...rest, method: 'GET', headers: Object.fromEntries(headers.entries()) }
}

async function discard(response: Response): Promise<void> {
  try {
    await response.arrayBuffer()
  } catch {
    // The body of a refused redirect is of no interest.
  }
}
