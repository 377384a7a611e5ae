/** Fault injection: which failure the simulator serves instead of (or before) a route's real answer. */
import type { Rng } from './prng.js'

export const SIM_ROUTES = [
  'login',
  'mfa',
  'portalPage',
  'portalLogin',
  'portalMfa',
  'widgetEmbed',
  'widgetPage',
  'widgetLogin',
  'widgetMfa',
  'token',
  'socialProfile',
  'activityList',
  'activityCount',
  'activity',
  'activityDetails',
  'activitySplits',
  'download',
  'dailySummary',
  'sleep',
  'heartRate',
  'stress',
  'hrv',
  'bodyBattery',
  'bodyComposition',
  'trainingReadiness',
  // Every route of SimOptions.dailyFixtures (a dataset a test adds): one name for faults and stats.
  'fixtureDaily',
  'reloadRequest',
] as const
export type SimRoute = (typeof SIM_ROUTES)[number]
/** Narrower scopes a fault may target: the token route's two grants (stats still count both as `token`). */
export const FAULT_SCOPES = ['exchange', 'refresh'] as const
export type FaultScope = (typeof FAULT_SCOPES)[number]

const STATUSES = [429, 500, 502, 503, 403, 401, 404] as const
export type FaultStatus = (typeof STATUSES)[number]
export const REDIRECT_STATUSES = [301, 302, 307, 308] as const
export type RedirectStatus = (typeof REDIRECT_STATUSES)[number]

export type Fault =
  | { kind: 'status'; status: FaultStatus; retryAfter?: number } // 429 with/without Retry-After seconds
  | { kind: 'reset' } // destroy the socket without answering
  | { kind: 'html' } // Cloudflare-style 403 HTML challenge page
  | { kind: 'malformed' } // 200 with a body that is not JSON
  | { kind: 'truncated' } // 200 JSON cut off mid-body (the route ran: its side effects happened)
  | { kind: 'latency'; ms: number; jitterMs?: number }
  | { kind: 'captcha' } // login only: 200 `responseStatus.type` CAPTCHA_REQUIRED
  | { kind: 'rateLimitBody' } // 200 JSON `{"error":{"status-code":"429"}}`, as SSO sometimes answers
  | { kind: 'redirect'; status: RedirectStatus; location: string } // a 3xx pointing elsewhere

export interface FaultRule {
  route: SimRoute | FaultScope | '*'
  fault: Fault
  /** Only the next K matching requests. */
  times?: number
  /** Each matching request fails with this probability (seeded, so runs repeat). */
  probability?: number
}

const KINDS = [
  'status',
  'reset',
  'html',
  'malformed',
  'truncated',
  'latency',
  'captcha',
  'rateLimitBody',
  'redirect',
] as const

function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

function nonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0)
    throw new Error(`${what} must be a number >= 0`)
  return value
}

/** Checks a rule that arrived as JSON (`POST /__sim/faults`) or from a test. */
export function validateFaultRule(input: unknown): FaultRule {
  if (!isRecord(input)) throw new Error('a fault rule is an object {route, fault, times?, probability?}')
  const { route, fault, times, probability } = input
  if (
    route !== '*' &&
    !SIM_ROUTES.includes(route as SimRoute) &&
    !FAULT_SCOPES.includes(route as FaultScope)
  ) {
    throw new Error(
      `unknown route ${JSON.stringify(route)}; one of *, ${[...SIM_ROUTES, ...FAULT_SCOPES].join(', ')}`,
    )
  }
  if (!isRecord(fault) || !KINDS.includes(fault.kind as (typeof KINDS)[number])) {
    throw new Error(`fault.kind must be one of ${KINDS.join(', ')}`)
  }
  let checked: Fault
  switch (fault.kind) {
    case 'status': {
      if (!STATUSES.includes(fault.status as FaultStatus))
        throw new Error(`fault.status must be one of ${STATUSES.join(', ')}`)
      const status = fault.status as FaultStatus
      checked =
        fault.retryAfter === undefined
          ? { kind: 'status', status }
          : { kind: 'status', status, retryAfter: nonNegative(fault.retryAfter, 'fault.retryAfter') }
      break
    }
    case 'latency':
      checked = {
        kind: 'latency',
        ms: nonNegative(fault.ms, 'fault.ms'),
        ...(fault.jitterMs === undefined ? {} : { jitterMs: nonNegative(fault.jitterMs, 'fault.jitterMs') }),
      }
      break
    case 'redirect':
      if (!REDIRECT_STATUSES.includes(fault.status as RedirectStatus))
        throw new Error(`fault.status must be one of ${REDIRECT_STATUSES.join(', ')}`)
      if (typeof fault.location !== 'string' || fault.location === '')
        throw new Error('fault.location must be a URL')
      checked = { kind: 'redirect', status: fault.status as RedirectStatus, location: fault.location }
      break
    default:
      checked = { kind: fault.kind as 'reset' }
  }
  const rule: FaultRule = { route: route as FaultRule['route'], fault: checked }
  if (times !== undefined) {
    if (!Number.isInteger(times) || (times as number) < 1) throw new Error('times must be an integer >= 1')
    rule.times = times as number
  }
  if (probability !== undefined) {
    if (typeof probability !== 'number' || !(probability >= 0 && probability <= 1)) {
      throw new Error('probability must be between 0 and 1')
    }
    rule.probability = probability
  }
  return rule
}

/**
 * The command-line form, `ROUTE:KIND[:ARG][:key=value...]`:
 *   activityList:503:times=3      download:reset:p=0.1        login:429:retry-after=60
 *   token:html                    *:latency:200:jitter=50     activity:truncated:times=1
 * KIND is a status (429 500 502 503 403 401 404) or reset, html, malformed, truncated, latency, captcha,
 * rateLimitBody. ARG is latency's milliseconds or 429's Retry-After seconds.
 */
export function parseFaultSpec(spec: string): FaultRule {
  const [route, kind, ...rest] = spec.split(':')
  if (!route || !kind) throw new Error(`fault "${spec}": expected ROUTE:KIND[:ARG][:times=K][:p=P]`)
  const options: Record<string, string> = {}
  let arg: string | undefined
  for (const part of rest) {
    const eq = part.indexOf('=')
    if (eq < 0) {
      if (arg !== undefined) throw new Error(`fault "${spec}": more than one bare argument`)
      arg = part
    } else {
      options[part.slice(0, eq)] = part.slice(eq + 1)
    }
  }
  const number = (value: string | undefined, what: string): number | undefined => {
    if (value === undefined) return undefined
    const n = Number(value)
    if (value.trim() === '' || !Number.isFinite(n))
      throw new Error(`fault "${spec}": ${what} must be a number`)
    return n
  }
  let fault: Record<string, unknown>
  if (/^\d+$/.test(kind)) {
    const retryAfter = number(options['retry-after'] ?? arg, 'retry-after')
    fault = { kind: 'status', status: Number(kind), ...(retryAfter === undefined ? {} : { retryAfter }) }
  } else if (kind === 'latency') {
    const jitter = number(options.jitter, 'jitter')
    fault = {
      kind,
      ms: number(options.ms ?? arg, 'ms') ?? 0,
      ...(jitter === undefined ? {} : { jitterMs: jitter }),
    }
  } else {
    fault = { kind }
  }
  const known = new Set(['times', 'p', 'retry-after', 'jitter', 'ms'])
  for (const key of Object.keys(options))
    if (!known.has(key)) throw new Error(`fault "${spec}": unknown option ${key}`)
  try {
    return validateFaultRule({
      route,
      fault,
      ...(options.times === undefined ? {} : { times: number(options.times, 'times') }),
      ...(options.p === undefined ? {} : { probability: number(options.p, 'p') }),
    })
  } catch (error) {
    throw new Error(`fault "${spec}": ${(error as Error).message}`)
  }
}

/** The rules in force, in the order they were added. */
export class FaultBook {
  private rules: { rule: FaultRule; left?: number }[] = []

  constructor(private readonly random: Rng) {}

  add(rule: FaultRule): void {
    const checked = validateFaultRule(rule)
    this.rules.push({ rule: checked, ...(checked.times === undefined ? {} : { left: checked.times }) })
  }

  clear(): void {
    this.rules = []
  }

  list(): FaultRule[] {
    return this.rules.map(({ rule, left }) => ({ ...rule, ...(left === undefined ? {} : { times: left }) }))
  }

  /**
   * What happens to one request on `route`: the total extra latency of every matching latency rule, and the
   * first matching failure (rules with `times` are used up as they fire).
   */
  take(
    route: SimRoute,
    scope?: FaultScope,
  ): { delayMs: number; failure?: Exclude<Fault, { kind: 'latency' }> } {
    let delayMs = 0
    let failure: Exclude<Fault, { kind: 'latency' }> | undefined
    for (const slot of this.rules) {
      const { rule } = slot
      if (rule.route !== '*' && rule.route !== route && rule.route !== scope) continue
      if (rule.fault.kind !== 'latency' && failure) continue
      if (rule.probability !== undefined && !(this.random() < rule.probability)) continue
      if (slot.left !== undefined) slot.left -= 1
      if (rule.fault.kind === 'latency') {
        delayMs += rule.fault.ms + (rule.fault.jitterMs ? this.random() * rule.fault.jitterMs : 0)
      } else {
        failure = rule.fault
      }
    }
    this.rules = this.rules.filter((slot) => slot.left === undefined || slot.left > 0)
    return { delayMs: Math.round(delayMs), ...(failure ? { failure } : {}) }
  }
}
