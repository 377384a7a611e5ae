/**
 * A Garmin Connect simulator on node:http: SSO sign-in (mobile, portal and embed widget; MFA with an inbox),
 * DI token exchange and refresh with rotation, the data paths of docs/garmin-api.md over a
 * generated account, fault injection per route, an optional bot check, and request counts. sso, diauth and
 * connectapi each get a listener of their own that answers only its own routes. See README.md beside this file.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { ArchiveBook, DEFAULT_RELOAD_CAP, isArchivedRoute, type ReloadEvent } from './archive.js'
import {
  type AuthAnswer,
  AuthService,
  type InboxMessage,
  type MfaMethod,
  type SimDomain,
  type SsoRequest,
} from './auth.js'
import {
  type Fault,
  FaultBook,
  type FaultRule,
  type FaultScope,
  type SimRoute,
  validateFaultRule,
} from './faults.js'
import { originalZip } from './fit.js'
import { type AccountOwner, ActivityGenerator, loadActivitiesFile } from './generator.js'
import { mixSeed, mulberry32, rngFor } from './prng.js'
import {
  activityDetail,
  activityDetails,
  activitySplits,
  bodyBatteryRange,
  bodyCompositionRange,
  dailyBody,
  dateOf,
  dayNumber,
} from './shapes.js'
import type { JsonObject } from './templates.js'

export type { Fault, FaultRule, SimRoute } from './faults.js'
export { parseFaultSpec, SIM_ROUTES } from './faults.js'

export interface SimOptions {
  /** Size of the generated account (default 100), spread over `years` (default 3) ending "today". */
  activities?: number
  years?: number
  seed?: number
  /** The sim clock (default Date.now): "today", token expiry and service-ticket expiry follow it. */
  now?: () => number
  /** A JSON array of activity-list entries to serve instead of a generated account. */
  activitiesFile?: string
  /**
   * `mfa`: the account has MFA on; each sign-in sends a fresh code by that method to the inbox.
   * `locked`: every sign-in with this email is refused as a locked account (JSON `ACCOUNT_LOCKED`, a
   * widget page titled "... Account Locked"), whatever the password.
   */
  user?: { email: string; password: string; mfa?: MfaMethod; displayName?: string; locked?: boolean }
  /** The Garmin domain the sim stands for (default garmin.com): service URLs and the tokens' `iss`. */
  domain?: SimDomain
  /**
   * Stands in for Cloudflare's TLS fingerprinting, which a simulator on plain HTTP cannot do: requests
   * that carry Node's fetch (undici) fingerprint are refused on the SSO routes (and the token route
   * with `diauth: true`), with `CAPTCHA_REQUIRED` on the JSON sign-ins (`answer: 'captcha'`) or a 403
   * challenge page. See `looksLikeNodeFetch`.
   */
  botCheck?: { answer: 'captcha' | 'html'; diauth?: boolean }
  latencyMs?: number
  latencyJitterMs?: number
  /** Default 10800 (three hours). */
  accessTokenTtlSeconds?: number
  /** Default 2592000 (30 days). */
  refreshTokenTtlSeconds?: number
  /** Every access token answers 401 after this many data calls. */
  accessTokenMaxCalls?: number
  /** Client ids the token endpoint refuses (401 invalid_client), to exercise the client's fallback list. */
  rejectedClientIds?: string[]
  /** The profile has `displayName: null` (Garmin accounts that never chose one); name paths answer 403. */
  noDisplayName?: boolean
  /**
   * Archive mode: days older than today minus this many answer heart rate, stress and sleep with the
   * summary filled and the samples null, until reloaded (`POST .../epoch/request/{date}`, archive.ts).
   */
  archiveAfterDays?: number
  /** Reload requests answered per UTC day of the sim clock before DENIED (default 30). */
  reloadCap?: number
  /** How many seeded days within the last 30 answer 204 on the daily routes (default 3). */
  gapDays?: number
  /**
   * Extra per-date daily routes on connectapi, for a dataset a test adds (route `fixtureDaily` in
   * stats and faults). Held to the rules of the built-in ones: GET only, a bearer token, a
   * `YYYY-MM-DD` date (else 400), 204 on gap days and after today, day overrides and revisions.
   */
  dailyFixtures?: SimDailyFixture[]
  /** How latency waits (default setTimeout); tests can record instead of waiting. */
  sleep?: (ms: number) => Promise<void>
  /** Record messages per FIT original (default 30; about 0.1 ms of encoding each). */
  fitRecords?: number
  /** Listening port (default 0: a free one). */
  port?: number
  /** Called once per answered request (not for control routes); never sees headers or bodies. */
  onRequest?: (event: {
    method: string
    path: string
    route?: SimRoute
    status: number | 'reset'
    ms: number
  }) => void
}

export interface SimDailyFixture {
  /** The path, anchored, with one capture group: the date. */
  path: RegExp
  /** The day's answer (seeded: the same day answers the same body). */
  body(date: string, seed: number): unknown
}

export interface SimStats {
  total: number
  byRoute: Partial<Record<SimRoute, Record<string, number>>>
  /** Requests to paths that are not a simulated route (answered 404). */
  unmatched: number
}

export interface Simulator {
  /** One listener for every route of every host (lenient: for tests of the data path). */
  url: string
  /** A listener per Garmin host, each answering only its own routes (404 to any other). */
  hosts: Record<SimHost, string>
  /** The GARMIN_S3_GARMIN_URL value that points the client at the per-host listeners. */
  garminUrl: string
  /** Every MFA code sent so far, oldest first (also `GET /__sim/inbox`). */
  inbox(): InboxMessage[]
  close(): Promise<void>
  stats(): SimStats
  resetStats(): void
  addFault(rule: FaultRule): void
  clearFaults(): void
  faults(): FaultRule[]
  /** New activities, newer than all existing, returned newest first. */
  addActivities(count: number): ActivityEntry[]
  /** The whole account, newest first, exactly as served. */
  listAll(): ActivityEntry[]
  /**
   * From now on the activity list serves `json` (any text: a hostile id, 10,000 levels of nesting, a
   * 2 MB entry) in place of this activity's entry, at its position. Throws for an unknown id.
   */
  replaceListEntry(activityId: number, json: string): void
  /** Garmin fixing it: the list serves the activity's own entry again. */
  restoreListEntry(activityId: number): void
  /**
   * The user edits an activity in Garmin Connect: `fields` replace (or, with value `undefined`, remove)
   * fields of its entry, in place. Every route then serves the new version (details and splits follow
   * the entry's distance and duration); the FIT original is what the device recorded and stays. A
   * changed start time moves the entry to its new position in the list. Returns the new entry.
   */
  editActivity(activityId: number, fields: Record<string, unknown>): ActivityEntry
  /** The user deletes an activity: the list leaves it out, and every route answers 404 for its id. */
  deleteActivity(activityId: number): void
  revokeRefreshTokens(): void
  expireAccessTokensAfter(calls: number): void
  secrets(): string[]
  /** Moves the sim clock forward (on top of `now`). */
  advanceClock(ms: number): void
  /** Moves the sim clock on by one day (a new reload quota). */
  nextDay(): void
  /** Every reload request answered, oldest first: the day asked for, the status, the sim's day. */
  reloads(): ReloadEvent[]
  /** Archive mode: that day's archive is lost; it stays without samples and a reload answers NO_FILES_FOUND. */
  loseArchivedDay(date: string): void
  /** The days (`YYYY-MM-DD`) whose daily routes answer 204. */
  gapDates(): string[]
  /** Garmin revising a recent day: from now on that day of a (per-date) daily route answers new content. */
  reviseDaily(route: SimRoute, date: string): void
  /** That day of a per-date daily route answers 200 `{privacyProtected: true}` with no data. */
  protectDaily(route: SimRoute, date: string): void
  /** That day of a per-date daily route answers 200 with every field null (Garmin's "nothing recorded"). */
  nullDaily(route: SimRoute, date: string): void
  /** The user renames their display name: the old one now answers 403 on the name paths. */
  renameDisplayName(name: string): void
  readonly user: { email: string; password: string; mfa?: MfaMethod; displayName: string; profileId: number }
}

export type SimHost = 'sso' | 'diauth' | 'connectapi'
type Listener = SimHost | 'all'

export const DEFAULT_USER = {
  email: 'runner@example.com',
  password: 'correct horse battery staple',
  displayName: 'runner_1',
}
const DAY_MS = 86_400_000
const MAX_LIST_LIMIT = 1000
const MAX_RANGE_DAYS = 366
const ZIP_CACHE_SIZE = 256

interface Answer {
  status: number
  headers?: Record<string, string | string[]>
  body?: string | Buffer
}

const HTML_TYPE = 'text/html; charset=UTF-8'

function fromAuth(a: AuthAnswer, headers: Record<string, string | string[]> = {}): Answer {
  if (a.html !== undefined) {
    return {
      status: a.status,
      headers: { 'content-type': HTML_TYPE, ...headers, ...a.headers },
      body: a.html,
    }
  }
  return json(a.status, a.body, { ...headers, ...a.headers })
}

/**
 * Node's fetch (undici) writes `Host` as its first header and always sends `sec-fetch-mode: cors`,
 * whatever the caller sets; browsers and impit do neither. That is the stand-in for a TLS fingerprint.
 */
export function looksLikeNodeFetch(req: IncomingMessage): boolean {
  return req.rawHeaders[0]?.toLowerCase() === 'host' && req.headers['sec-fetch-mode'] === 'cors'
}

const JSON_TYPE = 'application/json;charset=UTF-8'

function json(status: number, value: unknown, headers: Record<string, string | string[]> = {}): Answer {
  return { status, headers: { 'content-type': JSON_TYPE, ...headers }, body: JSON.stringify(value) }
}

function message(status: number, text: string): Answer {
  return json(status, { message: text, status })
}

const CLOUDFLARE_HTML = `<!DOCTYPE html><html lang="en-US"><head><title>Just a moment...</title>
<meta http-equiv="Content-Type" content="text/html; charset=UTF-8"><meta name="robots" content="noindex,nofollow">
</head><body><div class="main-wrapper" role="main"><div class="main-content">
<h1 class="zone-name-title h1">sso.garmin.com</h1><h2 class="h2" id="challenge-running">Checking if the site connection is secure</h2>
<noscript><div class="h2">Enable JavaScript and cookies to continue</div></noscript></div></div>
<script>(function(){window._cf_chl_opt={cvId:'3',cType:'managed'};})();</script></body></html>`

function gatewayHtml(status: number): string {
  const text = status === 502 ? 'Bad Gateway' : 'Service Temporarily Unavailable'
  return `<html><head><title>${status} ${text}</title></head><body><center><h1>${status} ${text}</h1></center></body></html>`
}

interface Matched {
  route: SimRoute
  method: 'GET' | 'POST'
  host: SimHost
  param?: string
  /** The SimDailyFixture of a `fixtureDaily` route. */
  fixture?: SimDailyFixture
}

const SSO_ROUTES: [RegExp, SimRoute, 'GET' | 'POST'][] = [
  [/^\/mobile\/api\/login$/, 'login', 'POST'],
  [/^\/mobile\/api\/mfa\/verifyCode$/, 'mfa', 'POST'],
  [/^\/portal\/sso\/en-US\/sign-in$/, 'portalPage', 'GET'],
  [/^\/portal\/api\/login$/, 'portalLogin', 'POST'],
  [/^\/portal\/api\/mfa\/verifyCode$/, 'portalMfa', 'POST'],
  [/^\/sso\/embed$/, 'widgetEmbed', 'GET'],
  [/^\/sso\/signin$/, 'widgetPage', 'GET'],
  [/^\/sso\/signin$/, 'widgetLogin', 'POST'],
  [/^\/sso\/verifyMFA\/loginEnterMfaCode$/, 'widgetMfa', 'POST'],
]
/** The JSON sign-ins, where the bot check can answer CAPTCHA_REQUIRED. */
const JSON_LOGINS: ReadonlySet<SimRoute> = new Set(['login', 'portalLogin'])

const DATA_ROUTES: [RegExp, SimRoute, 'GET' | 'POST'][] = [
  [/^\/userprofile-service\/socialProfile$/, 'socialProfile', 'GET'],
  [/^\/activitylist-service\/activities\/search\/activities$/, 'activityList', 'GET'],
  [/^\/activitylist-service\/activities\/count$/, 'activityCount', 'GET'],
  [/^\/activity-service\/activity\/([^/]+)$/, 'activity', 'GET'],
  [/^\/activity-service\/activity\/([^/]+)\/details$/, 'activityDetails', 'GET'],
  [/^\/activity-service\/activity\/([^/]+)\/splits$/, 'activitySplits', 'GET'],
  [/^\/download-service\/files\/activity\/([^/]+)$/, 'download', 'GET'],
  [/^\/usersummary-service\/usersummary\/daily\/([^/]+)$/, 'dailySummary', 'GET'],
  [/^\/wellness-service\/wellness\/dailySleepData\/([^/]+)$/, 'sleep', 'GET'],
  [/^\/wellness-service\/wellness\/dailyHeartRate\/([^/]+)$/, 'heartRate', 'GET'],
  [/^\/wellness-service\/wellness\/dailyStress\/([^/]+)$/, 'stress', 'GET'],
  [/^\/hrv-service\/hrv\/([^/]+)$/, 'hrv', 'GET'],
  [/^\/wellness-service\/wellness\/bodyBattery\/reports\/daily$/, 'bodyBattery', 'GET'],
  [/^\/weight-service\/weight\/dateRange$/, 'bodyComposition', 'GET'],
  [/^\/metrics-service\/metrics\/trainingreadiness\/([^/]+)$/, 'trainingReadiness', 'GET'],
  [/^\/wellness-service\/wellness\/epoch\/request\/([^/]+)$/, 'reloadRequest', 'POST'],
]

const PATTERNS: (readonly [RegExp, SimRoute, 'GET' | 'POST', SimHost])[] = [
  ...SSO_ROUTES.map(([re, route, method]) => [re, route, method, 'sso'] as const),
  [/^\/di-oauth2-service\/oauth\/token$/, 'token', 'POST', 'diauth'] as const,
  ...DATA_ROUTES.map(([re, route, method]) => [re, route, method, 'connectapi'] as const),
]

/** The route for this path and method; a path known only for another method matches with that method (405). */
function match(pathname: string, method: string): Matched | undefined {
  let other: Matched | undefined
  for (const [re, route, routeMethod, host] of PATTERNS) {
    const m = re.exec(pathname)
    if (!m) continue
    const found = {
      route,
      method: routeMethod,
      host,
      ...(m[1] === undefined ? {} : { param: safeDecode(m[1]) }),
    }
    if (routeMethod === method) return found
    other ??= found
  }
  return other
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const sim = new SimServer(options)
  await sim.listen(options.port ?? 0)
  return sim
}

const LISTENERS: readonly Listener[] = ['all', 'sso', 'diauth', 'connectapi']

class SimServer implements Simulator {
  url = ''
  hosts: Record<SimHost, string> = { sso: '', diauth: '', connectapi: '' }
  garminUrl = ''
  readonly user: Simulator['user']
  private readonly servers = LISTENERS.map((listener) => ({
    listener,
    server: createServer((req, res) => {
      this.handle(req, res, listener).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          res.writeHead(500, { 'content-type': JSON_TYPE }).end(JSON.stringify({ message: String(error) }))
        }
      })
    }),
  }))
  private readonly seed: number
  private readonly owner: AccountOwner
  private readonly generator: ActivityGenerator
  private readonly auth: AuthService
  private readonly faultBook: FaultBook
  private readonly latency: () => number
  private readonly sleep: (ms: number) => Promise<void>
  private readonly gaps: Set<number>
  private readonly zips = new Map<number, Buffer>()
  // Serialized list entries: paging 10,000+ activities should cost the benchmarks nothing on this side.
  private readonly entryJson = new WeakMap<ActivityEntry, string>()
  /** Entries the list serves as other text (replaceListEntry). */
  private readonly listOverrides = new Map<ActivityEntry, string>()
  private entries: ActivityEntry[]
  private byId = new Map<number, ActivityEntry>()
  private clockOffsetMs = 0
  private readonly revisions = new Map<string, number>()
  private readonly dayOverrides = new Map<string, 'protected' | 'null'>()
  private readonly archive: ArchiveBook
  /** What socialProfile reports and the name paths accept; null for an account without one. */
  private displayName: string | null
  private counts: SimStats = { total: 0, byRoute: {}, unmatched: 0 }

  constructor(private readonly options: SimOptions) {
    this.seed = options.seed ?? 1
    const user = { ...DEFAULT_USER, ...options.user }
    const profileId = 80_000_000 + (mixSeed(this.seed, 99) % 19_000_000)
    this.user = { ...user, displayName: user.displayName ?? DEFAULT_USER.displayName, profileId }
    this.owner = { profileId, displayName: this.user.displayName, fullName: 'Sim Runner' }
    this.generator = new ActivityGenerator({ seed: this.seed, owner: this.owner })
    this.displayName = options.noDisplayName ? null : this.owner.displayName
    this.entries = options.activitiesFile
      ? loadActivitiesFile(options.activitiesFile)
      : this.generator.generate(options.activities ?? 100, options.years ?? 3, this.now())
    this.index()
    this.archive = new ArchiveBook(options.archiveAfterDays, options.reloadCap ?? DEFAULT_RELOAD_CAP, dateOf)
    this.auth = new AuthService({
      email: this.user.email,
      password: this.user.password,
      ...(this.user.mfa === undefined ? {} : { mfa: this.user.mfa }),
      ...(user.locked ? { locked: true } : {}),
      domain: options.domain ?? 'garmin.com',
      accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? 10_800,
      refreshTokenTtlSeconds: options.refreshTokenTtlSeconds ?? 2_592_000,
      rejectedClientIds: options.rejectedClientIds ?? [],
      ...(options.accessTokenMaxCalls === undefined
        ? {}
        : { accessTokenMaxCalls: options.accessTokenMaxCalls }),
      now: () => this.now(),
    })
    const random = mulberry32(mixSeed(this.seed, 5))
    this.faultBook = new FaultBook(random)
    // A PRNG of its own, so that turning on jitter does not change which requests a probability rule hits.
    const jitter = mulberry32(mixSeed(this.seed, 6))
    this.latency = () =>
      (options.latencyMs ?? 0) + (options.latencyJitterMs ? jitter() * options.latencyJitterMs : 0)
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)))
    // Gap days sit within the last 30 days, where daily syncs look.
    const today = Math.floor(this.now() / DAY_MS)
    const r = rngFor(this.seed, 13)
    this.gaps = new Set()
    const wanted = Math.min(options.gapDays ?? 3, 30)
    while (this.gaps.size < wanted) this.gaps.add(today - 1 - Math.floor(r() * 30))
  }

  async listen(port: number): Promise<void> {
    for (const { listener, server } of this.servers) {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject)
        // `port` is for the all-routes listener; the per-host ones take free ports.
        server.listen(listener === 'all' ? port : 0, '127.0.0.1', () => {
          const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
          if (listener === 'all') this.url = url
          else this.hosts[listener] = url
          resolve()
        })
      })
    }
    this.garminUrl = `sso=${this.hosts.sso},diauth=${this.hosts.diauth},connectapi=${this.hosts.connectapi}`
  }

  close(): Promise<void> {
    return Promise.all(
      this.servers.map(
        ({ server }) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve())
            server.closeAllConnections()
          }),
      ),
    ).then(() => undefined)
  }

  inbox(): InboxMessage[] {
    return this.auth.inbox()
  }

  private now(): number {
    return (this.options.now ?? Date.now)() + this.clockOffsetMs
  }

  advanceClock(ms: number): void {
    this.clockOffsetMs += ms
  }

  nextDay(): void {
    this.advanceClock(DAY_MS)
  }
  reloads(): ReloadEvent[] {
    return this.archive.log()
  }
  loseArchivedDay(date: string): void {
    const day = dayNumber(date)
    if (day === undefined) throw new Error(`not a YYYY-MM-DD date: ${date}`)
    this.archive.lose(day)
  }
  private index(): void {
    this.byId = new Map(this.entries.map((e) => [e.activityId, e]))
  }

  stats(): SimStats {
    return structuredClone(this.counts)
  }

  resetStats(): void {
    this.counts = { total: 0, byRoute: {}, unmatched: 0 }
  }

  addFault(rule: FaultRule): void {
    this.faultBook.add(rule)
  }

  clearFaults(): void {
    this.faultBook.clear()
  }

  faults(): FaultRule[] {
    return this.faultBook.list()
  }

  addActivities(count: number): ActivityEntry[] {
    const added = this.generator.more(count, this.entries, this.now())
    this.entries = [...added, ...this.entries]
    for (const e of added) this.byId.set(e.activityId, e)
    return added
  }

  listAll(): ActivityEntry[] {
    return this.entries.slice()
  }

  replaceListEntry(activityId: number, json: string): void {
    const entry = this.byId.get(activityId)
    if (!entry) throw new Error(`no activity ${activityId} in the simulated account`)
    this.listOverrides.set(entry, json)
  }

  restoreListEntry(activityId: number): void {
    const entry = this.byId.get(activityId)
    if (entry) this.listOverrides.delete(entry)
  }

  editActivity(activityId: number, fields: Record<string, unknown>): ActivityEntry {
    const entry = this.byId.get(activityId)
    if (!entry) throw new Error(`no activity ${activityId} in the simulated account`)
    if ('activityId' in fields) throw new Error('an edit cannot change the activity id')
    const edited = { ...entry } as Record<string, unknown>
    for (const [name, value] of Object.entries(fields)) {
      if (value === undefined) delete edited[name]
      else edited[name] = value
    }
    const next = edited as ActivityEntry
    const override = this.listOverrides.get(entry)
    this.listOverrides.delete(entry)
    if (override !== undefined) this.listOverrides.set(next, override)
    // In place: pages before and after an edit stay consistent (the same entries at the same offsets).
    this.entries = this.entries.map((e) => (e === entry ? next : e))
    if (next.startTimeGMT !== entry.startTimeGMT)
      this.entries.sort((a, b) =>
        a.startTimeGMT < b.startTimeGMT ? 1 : a.startTimeGMT > b.startTimeGMT ? -1 : 0,
      )
    this.byId.set(activityId, next)
    return next
  }

  deleteActivity(activityId: number): void {
    const entry = this.byId.get(activityId)
    if (!entry) throw new Error(`no activity ${activityId} in the simulated account`)
    this.entries = this.entries.filter((e) => e !== entry)
    this.byId.delete(activityId)
    this.listOverrides.delete(entry)
    this.zips.delete(activityId)
  }

  revokeRefreshTokens(): void {
    this.auth.revokeRefreshTokens()
  }

  expireAccessTokensAfter(calls: number): void {
    this.auth.expireAccessTokensAfter(calls)
  }

  secrets(): string[] {
    return this.auth.secrets()
  }

  gapDates(): string[] {
    return [...this.gaps].sort((a, b) => a - b).map(dateOf)
  }

  protectDaily(route: SimRoute, date: string): void {
    this.dayOverrides.set(`${route} ${date}`, 'protected')
  }

  nullDaily(route: SimRoute, date: string): void {
    this.dayOverrides.set(`${route} ${date}`, 'null')
  }

  renameDisplayName(name: string): void {
    this.displayName = name
  }

  reviseDaily(route: SimRoute, date: string): void {
    const key = `${route} ${date}`
    this.revisions.set(key, (this.revisions.get(key) ?? 0) + 1)
  }

  private count(route: SimRoute | undefined, status: number | 'reset'): void {
    this.counts.total += 1
    if (!route) {
      this.counts.unmatched += 1
      return
    }
    const byStatus = this.counts.byRoute[route] ?? {}
    byStatus[String(status)] = (byStatus[String(status)] ?? 0) + 1
    this.counts.byRoute[route] = byStatus
  }

  private async handle(req: IncomingMessage, res: ServerResponse, listener: Listener): Promise<void> {
    const started = Date.now()
    const url = new URL(req.url ?? '/', 'http://sim.invalid')
    const body = await readBody(req)
    if (url.pathname.startsWith('/__sim/')) {
      send(res, this.control(req.method ?? 'GET', url.pathname, body))
      return
    }
    const found = match(url.pathname, req.method ?? 'GET') ?? this.matchFixture(url.pathname)
    // A host's own listener knows nothing of the other hosts' routes, as Garmin's hosts do not.
    const matched = found && (listener === 'all' || found.host === listener) ? found : undefined
    const finish = (status: number | 'reset') => {
      this.count(matched?.route, status)
      this.options.onRequest?.({
        method: req.method ?? 'GET',
        path: url.pathname,
        ...(matched ? { route: matched.route } : {}),
        status,
        ms: Date.now() - started,
      })
    }
    if (!matched) {
      finish(404)
      send(res, message(404, `no simulated route for ${req.method} ${url.pathname}`))
      return
    }
    const { delayMs, failure } = this.faultBook.take(matched.route, tokenScope(matched.route, body))
    const wait = delayMs + this.latency()
    if (wait > 0) await this.sleep(wait)
    if (res.destroyed) return
    const blocked = this.botCheck(matched, req)
    if (blocked) {
      finish(blocked.status)
      send(res, blocked)
      return
    }
    if (failure && failure.kind !== 'truncated') {
      if (failure.kind === 'reset') {
        finish('reset')
        req.socket.resetAndDestroy()
        return
      }
      const answer = faultAnswer(failure)
      finish(answer.status)
      send(res, answer)
      return
    }
    const answer =
      req.method === matched.method
        ? this.route(matched, url.searchParams, req, body)
        : message(405, `${req.method} is not supported here`)
    finish(answer.status)
    if (failure?.kind === 'truncated' && answer.body !== undefined && answer.body.length > 1) {
      // The route ran (a rotated refresh token stays rotated) but the client gets half the body.
      const bytes = Buffer.from(answer.body)
      res.writeHead(answer.status, { ...answer.headers, 'content-length': String(bytes.length) })
      res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => req.socket.destroy())
      return
    }
    send(res, answer)
  }

  /** The bot check's answer to a request that looks like Node's fetch, or undefined to let it through. */
  private botCheck(m: Matched, req: IncomingMessage): Answer | undefined {
    const check = this.options.botCheck
    if (!check || !(m.host === 'sso' || (m.host === 'diauth' && check.diauth))) return undefined
    if (!looksLikeNodeFetch(req)) return undefined
    if (check.answer === 'captcha' && JSON_LOGINS.has(m.route)) return faultAnswer({ kind: 'captcha' })
    return faultAnswer({ kind: 'html' })
  }

  private route(m: Matched, query: URLSearchParams, req: IncomingMessage, body: string): Answer {
    const authorization = req.headers.authorization
    const sso: SsoRequest = {
      query,
      body,
      cookie: req.headers.cookie,
      contentType: req.headers['content-type'] ?? '',
      origin: req.headers.origin,
      ssoOrigin: `http://${req.headers.host ?? ''}`,
    }
    switch (m.route) {
      case 'login':
        return fromAuth(this.auth.mobileLogin(sso))
      case 'mfa':
        return fromAuth(this.auth.verifyMfa('mobile', sso))
      case 'portalPage':
        return fromAuth(this.auth.portalPage(sso))
      case 'portalLogin':
        return fromAuth(this.auth.portalLogin(sso))
      case 'portalMfa':
        return fromAuth(this.auth.verifyMfa('portal', sso))
      case 'widgetEmbed':
        return fromAuth(this.auth.widgetEmbed(sso))
      case 'widgetPage':
        return fromAuth(this.auth.widgetPage(sso))
      case 'widgetLogin':
        return fromAuth(this.auth.widgetLogin(sso))
      case 'widgetMfa':
        return fromAuth(this.auth.widgetVerifyMfa(sso))
      case 'token': {
        const a = this.auth.token(authorization, body)
        return json(a.status, a.body, { 'cache-control': 'no-store', ...a.headers })
      }
      default: {
        const denied = this.auth.checkBearer(authorization)
        if (denied) return json(denied.status, denied.body, denied.headers)
        return this.data(m, query, req.headers.accept ?? '')
      }
    }
  }

  private data(m: Matched, query: URLSearchParams, accept: string): Answer {
    switch (m.route) {
      case 'socialProfile':
        return json(200, this.socialProfile())
      case 'activityList':
        return this.activityList(query)
      case 'activityCount':
        return json(200, { totalCount: this.entries.length })
      case 'activity':
      case 'activityDetails':
      case 'activitySplits':
      case 'download': {
        const id = /^\d{1,16}$/.test(m.param ?? '') ? Number(m.param) : Number.NaN
        const entry = this.byId.get(id)
        if (!entry) return message(404, `Activity ${m.param} not found`)
        // Garmin's download service answers 406 unless the client accepts any type.
        if (m.route === 'download' && !accept.includes('*/*')) return message(406, 'Not Acceptable')
        if (m.route === 'activity') return json(200, activityDetail(entry, this.owner))
        if (m.route === 'activitySplits') return json(200, activitySplits(entry, this.seed))
        if (m.route === 'activityDetails') {
          const chart = boundedInt(query.get('maxChartSize'), 2000, 1, 10_000)
          const polyline = boundedInt(query.get('maxPolylineSize'), 4000, 1, 10_000)
          return json(200, activityDetails(entry, this.seed, chart, polyline))
        }
        return {
          status: 200,
          headers: {
            'content-type': 'application/x-zip-compressed',
            'content-disposition': `attachment; filename="${id}.zip"`,
          },
          body: this.zip(entry),
        }
      }
      case 'reloadRequest':
        return this.reloadRequest(m.param ?? '')
      default:
        return this.daily(m, query)
    }
  }
  /** `POST /wellness-service/wellness/epoch/request/{date}`: asks Garmin to bring an archived day back. */
  private reloadRequest(date: string): Answer {
    const day = dayNumber(date)
    if (day === undefined) return message(400, `invalid date ${date}: expected YYYY-MM-DD`)
    const today = Math.floor(this.now() / DAY_MS)
    const hasData = day <= today && !this.gaps.has(day)
    return json(200, { status: this.archive.reload(day, this.now(), hasData) })
  }

  private zip(entry: ActivityEntry): Buffer {
    let bytes = this.zips.get(entry.activityId)
    if (!bytes) {
      bytes = originalZip(entry, this.seed, this.options.fitRecords)
      if (this.zips.size >= ZIP_CACHE_SIZE) this.zips.delete(this.zips.keys().next().value as number)
      this.zips.set(entry.activityId, bytes)
    }
    return bytes
  }

  private socialProfile(): Record<string, unknown> {
    return {
      id: this.owner.profileId + 1_000,
      profileId: this.owner.profileId,
      garminGUID: '3e4f9a7c-1b2d-4c5e-8f90-a1b2c3d4e5f6',
      displayName: this.displayName,
      fullName: this.owner.fullName,
      userName: this.user.email,
      profileImageType: 'UPLOADED_PHOTO',
      profileImageUrlLarge: null,
      profileImageUrlMedium: null,
      profileImageUrlSmall: null,
      location: 'Biel/Bienne',
      facebookUrl: null,
      twitterUrl: null,
      personalWebsite: null,
      motivation: 1,
      bio: null,
      primaryActivity: 'running',
      favoriteActivityTypes: ['running', 'cycling'],
      runningTrainingSpeed: 3.0,
      cyclingTrainingSpeed: 7.0,
      favoriteCyclingActivityTypes: [],
      cyclingClassification: null,
      cyclingMaxAvgPower: 0.0,
      swimmingTrainingSpeed: 0.0,
      profileVisibility: 'private',
      activityStartVisibility: 'private',
      activityMapVisibility: 'private',
      courseVisibility: 'private',
      activityHeartRateVisibility: 'private',
      activityPowerVisibility: 'private',
      badgeVisibility: 'private',
      showAge: false,
      showWeight: false,
      showHeight: false,
      showWeightClass: false,
      showAgeRange: false,
      showGender: false,
      showActivityClass: false,
      showVO2Max: false,
      showPersonalRecords: false,
      showLast12Months: false,
      showLifetimeTotals: false,
      showUpcomingEvents: false,
      showRecentFavorites: false,
      showRecentDevice: false,
      showRecentGear: false,
      showBadges: true,
      otherActivity: null,
      otherPrimaryActivity: null,
      otherMotivation: null,
      userRoles: [
        'SCOPE_CONNECT_READ',
        'SCOPE_CONNECT_WRITE',
        'ROLE_CONNECTUSER',
        'ROLE_FITNESS_USER',
        'ROLE_WELLNESS_USER',
      ],
      nameApproved: true,
      userProfileFullName: this.owner.fullName,
      makeGolfScorecardsPrivate: true,
      allowGolfLiveScoring: false,
      allowGolfScoringByConnections: true,
      userLevel: 3,
      userPoint: 240,
      levelUpdateDate: '2024-05-01T08:00:00.0',
      levelIsViewed: true,
      levelPointThreshold: 300,
      userPointOffset: 0,
      userPro: false,
    }
  }

  private activityList(query: URLSearchParams): Answer {
    const start = parseIntParam(query.get('start'), 0)
    const limit = parseIntParam(query.get('limit'), 20)
    if (start === undefined || start < 0) return message(400, 'start must be an integer >= 0')
    if (limit === undefined || limit < 1 || limit > MAX_LIST_LIMIT) {
      return message(400, `limit must be an integer between 1 and ${MAX_LIST_LIMIT}`)
    }
    const startDate = query.get('startDate')
    const endDate = query.get('endDate')
    for (const d of [startDate, endDate]) {
      if (d !== null && dayNumber(d) === undefined)
        return message(400, `invalid date ${d}: expected YYYY-MM-DD`)
    }
    let list = this.entries
    if (startDate !== null || endDate !== null) {
      // Garmin filters on the local start date.
      list = list.filter((e) => {
        const day = (typeof e.startTimeLocal === 'string' ? e.startTimeLocal : e.startTimeGMT).slice(0, 10)
        return (startDate === null || day >= startDate) && (endDate === null || day <= endDate)
      })
    }
    if (query.get('sortOrder') === 'asc') list = list.slice().reverse()
    const page = list.slice(start, start + limit).map((e) => {
      let text = this.listOverrides.get(e) ?? this.entryJson.get(e)
      if (text === undefined) {
        text = JSON.stringify(e)
        this.entryJson.set(e, text)
      }
      return text
    })
    return { status: 200, headers: { 'content-type': JSON_TYPE }, body: `[${page.join(',')}]` }
  }

  private matchFixture(pathname: string): Matched | undefined {
    for (const fixture of this.options.dailyFixtures ?? []) {
      const m = fixture.path.exec(pathname)
      if (m?.[1] !== undefined) {
        return { route: 'fixtureDaily', method: 'GET', host: 'connectapi', param: safeDecode(m[1]), fixture }
      }
    }
    return undefined
  }

  private daily(m: Matched, query: URLSearchParams): Answer {
    const today = Math.floor(this.now() / DAY_MS)
    const skip = (day: number) => day > today || this.gaps.has(day)
    if (m.route === 'bodyBattery' || m.route === 'bodyComposition') {
      const first = dayNumber(query.get('startDate') ?? '')
      const last = dayNumber(query.get('endDate') ?? '')
      if (first === undefined || last === undefined)
        return message(400, 'startDate and endDate (YYYY-MM-DD) are required')
      if (last < first || last - first >= MAX_RANGE_DAYS) {
        return message(400, `endDate must be on or after startDate, at most ${MAX_RANGE_DAYS} days later`)
      }
      return m.route === 'bodyBattery'
        ? json(200, bodyBatteryRange(first, last, this.seed, skip))
        : json(200, bodyCompositionRange(first, last, this.seed, skip))
    }
    let date: string | null
    switch (m.route) {
      case 'dailySummary':
      case 'sleep':
      case 'heartRate':
        if (this.displayName === null || m.param !== this.displayName)
          return message(403, 'displayName does not belong to this token')
        date = query.get(m.route === 'dailySummary' ? 'calendarDate' : 'date')
        break
      default:
        date = m.param ?? null
    }
    const day = dayNumber(date ?? '')
    if (day === undefined) return message(400, `invalid date ${date}: expected YYYY-MM-DD`)
    if (skip(day)) return { status: 204 }
    const override = this.dayOverrides.get(`${m.route} ${dateOf(day)}`)
    if (override === 'protected') {
      // What Garmin answers for data the account's privacy settings hide from this token.
      return json(200, {
        userProfileId: this.owner.profileId,
        calendarDate: dateOf(day),
        privacyProtected: true,
      })
    }
    const body = m.fixture
      ? m.fixture.body(dateOf(day), this.seed)
      : dailyBody(m.route as Parameters<typeof dailyBody>[0], day, this.seed, this.owner)
    if (override === 'null') return json(200, nullFilled(body))
    if (isArchivedRoute(m.route) && this.archive.archived(day, today))
      return json(200, this.archive.archivedBody(m.route, body as JsonObject))
    const revision = this.revisions.get(`${m.route} ${dateOf(day)}`)
    if (revision !== undefined && body !== null && typeof body === 'object' && !Array.isArray(body)) {
      return json(200, { ...body, simRevision: revision })
    }
    return json(200, body)
  }

  /** `/__sim/*`: lets tests and a separately started `npm run sim` be driven over HTTP. Not counted. */
  private control(method: string, pathname: string, raw: string): Answer {
    let body: Record<string, unknown> = {}
    if (method === 'POST' && raw.trim() !== '') {
      try {
        const parsed: unknown = JSON.parse(raw)
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
          throw new Error('not an object')
        body = parsed as Record<string, unknown>
      } catch {
        return message(400, 'control bodies are JSON objects')
      }
    }
    const key = `${method} ${pathname}`
    switch (key) {
      case 'GET /__sim/stats':
        return json(200, this.stats())
      case 'POST /__sim/reset':
        this.resetStats()
        return json(200, this.stats())
      case 'GET /__sim/faults':
        return json(200, { faults: this.faults() })
      case 'POST /__sim/faults':
        if (body.clear === true) {
          this.clearFaults()
        } else {
          try {
            this.addFault(validateFaultRule(body))
          } catch (error) {
            return message(400, (error as Error).message)
          }
        }
        return json(200, { faults: this.faults() })
      case 'GET /__sim/activities':
        return json(200, this.entries)
      case 'POST /__sim/activities': {
        const count = body.count
        if (!Number.isInteger(count) || (count as number) < 1)
          return message(400, 'count must be an integer >= 1')
        const added = this.addActivities(count as number)
        return json(200, { added, total: this.entries.length })
      }
      case 'POST /__sim/activities/edit':
      case 'POST /__sim/activities/delete': {
        const id = body.activityId
        if (typeof id !== 'number' || !this.byId.has(id))
          return message(400, 'activityId must be the id of an activity of the account')
        if (key.endsWith('/delete')) {
          this.deleteActivity(id)
          return json(200, { deleted: id, total: this.entries.length })
        }
        const fields = body.fields
        if (fields === null || typeof fields !== 'object' || Array.isArray(fields) || 'activityId' in fields)
          return message(400, 'fields must be an object of list-entry fields (not activityId)')
        return json(200, { edited: this.editActivity(id, fields as Record<string, unknown>) })
      }
      case 'POST /__sim/tokens': {
        if (body.revokeRefreshTokens === true) this.revokeRefreshTokens()
        const after = body.expireAccessTokensAfter
        if (after !== undefined) {
          if (!Number.isInteger(after) || (after as number) < 0) {
            return message(400, 'expireAccessTokensAfter must be an integer >= 0')
          }
          this.expireAccessTokensAfter(after as number)
        }
        return json(200, { ok: true })
      }
      case 'GET /__sim/clock':
        return json(200, { now: this.now(), today: dateOf(Math.floor(this.now() / DAY_MS)) })
      case 'POST /__sim/clock': {
        if (body.nextDay === true) {
          this.nextDay()
          return json(200, { now: this.now(), today: dateOf(Math.floor(this.now() / DAY_MS)) })
        }
        const ms = body.advanceMs
        if (typeof ms !== 'number' || !Number.isFinite(ms))
          return message(400, 'advanceMs must be a number (or send {"nextDay": true})')
        this.advanceClock(ms)
        return json(200, { now: this.now(), today: dateOf(Math.floor(this.now() / DAY_MS)) })
      }
      case 'GET /__sim/reloads':
        return json(200, { reloads: this.reloads() })
      case 'GET /__sim/gaps':
        return json(200, { dates: this.gapDates() })
      case 'GET /__sim/inbox':
        return json(200, { messages: this.inbox() })
      default:
        return message(404, `no control route ${key}`)
    }
  }
}

/** Which grant a token request is for, so that a fault can target refreshes (or exchanges) only. */
function tokenScope(route: SimRoute, body: string): FaultScope | undefined {
  if (route !== 'token') return undefined
  return new URLSearchParams(body).get('grant_type') === 'refresh_token' ? 'refresh' : 'exchange'
}

function parseIntParam(value: string | null, fallback: number): number | undefined {
  if (value === null || value === '') return fallback
  return /^\d+$/.test(value) ? Number(value) : undefined
}

function boundedInt(value: string | null, fallback: number, min: number, max: number): number {
  const n = parseIntParam(value, fallback)
  return n === undefined ? fallback : Math.min(max, Math.max(min, n))
}

function faultAnswer(fault: Exclude<Fault, { kind: 'latency' | 'reset' | 'truncated' }>): Answer {
  switch (fault.kind) {
    case 'status': {
      const headers: Record<string, string> =
        fault.retryAfter === undefined ? {} : { 'retry-after': String(fault.retryAfter) }
      if (fault.status === 502 || fault.status === 503) {
        // What a proxy in front of Garmin serves: HTML, not JSON.
        return {
          status: fault.status,
          headers: { 'content-type': 'text/html', ...headers },
          body: gatewayHtml(fault.status),
        }
      }
      const text: Record<number, string> = {
        401: 'Token is not active',
        403: 'Forbidden',
        404: 'Not Found',
        429: 'Too Many Requests',
        500: 'Internal Server Error',
      }
      return json(fault.status, { message: text[fault.status] ?? 'Error', status: fault.status }, headers)
    }
    case 'html':
      return {
        status: 403,
        headers: {
          'content-type': 'text/html; charset=UTF-8',
          'cf-mitigated': 'challenge',
          server: 'cloudflare',
          'cf-ray': '8f1e2d3c4b5a6978-ZRH',
        },
        body: CLOUDFLARE_HTML,
      }
    case 'malformed':
      return {
        status: 200,
        headers: { 'content-type': JSON_TYPE },
        body: '{"message": "ok", "data": [1, 2,, 3]}} <!-- -->',
      }
    case 'captcha':
      return json(200, {
        serviceURL: null,
        responseStatus: { type: 'CAPTCHA_REQUIRED', message: '', httpStatus: 'OK' },
      })
    case 'rateLimitBody':
      return json(200, {
        error: { 'status-code': '429', message: 'Too many requests, please try again later' },
      })
    case 'redirect':
      return json(fault.status, { message: 'Moved' }, { location: fault.location })
  }
}

/** The same shape with every value null, as Garmin answers a day with nothing recorded. */
function nullFilled(body: unknown): unknown {
  if (Array.isArray(body)) return []
  if (body === null || typeof body !== 'object') return null
  return Object.fromEntries(Object.keys(body).map((key) => [key, null]))
}

function send(res: ServerResponse, answer: Answer): void {
  if (res.destroyed) return
  const headers = { ...answer.headers }
  if (answer.body !== undefined) headers['content-length'] = String(Buffer.byteLength(answer.body))
  res.writeHead(answer.status, headers)
  res.end(answer.body)
}
