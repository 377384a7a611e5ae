/**
 * Credentials go only to Garmin (src/garmin/redirects.ts): every step that carries a secret (login with
 * the password, MFA with the code, the ticket exchange with its Basic header, a refresh with the refresh
 * token, a data call with the bearer token) is answered with each redirect status, pointing at the same
 * host, at another loopback address (a capturing server on 127.0.0.2) and at a host outside Garmin's set
 * (attacker.invalid), with both transports. Nothing may reach the other hosts; a redirect on the same host
 * is followed as a bare GET.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { GarminS3Error } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import type { Transport } from '../../src/garmin/http.js'
import { RedirectRefusedError } from '../../src/garmin/redirects.js'
import { MemoryTokenStore } from '../garmin/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { impitLoads, impitTransport } from '../helpers/impit.js'
import { REDIRECT_STATUSES, type RedirectStatus, type SimRoute } from '../sim/faults.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { recordFigure } from './figures.js'

const STAGES = ['login', 'mfa', 'exchange', 'refresh', 'data'] as const
type Stage = (typeof STAGES)[number]
const TARGETS = ['same host', 'other loopback', 'outside garmin'] as const
type Target = (typeof TARGETS)[number]
type TransportName = 'fetch' | 'impit'
/** impit too wherever it loads (everywhere but a run that declares GARMIN_S3_TEST_WITHOUT_IMPIT=1). */
const TRANSPORT_NAMES: TransportName[] = impitLoads ? ['fetch', 'impit'] : ['fetch']

const ROUTE: Record<Stage, SimRoute> = {
  login: 'login',
  mfa: 'mfa',
  exchange: 'token',
  refresh: 'token',
  data: 'activityList',
}

const PATH: Record<Stage, string> = {
  login: '/mobile/api/login',
  mfa: '/mobile/api/mfa/verifyCode',
  exchange: '/di-oauth2-service/oauth/token',
  refresh: '/di-oauth2-service/oauth/token',
  data: '/activitylist-service/activities/search/activities',
}

interface Sent {
  url: string
  method: string
  headers: Headers
  body: string
  redirect: RequestInit['redirect']
}

let clock: FakeClock
let sim: Simulator
let capture: Server
let captureUrl = ''
const captured: { method: string; headers: IncomingMessage['headers']; body: string }[] = []

beforeAll(async () => {
  clock = new FakeClock(Date.parse('2026-11-30T12:00:00Z'))
  sim = await startSimulator({
    activities: 5,
    now: () => clock.now(),
    user: { email: 'runner@example.com', password: 'correct horse battery staple', mfa: 'email' },
  })
  capture = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      captured.push({
        method: req.method ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  await new Promise<void>((resolve) => capture.listen(0, '127.0.0.2', resolve))
  captureUrl = `http://127.0.0.2:${(capture.address() as AddressInfo).port}`
})

afterAll(async () => {
  await sim.close()
  await new Promise((resolve) => capture.close(resolve))
})

function recording(inner: Transport, sent: Sent[]): Transport {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    sent.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: new Headers(init?.headers),
      body: typeof init?.body === 'string' ? init.body : '',
      redirect: init?.redirect,
    })
    return inner(input, init)
  }) as Transport
}

function location(target: Target): string {
  if (target === 'same host') return `${sim.url}/moved/elsewhere`
  if (target === 'other loopback') return `${captureUrl}/collect`
  return 'https://attacker.invalid/collect'
}

/** Runs one stage with the redirect fault armed at the right moment; resolves to the error it ended with. */
async function runStage(stage: Stage, transport: Transport, fault: () => void): Promise<unknown> {
  const store = new MemoryTokenStore()
  const client = new GarminClient({
    tokenStore: store,
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    transport,
    loginTransport: transport,
    clock,
    random: () => 0.5,
    retryPolicy: { maxRetries: 0 },
    // One strategy: what is sent after the redirect is then that strategy's alone.
    signinStrategies: ['mobile'],
  })
  const credentials = {
    email: sim.user.email,
    password: sim.user.password,
    promptMfa: async () => sim.inbox().at(-1)?.code ?? '',
  }
  try {
    if (stage === 'refresh' || stage === 'data') {
      await client.login(credentials)
      fault()
      if (stage === 'refresh') await client.refresh()
      else await client.listActivities({ start: 0, limit: 5 })
    } else {
      fault()
      await client.login(credentials)
    }
    return undefined
  } catch (error) {
    return error
  } finally {
    sim.clearFaults()
  }
}

/** Every secret a stage may carry: none of them may appear in anything sent after a redirect. */
function secretsIn(sent: Sent[]): string[] {
  const values = [sim.user.password, ...sim.inbox().map((m) => m.code), ...sim.secrets()]
  const found: string[] = []
  for (const s of sent) {
    const text = `${s.url}\n${[...s.headers.entries()].map(([k, v]) => `${k}: ${v}`).join('\n')}\n${s.body}`
    for (const v of values) if (v && text.includes(v)) found.push(v)
  }
  return found
}

const loaded = new Map<TransportName, Transport>()
async function transportFor(name: TransportName): Promise<Transport> {
  let t = loaded.get(name)
  if (!t) {
    t = name === 'impit' ? await impitTransport() : fetch
    loaded.set(name, t)
  }
  return t
}

describe('a redirect never carries a credential or a body away from Garmin', () => {
  let cells = 0
  afterAll(() => recordFigure('redirect cells', cells))

  for (const name of TRANSPORT_NAMES) {
    for (const stage of STAGES) {
      for (const status of REDIRECT_STATUSES) {
        it.each(TARGETS)(`${name}: ${stage} answered ${status} to %s`, async (target) => {
          const sent: Sent[] = []
          const transport = recording(await transportFor(name), sent)
          const before = captured.length
          let armedAt = -1
          const error = await runStage(stage, transport, () => {
            armedAt = sent.length
            sim.addFault({
              route: ROUTE[stage],
              fault: { kind: 'redirect', status: status as RedirectStatus, location: location(target) },
              times: 1,
            })
          })
          cells++
          // The token exchange takes a redirect, like any answer but 200, as a cue to try the next app
          // client id (at the token service again); every other stage fails: a redirect is never an answer.
          const nextClientId = stage === 'exchange' && target === 'same host'
          if (!nextClientId) expect(error).toBeInstanceOf(GarminS3Error)
          // Nothing reached the capturing server, and the transport was never asked for another host.
          expect(captured.length).toBe(before)
          const hosts = new Set(sent.map((s) => new URL(s.url).host))
          expect([...hosts]).toEqual([new URL(sim.url).host])
          // What was sent after the request that got the redirect.
          const redirected = sent.findIndex((s, i) => i >= armedAt && new URL(s.url).pathname === PATH[stage])
          expect(redirected).toBeGreaterThanOrEqual(0)
          const followed = sent.slice(redirected + 1)
          const afterRedirect = nextClientId ? followed.slice(0, 1) : followed
          if (nextClientId) {
            expect(error).toBeUndefined()
            const next = followed[1]
            expect([next?.method, next && new URL(next.url).pathname]).toEqual(['POST', PATH.exchange])
            expect(new URLSearchParams(next?.body).get('client_id')).toBe(
              'GARMIN_CONNECT_MOBILE_ANDROID_DI_2024Q4',
            )
          }
          if (target === 'same host') {
            // Followed once, as a bare GET: no body, no Authorization, no Cookie.
            expect(afterRedirect.map((s) => [s.method, new URL(s.url).pathname])).toEqual([
              ['GET', '/moved/elsewhere'],
            ])
            for (const s of afterRedirect) {
              expect(s.body).toBe('')
              expect(s.headers.has('authorization')).toBe(false)
              expect(s.headers.has('cookie')).toBe(false)
            }
            expect(secretsIn(afterRedirect)).toEqual([])
          } else {
            expect(afterRedirect).toEqual([])
            expect(error).toBeInstanceOf(RedirectRefusedError)
            const host = target === 'other loopback' ? new URL(captureUrl).host : 'attacker.invalid'
            expect((error as Error).message).toContain(host)
          }
          // Every request went out with `redirect: 'manual'` (the transports never follow on their own).
          expect(sent.length).toBeGreaterThan(0)
          expect(sent.filter((s) => s.redirect !== 'manual')).toEqual([])
        })
      }
    }
  }
})
