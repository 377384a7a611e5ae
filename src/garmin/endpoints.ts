/**
 * Where Garmin lives. Production accepts only Garmin's own domains, so credentials can never be sent
 * elsewhere by a typo or a hostile environment; tests and benchmarks may point the hosts at loopback
 * URLs (the simulator) through GARMIN_S3_GARMIN_URL: one base for all three hosts, or one each as
 * `sso=URL,diauth=URL,connectapi=URL`.
 */
import { isIP } from 'node:net'
import { UsageError } from '../errors.js'
import type { GarminDomain } from './types.js'

export interface GarminEndpoints {
  domain: GarminDomain
  /** Base URLs without a trailing slash. */
  sso: string
  diauth: string
  connectapi: string
  /** Set when GARMIN_S3_GARMIN_URL points the hosts at a simulator: errors then say so. */
  override?: string
}

export const GARMIN_DOMAINS: readonly GarminDomain[] = ['garmin.com', 'garmin.cn']

export function isGarminDomain(value: string): value is GarminDomain {
  return (GARMIN_DOMAINS as readonly string[]).includes(value)
}

export function resolveEndpoints(input: { domain?: string; env?: NodeJS.ProcessEnv } = {}): GarminEndpoints {
  const env = input.env ?? process.env
  // A variable set to nothing (GARMIN_DOMAIN= in a .env file or a template) is unset, as everywhere
  // (oclif's flag variables, the Lambda's configuration): the default applies.
  const domainText = (input.domain ?? (env.GARMIN_DOMAIN?.trim() || 'garmin.com')).trim().toLowerCase()
  if (!isGarminDomain(domainText)) {
    throw new UsageError(`Unknown Garmin domain "${domainText}".`, {
      hint: `Use one of ${GARMIN_DOMAINS.join(', ')} (--domain or GARMIN_DOMAIN).`,
    })
  }
  const override = env.GARMIN_S3_GARMIN_URL?.trim()
  if (override) {
    if (!override.includes('=')) {
      const base = loopbackBase(override)
      return { domain: domainText, sso: base, diauth: base, connectapi: base, override: base }
    }
    return { domain: domainText, ...perHostOverride(override), override }
  }
  return {
    domain: domainText,
    sso: `https://sso.${domainText}`,
    diauth: `https://diauth.${domainText}`,
    connectapi: `https://connectapi.${domainText}`,
  }
}

/**
 * Adds to a Garmin-facing error that the answer came from the GARMIN_S3_GARMIN_URL override, not from
 * Garmin, so nobody chases a Garmin outage that is a simulator's. Returns the same error.
 */
export function noteOverride(endpoints: GarminEndpoints, error: unknown): unknown {
  if (endpoints.override === undefined || !(error instanceof Error)) return error
  const note = ` (GARMIN_S3_GARMIN_URL is set: this was ${endpoints.override}, not Garmin.)`
  if (!error.message.endsWith(note)) error.message += note
  return error
}

/** The service the mobile app logs in for; an identifier Garmin checks, not a host we call. */
export function loginServiceUrl(domain: GarminDomain): string {
  return `https://mobile.integration.${domain}/gcm/ios`
}

const HOSTS = ['sso', 'diauth', 'connectapi'] as const

/** `sso=URL,diauth=URL,connectapi=URL`: each host on a loopback URL of its own. */
function perHostOverride(text: string): Record<(typeof HOSTS)[number], string> {
  const bases = new Map<string, string>()
  for (const part of text.split(',')) {
    const eq = part.indexOf('=')
    bases.set(part.slice(0, eq).trim(), loopbackBase(part.slice(eq + 1).trim()))
  }
  const names = [...bases.keys()]
  if (names.length !== HOSTS.length || !HOSTS.every((host) => bases.has(host))) {
    throw new UsageError(
      `GARMIN_S3_GARMIN_URL names ${names.join(', ')}; it needs exactly sso, diauth and connectapi.`,
      {
        hint: 'Set it to one base URL, or to sso=URL,diauth=URL,connectapi=URL.',
      },
    )
  }
  return { sso: bases.get('sso')!, diauth: bases.get('diauth')!, connectapi: bases.get('connectapi')! }
}

function loopbackBase(text: string): string {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    throw new UsageError('GARMIN_S3_GARMIN_URL is not a URL.', {
      hint: 'Set it to the simulator address, e.g. http://127.0.0.1:8080, or unset it to use Garmin.',
    })
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || !isLoopback(url.hostname)) {
    throw new UsageError(`GARMIN_S3_GARMIN_URL must point at this machine (loopback), not ${url.host}.`, {
      hint: 'It exists for the simulator and benchmarks only; unset it to talk to Garmin.',
    })
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new UsageError('GARMIN_S3_GARMIN_URL must be a plain base URL (no credentials, query or fragment).')
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`
}

export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (host === 'localhost') return true
  if (isIP(host) === 4) return host.startsWith('127.')
  if (isIP(host) === 6) return host === '::1' || host === '0:0:0:0:0:0:0:1'
  return false
}
