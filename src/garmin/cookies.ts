/**
 * The smallest cookie jar the login needs: Garmin's SSO sets session cookies on the login answer and
 * expects them back on the MFA step. One jar serves one login against one SSO host, so domain and path
 * matching are not needed; expiry and deletion are honoured.
 */
import { type Clock, systemClock } from '../clock.js'

export interface SavedCookie {
  name: string
  value: string
  /** Epoch ms; absent for a session cookie. */
  expiresAt?: number | undefined
}

export class CookieJar {
  private readonly cookies = new Map<string, { value: string; expiresAt: number | undefined }>()

  constructor(private readonly clock: Pick<Clock, 'now'> = systemClock) {}

  /** Takes every `Set-Cookie` header of a response. */
  storeFrom(headers: Headers): void {
    for (const line of setCookieLines(headers)) this.store(line)
  }

  store(setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';')
    const eq = pair.indexOf('=')
    if (eq <= 0) return
    const name = pair.slice(0, eq).trim()
    const value = pair.slice(eq + 1).trim()
    let expiresAt: number | undefined
    for (const attribute of attributes) {
      const [key = '', ...rest] = attribute.split('=')
      const attrValue = rest.join('=').trim()
      const lower = key.trim().toLowerCase()
      if (lower === 'max-age' && /^-?\d+$/.test(attrValue)) {
        // Max-Age wins over Expires (RFC 6265 5.3).
        expiresAt = this.clock.now() + Number(attrValue) * 1000
        break
      }
      if (lower === 'expires') {
        const date = Date.parse(attrValue)
        if (!Number.isNaN(date)) expiresAt = date
      }
    }
    if (expiresAt !== undefined && expiresAt <= this.clock.now()) this.cookies.delete(name)
    else this.cookies.set(name, { value, expiresAt })
  }

  /** The cookies, to keep a session between processes (a pending sign-in). */
  toJSON(): SavedCookie[] {
    return [...this.cookies].map(([name, c]) => ({
      name,
      value: c.value,
      ...(c.expiresAt === undefined ? {} : { expiresAt: c.expiresAt }),
    }))
  }

  static from(saved: readonly SavedCookie[], clock: Pick<Clock, 'now'> = systemClock): CookieJar {
    const jar = new CookieJar(clock)
    for (const c of saved) jar.cookies.set(c.name, { value: c.value, expiresAt: c.expiresAt })
    return jar
  }

  /** The `Cookie` request header, or undefined when the jar is empty. */
  header(): string | undefined {
    const now = this.clock.now()
    const pairs: string[] = []
    for (const [name, cookie] of this.cookies) {
      if (cookie.expiresAt !== undefined && cookie.expiresAt <= now) continue
      pairs.push(`${name}=${cookie.value}`)
    }
    return pairs.length > 0 ? pairs.join('; ') : undefined
  }
}

function setCookieLines(headers: Headers): string[] {
  // Node's fetch exposes each Set-Cookie separately; other transports (impit) may only join them.
  const withGetter = headers as Headers & { getSetCookie?: () => string[] }
  if (typeof withGetter.getSetCookie === 'function') {
    const lines = withGetter.getSetCookie()
    if (lines.length > 0) return lines
  }
  const joined = headers.get('set-cookie')
  if (!joined) return []
  // A comma also appears inside Expires dates ("Wed, 21 Oct ..."): split only before "name=".
  return joined.split(/,(?=\s*[^;,=\s]+=)/).map((s) => s.trim())
}
