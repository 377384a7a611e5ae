/**
 * The HTTP transport for the sign-in steps. `fetch` is Node's own; `impit` (an optional dependency)
 * impersonates a real browser's TLS fingerprint, which Cloudflare in front of Garmin's SSO may demand.
 * impit is loaded only when asked for, so garmin-s3 works without it.
 */
import { UsageError } from '../errors.js'
import type { Transport } from './http.js'

export const TRANSPORTS = ['fetch', 'impit'] as const
export type TransportName = (typeof TRANSPORTS)[number]

/** What a bot-challenge hint adds for each transport. */
export function botChallengeAdvice(name: TransportName): string {
  return name === 'fetch'
    ? 'If it keeps happening, try `--transport impit` (browser-like TLS).'
    : 'Importing python-garminconnect tokens with `--import` avoids the sign-in entirely.'
}

interface ImpitModule {
  Impit: new (options?: { browser?: string }) => { fetch(url: string, init?: RequestInit): Promise<Response> }
}

export async function loadTransport(
  name: TransportName,
  importImpit: () => Promise<unknown> = () => import('impit'),
): Promise<Transport> {
  if (name === 'fetch') return fetch
  let mod: ImpitModule
  try {
    mod = (await importImpit()) as ImpitModule
  } catch (error) {
    throw new UsageError(
      '--transport impit needs the optional package "impit", which is not installed here.',
      {
        hint: 'Install it next to garmin-s3 (npm install -g impit, or npm install impit), or use --transport fetch.',
        cause: error,
      },
    )
  }
  const client = new mod.Impit({ browser: 'ios18' })
  // impit's fetch mirrors the WHATWG signature closely enough for the login's POSTs.
  return ((input: string | URL | Request, init?: RequestInit) =>
    client.fetch(typeof input === 'string' ? input : input.toString(), init)) as Transport
}
