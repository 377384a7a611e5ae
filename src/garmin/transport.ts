/**
 * The HTTP transports for the sign-in steps. `fetch` is Node's own; `impit` (an optional dependency
 * with a prebuilt native binary per platform) impersonates a real browser's TLS fingerprint, which
 * Cloudflare in front of Garmin's SSO demands of programmatic sign-ins. `auto`, the default, uses
 * impit wherever it loads and falls back to fetch elsewhere, saying so once.
 *
 * impit is imported through a specifier TypeScript does not resolve, and its few types are declared
 * here, so that garmin-s3 builds and runs where the optional package is absent.
 */
import { UsageError } from '../errors.js'
import { messageOf } from '../unknown.js'
import type { Transport } from './http.js'

export const TRANSPORTS = ['auto', 'impit', 'fetch'] as const
export type TransportName = (typeof TRANSPORTS)[number]

/** What a bot-challenge hint adds, by whether browser-like TLS was in use. */
export function botChallengeAdvice(impersonated: boolean): string {
  return impersonated
    ? 'Importing python-garminconnect tokens with `--import` avoids the sign-in entirely.'
    : 'If it keeps happening, install the optional package impit (browser-like TLS) and use `--transport impit`.'
}

/** The part of impit's API garmin-s3 uses (impit 0.14: `new Impit({ browser }).fetch(url, init)`). */
interface ImpitModule {
  Impit: new (options?: { browser?: string }) => { fetch(url: string, init?: RequestInit): Promise<Response> }
}

/** A variable, not a literal: `tsc` then needs no impit package to build. */
const IMPIT_PACKAGE: string = 'impit'
const importImpitPackage = (): Promise<unknown> => import(IMPIT_PACKAGE)

export type ImpitImporter = () => Promise<unknown>

/** impit's fetch, impersonating Safari on iOS 18 (as the reference client's first strategies do). */
export async function loadImpit(importImpit: ImpitImporter = importImpitPackage): Promise<Transport> {
  const mod = (await importImpit()) as Partial<ImpitModule>
  if (typeof mod.Impit !== 'function') throw new Error('the impit package has no Impit class')
  const client = new mod.Impit({ browser: 'ios18' })
  // impit's fetch mirrors the WHATWG signature closely enough for the sign-in's GETs and POSTs.
  return ((input: string | URL | Request, init?: RequestInit) =>
    client.fetch(typeof input === 'string' ? input : input.toString(), init)) as Transport
}

/** The transports a sign-in runs on: the plain strategies on fetch, the impersonated ones on impit. */
export interface SigninTransports {
  plain: Transport
  /** Absent when impit is not in use; `note` then says why (logged once, before the strategies). */
  impersonated?: Transport
  note?: string
}

export async function signinTransports(
  name: TransportName,
  importImpit: ImpitImporter = importImpitPackage,
): Promise<SigninTransports> {
  if (name === 'fetch') return { plain: fetch, note: 'impit is not in use (--transport fetch)' }
  try {
    return { plain: fetch, impersonated: await loadImpit(importImpit) }
  } catch (error) {
    if (name === 'impit') {
      throw new UsageError(
        '--transport impit needs the optional package "impit", which could not be loaded here.',
        {
          hint: 'Reinstall garmin-s3 with optional dependencies (npm install -g garmin-s3, without --omit=optional); impit has prebuilt binaries for Linux, macOS and Windows on x64 and arm64. Or use --transport fetch.',
          cause: error,
        },
      )
    }
    return {
      plain: fetch,
      note: `impit (browser-like TLS) could not be loaded here (${firstLine(messageOf(error))})`,
    }
  }
}

function firstLine(text: string): string {
  const line = text.split('\n')[0] ?? ''
  return line.length > 120 ? `${line.slice(0, 117)}...` : line
}
