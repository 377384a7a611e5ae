/**
 * garmin-s3's own Garmin Connect client: sign-in, the token lifecycle (through a TokenStore) and the data
 * calls the sync needs. Transport, clock and randomness are injected so tests run against the simulator
 * without waiting. It knows nothing of S3.
 */
import { type Clock, systemClock } from '../clock.js'
import { GarminS3Error } from '../errors.js'
import { isRecord } from '../unknown.js'
import {
  type AuthContext,
  type DiTokens,
  type LoginInput,
  MOBILE_APP_HEADERS,
  refreshTokens,
} from './auth.js'
import { type GarminEndpoints, noteOverride } from './endpoints.js'
import {
  AuthError,
  BotChallengeError,
  DomainMismatchError,
  GarminUnavailableError,
  ItemRefusedError,
  NotFoundError,
  noTokensError,
  RefreshRejectedError,
  signInAgain,
  TokenStoreError,
  UnexpectedResponseError,
} from './errors.js'
import {
  type HttpResponse,
  looksLikeHtml,
  notJsonReason,
  parseJsonBody,
  send,
  type Transport,
  TransportFailure,
} from './http.js'
import { accessTokenExpiry, issuerDomain, refreshDueAt } from './jwt.js'
import { nodeTransport } from './node-transport.js'
import { guardRedirects } from './redirects.js'
import {
  type AttemptResult,
  DEFAULT_RETRY_POLICY,
  parseRetryAfter,
  RateLimitGate,
  type RetryPolicy,
  withRetries,
} from './retry.js'
import { signInCommand } from './sign-in-command.js'
import {
  type ChainOptions,
  IMPERSONATED_LABELS,
  resumePending,
  type SigninReport,
  type Strategy,
  signInWithChain,
  strategies,
} from './signin/chain.js'
import type { FlowName } from './signin/flow.js'
import type { PendingStore } from './signin/pending.js'
import type { ImportedTokens } from './token-format.js'
import { botChallengeAdvice } from './transport.js'
import type {
  ActivityEntry,
  ActivitySource,
  GarminRequestStats,
  ListActivitiesQuery,
  StoredTokens,
  TokenStore,
} from './types.js'

export interface GarminClientOptions {
  tokenStore: TokenStore
  endpoints: GarminEndpoints
  /** For data calls and refreshes; `nodeTransport` (fetch's wire format on node:http) by default. */
  transport?: Transport
  /** For the plain sign-in strategies (Node's TLS); `transport` if given, else `fetch`. */
  loginTransport?: Transport
  /**
   * The browser-like TLS transport (impit) for the impersonated strategies; without it they are
   * skipped, and `impersonationNote` (why) is logged once.
   */
  impersonatedTransport?: Transport
  impersonationNote?: string
  /** Only these flows (default all three), e.g. to test one strategy in isolation. */
  signinStrategies?: FlowName[]
  /** Where a sign-in waiting for its code is kept; without one a code can only come from the prompt. */
  pendingSignins?: PendingStore
  /**
   * The command that finishes a pending sign-in, `<code>` standing for the code, with the flags that
   * find the same pending file and session (default: `login --mfa-code <code>` for the token store).
   */
  resumeCommand?: string
  /** One line per sign-in strategy and its outcome (never a secret). */
  log?: (line: string) => void
  clock?: Clock
  /** In [0, 1): the jitter of retry back-off. */
  random?: () => number
  /** Per request, body included. Default 30 s. */
  timeoutMs?: number
  /** Total waiting on HTTP 429 per data call before giving up. Default 60 s. */
  rateLimitBudgetMs?: number
  retryPolicy?: Partial<RetryPolicy>
  /** Added to the hint of a bot challenge on sign-in (e.g. "Or try --transport impit."). */
  botChallengeAdvice?: string
}

export interface SocialProfile {
  displayName: string
  profileId: number
  [field: string]: unknown
}

/** Daily datasets and how to ask for one day of each (docs/garmin-api.md "Data calls"). */
const DAILY_PATHS = {
  dailySummary: (d, name) => [`/usersummary-service/usersummary/daily/${name}`, { calendarDate: d }],
  sleep: (d, name) => [
    `/wellness-service/wellness/dailySleepData/${name}`,
    { date: d, nonSleepBufferMinutes: '60' },
  ],
  heartRate: (d, name) => [`/wellness-service/wellness/dailyHeartRate/${name}`, { date: d }],
  stress: (d) => [`/wellness-service/wellness/dailyStress/${d}`, {}],
  hrv: (d) => [`/hrv-service/hrv/${d}`, {}],
  bodyBattery: (d) => ['/wellness-service/wellness/bodyBattery/reports/daily', { startDate: d, endDate: d }],
  bodyComposition: (d) => ['/weight-service/weight/dateRange', { startDate: d, endDate: d }],
  trainingReadiness: (d) => [`/metrics-service/metrics/trainingreadiness/${d}`, {}],
} satisfies Record<string, (date: string, displayName: string) => [string, Record<string, string>]>

type DailyDataset = keyof typeof DAILY_PATHS
/** The daily paths that carry the account's display name (and fail without one). */
const NAMED_DAILY: ReadonlySet<DailyDataset> = new Set(['dailySummary', 'sleep', 'heartRate'])
const DAILY_DATASETS = Object.keys(DAILY_PATHS) as DailyDataset[]

/** How to ask Garmin for one day of a daily dataset. */
export interface DailyRoute {
  /** The request kind in stats() (and in error messages). */
  kind: string
  /** Path and query for a date (`YYYY-MM-DD`) and the URI-encoded display name. */
  path(date: string, displayName: string): [string, Record<string, string>]
  /** The path carries the account's display name (and fails without one). */
  needsDisplayName: boolean
}

/** The route of one of the daily datasets this client knows by name (`sleep`, `hrv`, ...). */
export function dailyRoute(dataset: string): DailyRoute {
  if (!isDailyDataset(dataset)) {
    throw new GarminS3Error(`Unknown daily dataset "${dataset}".`, {
      hint: `Use one of ${DAILY_DATASETS.join(', ')}.`,
    })
  }
  return { kind: dataset, path: DAILY_PATHS[dataset], needsDisplayName: NAMED_DAILY.has(dataset) }
}

/**
 * Garmin's answers to a reload request (garmin-grafana issue #77, python-garminconnect `request_reload`):
 * SUBMITTED (the archived day is coming back, within seconds), COMPLETE (it is there already),
 * NO_FILES_FOUND (Garmin holds nothing for the day), DENIED (the daily quota, about 30, is spent).
 */
const RELOAD_STATUSES = ['SUBMITTED', 'COMPLETE', 'NO_FILES_FOUND', 'DENIED'] as const
export type ReloadStatus = (typeof RELOAD_STATUSES)[number]
const RELOAD_PATH = '/wellness-service/wellness/epoch/request'

const PROFILE_PATH = '/userprofile-service/socialProfile'
const LIST_PATH = '/activitylist-service/activities/search/activities'

interface RequestOptions {
  kind: string
  /** GET unless said otherwise. */
  method?: 'GET' | 'POST'
  path: string
  query?: Record<string, string | number | undefined>
  signal?: AbortSignal | undefined
  /** On a 401, refresh once and repeat the call. False while checking a brand-new login. */
  refreshOn401?: boolean
}

export class GarminClient implements ActivitySource {
  private readonly store: TokenStore
  private readonly endpoints: GarminEndpoints
  private readonly transport: Transport
  private readonly clock: Clock
  private readonly random: () => number
  private readonly timeoutMs: number
  private readonly policy: RetryPolicy
  private readonly auth: AuthContext
  private readonly signin: Pick<ChainOptions, 'strategies' | 'note' | 'pending' | 'log'>
  private readonly report: SigninReport = { strategies: [] }
  private readonly counts: Record<string, number> = {}
  /** One rate-limit budget for all concurrent calls of this client (a 429 backs everything off). */
  private readonly rateGate = new RateLimitGate()

  private session: StoredTokens | undefined
  private loading: Promise<StoredTokens> | undefined
  private refreshing: Promise<StoredTokens> | undefined
  /** The display name read again this run (at most once), after a path that uses it failed. */
  private nameCheck: Promise<string> | undefined
  /** While a login or import is being checked, tokens are kept in memory only. */
  private deferSaving = false

  constructor(options: GarminClientOptions) {
    this.store = options.tokenStore
    this.endpoints = options.endpoints
    // Every Garmin request goes through the one redirect policy (src/garmin/redirects.ts).
    // Not fetch by default: its first call costs more than the rest of a daily run (node-transport.ts).
    this.transport = guardRedirects(options.transport ?? nodeTransport, this.endpoints)
    this.clock = options.clock ?? systemClock
    this.random = options.random ?? Math.random
    this.timeoutMs = options.timeoutMs ?? 30_000
    this.policy = {
      ...DEFAULT_RETRY_POLICY,
      ...options.retryPolicy,
      ...(options.rateLimitBudgetMs === undefined ? {} : { rateLimitBudgetMs: options.rateLimitBudgetMs }),
    }
    const impersonated = options.impersonatedTransport
      ? guardRedirects(options.impersonatedTransport, this.endpoints)
      : undefined
    this.auth = {
      endpoints: this.endpoints,
      transport: this.transport,
      timeoutMs: this.timeoutMs,
      clock: this.clock,
      random: this.random,
      count: (kind) => this.count(kind),
      // Without the impersonating transport, suggest it.
      botChallengeAdvice: options.botChallengeAdvice ?? botChallengeAdvice(impersonated !== undefined),
      tokenStore: this.store,
    }
    // A sign-in is rare and goes to Cloudflare-fronted pages: it keeps fetch unless told otherwise.
    const plain = guardRedirects(options.loginTransport ?? options.transport ?? fetch, this.endpoints)
    const flows = options.signinStrategies
    const chosen: Strategy[] = strategies(plain, impersonated).filter(
      (s) => !flows || flows.includes(s.flow.name),
    )
    this.signin = {
      strategies: chosen,
      note: impersonated
        ? undefined
        : `${options.impersonationNote ?? 'no browser-like TLS (impit)'}: skipping ${IMPERSONATED_LABELS.join(', ')}`,
      pending: options.pendingSignins
        ? {
            store: options.pendingSignins,
            tokenStore: this.store.location,
            resumeCommand: options.resumeCommand ?? signInCommand(this.store, '--mfa-code <code>'),
          }
        : undefined,
      log: options.log ?? (() => {}),
    }
  }

  /** Where the tokens are kept, for messages. */
  get tokenLocation(): string {
    return this.store.location
  }

  /**
   * Signs in through the strategy chain (one pass, never retried), checks each new token with
   * `socialProfile` and stores the first the API accepts. Nothing is stored when every strategy fails.
   */
  async login(input: LoginInput): Promise<StoredTokens> {
    return signInWithChain(this.chainOptions(), input).catch(this.overridden)
  }

  /**
   * Finishes a sign-in that stopped at its verification code (`login --mfa-code` in a new process);
   * undefined when none is pending.
   */
  async resumeLogin(code: string): Promise<StoredTokens | undefined> {
    return resumePending(this.chainOptions(), code).catch(this.overridden)
  }

  /** Which strategies the sign-in tried and how each ended. */
  signinReport(): SigninReport {
    return structuredClone(this.report)
  }

  private chainOptions(): ChainOptions {
    return { ctx: this.auth, ...this.signin, report: this.report, adopt: (di) => this.adoptLogin(di) }
  }

  private adoptLogin(di: DiTokens): Promise<StoredTokens> {
    const now = new Date(this.clock.now()).toISOString()
    return this.adopt(
      {
        version: 1,
        domain: this.endpoints.domain,
        clientId: di.clientId,
        accessToken: di.accessToken,
        refreshToken: requireRefreshToken(di),
        expiresAt: new Date(di.expiresAt).toISOString(),
        displayName: '',
        obtainedAt: now,
        refreshTokenRotatedAt: now,
      },
      false,
    )
  }

  /** Takes tokens obtained elsewhere, checks them with one `socialProfile` call (refreshing if due), stores them. */
  async importTokens(imported: ImportedTokens): Promise<StoredTokens> {
    const now = this.clock.now()
    const base: StoredTokens = imported.stored ?? {
      version: 1,
      // python-garminconnect's file does not say; the token's issuer does.
      domain: issuerDomain(imported.accessToken) ?? this.endpoints.domain,
      clientId: imported.clientId,
      accessToken: imported.accessToken,
      refreshToken: imported.refreshToken,
      // Unknown expiry: treat as due, so the check refreshes first (and learns the real expiry).
      expiresAt: new Date(now).toISOString(),
      displayName: '',
      obtainedAt: new Date(now).toISOString(),
    }
    const exp = accessTokenExpiry(base.accessToken, now)
    const tokens = exp === undefined ? base : { ...base, expiresAt: new Date(exp).toISOString() }
    if (tokens.domain !== this.endpoints.domain)
      throw new DomainMismatchError(tokens.domain, this.endpoints.domain, this.store)
    return this.adopt(tokens, true)
  }

  private async adopt(tokens: StoredTokens, refreshAllowed: boolean): Promise<StoredTokens> {
    this.session = tokens
    this.loading = undefined
    this.deferSaving = true
    try {
      const profile = await this.fetchProfile(refreshAllowed)
      const current = this.session ?? tokens
      const done: StoredTokens = {
        ...current,
        displayName: profile.displayName,
        profileId: profile.profileId,
      }
      this.deferSaving = false
      await this.persist(done)
      this.session = done
      return done
    } catch (error) {
      this.session = undefined
      this.deferSaving = false
      if (!refreshAllowed && error instanceof AuthError) {
        throw new AuthError(
          'Garmin issued a token that its API does not accept ("Token is not active"); nothing was stored.',
          {
            hint: `Try \`${signInCommand(this.store)}\` again later, or import python-garminconnect tokens with \`${signInCommand(this.store, '--import <file>')}\`.`,
            cause: error,
          },
        )
      }
      throw error
    }
  }

  /** The stored tokens, refreshed first when due; an AuthError when there are none. */
  async tokens(): Promise<StoredTokens> {
    return this.freshTokens()
  }

  /** Forces a refresh now (rotated refresh token saved before this resolves). */
  async refresh(): Promise<StoredTokens> {
    return this.refreshFrom(await this.loadTokens())
  }

  /** Deletes the stored tokens. True when something was deleted. */
  async logout(): Promise<boolean> {
    this.session = undefined
    this.loading = undefined
    return (await this.store.clear()) === true
  }

  async profile(): Promise<SocialProfile> {
    return this.fetchProfile(true)
  }

  async listActivities(query: ListActivitiesQuery, signal?: AbortSignal): Promise<ActivityEntry[]> {
    const body = await this.getJson({
      kind: 'list',
      path: LIST_PATH,
      query: { start: query.start, limit: query.limit, startDate: query.startDate, endDate: query.endDate },
      signal,
    })
    if (!Array.isArray(body))
      throw new UnexpectedResponseError(LIST_PATH, 'expected a JSON array of activities')
    // Entries as Garmin sent them: one bad entry must not cost the whole page, so each is checked by
    // its reader (sync quarantines it: src/sync/quarantine.ts).
    return body as ActivityEntry[]
  }

  async countActivities(signal?: AbortSignal): Promise<number> {
    const path = '/activitylist-service/activities/count'
    const body = await this.getJson({ kind: 'count', path, signal })
    const total = typeof body === 'number' ? body : isRecord(body) ? body.totalCount : undefined
    if (typeof total !== 'number' || !Number.isSafeInteger(total)) {
      throw new UnexpectedResponseError(path, 'no activity count in the answer')
    }
    return total
  }

  /** One activity as Garmin sends it (summaryDTO, metadataDTO, ...). NotFoundError when deleted. */
  async getActivity(id: number, signal?: AbortSignal): Promise<unknown> {
    return this.getJson({
      kind: 'activity',
      path: `/activity-service/activity/${activityIdText(id)}`,
      signal,
    })
  }

  async getActivityDetails(id: number, signal?: AbortSignal): Promise<unknown> {
    return this.getJson({
      kind: 'details',
      path: `/activity-service/activity/${activityIdText(id)}/details`,
      query: { maxChartSize: 2000, maxPolylineSize: 4000 },
      signal,
    })
  }

  async getActivitySplits(id: number, signal?: AbortSignal): Promise<unknown> {
    return this.getJson({
      kind: 'splits',
      path: `/activity-service/activity/${activityIdText(id)}/splits`,
      signal,
    })
  }

  /** The original upload (a ZIP holding the device's .fit). */
  async downloadOriginal(id: number, signal?: AbortSignal): Promise<Uint8Array> {
    const path = `/download-service/files/activity/${activityIdText(id)}`
    const response = await this.request({ kind: 'download', path, signal }, 'application/octet-stream, */*')
    if (response.status === 204 || response.body.length === 0) {
      throw noteOverride(this.endpoints, new UnexpectedResponseError(path, 'the download is empty'))
    }
    if (looksLikeHtml(response)) {
      throw noteOverride(this.endpoints, new UnexpectedResponseError(path, 'an HTML page instead of a file'))
    }
    return response.body
  }

  /** One day of a daily dataset; undefined when Garmin has no data for that day (HTTP 204). */
  async getDaily(dataset: string, date: string, signal?: AbortSignal): Promise<unknown | undefined> {
    return this.getDailyAt(dailyRoute(dataset), date, signal)
  }

  /**
   * One day at a daily route (a dataset catalogue entry carries its route: sync/datasets.ts); undefined
   * when Garmin has no data for that day (HTTP 204). Counted in stats() under `route.kind`.
   */
  async getDailyAt(route: DailyRoute, date: string, signal?: AbortSignal): Promise<unknown | undefined> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new GarminS3Error(`"${date}" is not a YYYY-MM-DD date.`)
    const call = (name: string) => {
      const [path, query] = route.path(date, encodeURIComponent(name))
      return this.getJson({ kind: route.kind, path, query, signal }, true)
    }
    const tokens = await this.freshTokens()
    if (!route.needsDisplayName) return call('')
    const noName = () =>
      new ItemRefusedError(
        route.path(date, '{displayName}')[0],
        'the account has no display name, and this path needs one',
        'no-display-name',
        {
          hint: 'Choose a display name in your profile at connect.garmin.com; the next run picks it up. The other datasets are stored.',
        },
      )
    const name = tokens.displayName || (await this.rereadDisplayName())
    if (name === '') throw noName()
    try {
      return await call(name)
    } catch (error) {
      // A 403 on a path with the name may mean the user renamed it since: read it again, once per run.
      if (!(error instanceof ItemRefusedError) || error.reason !== 'forbidden') throw error
      const fresh = await this.rereadDisplayName()
      if (fresh === '') throw noName()
      if (fresh === name) throw error
      return call(fresh)
    }
  }

  /**
   * Asks Garmin to bring an archived day's intraday data back into its live store (what the "Reload"
   * button of Garmin Connect's web page sends). Counted as kind `reload`.
   */
  async requestReload(date: string, signal?: AbortSignal): Promise<ReloadStatus> {
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new GarminS3Error(`"${date}" is not a YYYY-MM-DD date.`)
    const path = `${RELOAD_PATH}/${date}`
    const body = await this.getJson({ kind: 'reload', method: 'POST', path, signal })
    const status = isRecord(body) ? body.status : undefined
    if (typeof status !== 'string' || !(RELOAD_STATUSES as readonly string[]).includes(status)) {
      throw noteOverride(
        this.endpoints,
        new UnexpectedResponseError(
          RELOAD_PATH,
          `status ${JSON.stringify(status ?? null)} is none of ${RELOAD_STATUSES.join(', ')}`,
        ),
      )
    }
    return status as ReloadStatus
  }

  /** The profile's display name, read once per client (one run); a changed one is saved with the tokens. */
  private rereadDisplayName(): Promise<string> {
    this.nameCheck ??= (async () => {
      const profile = await this.fetchProfile(true)
      const current = await this.loadTokens()
      if (profile.displayName !== current.displayName) {
        const next = { ...current, displayName: profile.displayName }
        this.session = next
        await this.persist(next, false)
      }
      return profile.displayName
    })()
    return this.nameCheck
  }

  stats(): GarminRequestStats {
    return { requests: { ...this.counts } }
  }

  // ---- token lifecycle ----

  private count(kind: string): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1
  }

  private async loadTokens(): Promise<StoredTokens> {
    if (this.session) return this.session
    this.loading ??= (async () => {
      const stored = await this.store.load()
      if (!stored) {
        throw noTokensError(this.store)
      }
      if (stored.domain !== this.endpoints.domain) {
        throw new DomainMismatchError(stored.domain, this.endpoints.domain, this.store)
      }
      this.session = stored
      return stored
    })().finally(() => {
      this.loading = undefined
    })
    return this.loading
  }

  private async freshTokens(): Promise<StoredTokens> {
    const tokens = await this.loadTokens()
    if (this.clock.now() < refreshDueAt(Date.parse(tokens.expiresAt))) return tokens
    return this.refreshFrom(tokens)
  }

  /**
   * Refreshes once for everyone holding `stale`: concurrent calls share one refresh, and a call that
   * arrives after the refresh simply uses the new tokens. The old refresh token is never sent twice.
   */
  private refreshFrom(stale: StoredTokens): Promise<StoredTokens> {
    if (this.refreshing) return this.refreshing
    if (this.session && this.session.accessToken !== stale.accessToken) return Promise.resolve(this.session)
    this.refreshing = (async () => {
      // Saving defers while a login is being checked: nothing is stored yet to lock or read again.
      const next =
        this.deferSaving || !this.store.lockedRefresh
          ? await this.refreshAndSave(stale)
          : await this.store.lockedRefresh(stale, (current) => this.refreshAndSave(current))
      this.session = next
      return next
    })().finally(() => {
      this.refreshing = undefined
    })
    return this.refreshing
  }

  /**
   * One refresh and its save. After invalid_grant the store is read once more: another run holding the
   * same chain may have rotated it a moment ago, and its newer tokens are then as good as ours.
   */
  private async refreshAndSave(stale: StoredTokens): Promise<StoredTokens> {
    let di: Awaited<ReturnType<typeof refreshTokens>>
    try {
      di = await refreshTokens(this.auth, stale).catch(this.overridden)
    } catch (error) {
      if (!(error instanceof RefreshRejectedError) || this.deferSaving) throw error
      const again = await this.store.load()
      if (again && again.refreshToken !== stale.refreshToken && again.domain === stale.domain) return again
      throw new RefreshRejectedError(this.store, { stored: true })
    }
    const now = new Date(this.clock.now()).toISOString()
    const rotated = di.refreshToken !== undefined && di.refreshToken !== stale.refreshToken
    const next: StoredTokens = {
      ...stale,
      accessToken: di.accessToken,
      refreshToken: di.refreshToken ?? stale.refreshToken,
      expiresAt: new Date(di.expiresAt).toISOString(),
      obtainedAt: now,
      ...(rotated ? { refreshTokenRotatedAt: now } : {}),
    }
    // In memory first: even if saving fails, this process never sends the old refresh token again.
    this.session = next
    if (!this.deferSaving) await this.persist(next, rotated)
    return next
  }

  private async persist(tokens: StoredTokens, rotated = true): Promise<void> {
    try {
      await this.store.save(tokens)
    } catch (error) {
      const base = error instanceof GarminS3Error ? error.message : String((error as Error).message)
      throw new TokenStoreError(
        rotated
          ? `Garmin issued new tokens but they could not be saved to ${this.store.location}: ${base}`
          : `The tokens could not be saved to ${this.store.location}: ${base}`,
        {
          hint: `Fix access to the token store, then run \`${signInCommand(this.store)}\` (the old refresh token may no longer work).`,
          cause: error,
        },
      )
    }
  }

  private async fetchProfile(refreshOn401: boolean): Promise<SocialProfile> {
    const body = await this.getJson({ kind: 'profile', path: PROFILE_PATH, refreshOn401 })
    if (!isRecord(body)) throw new UnexpectedResponseError(PROFILE_PATH, 'the profile is not a JSON object')
    if (typeof body.profileId !== 'number')
      throw new UnexpectedResponseError(PROFILE_PATH, 'no profileId in the profile')
    // Accounts that never chose a display name answer null: only the paths that need one fail later.
    const displayName = typeof body.displayName === 'string' ? body.displayName : ''
    return { ...body, displayName, profileId: body.profileId }
  }

  // ---- data calls ----

  private getJson(options: RequestOptions, allowNoContent = false): Promise<unknown> {
    return this.readJson(options, allowNoContent).catch(this.overridden)
  }

  private async readJson(options: RequestOptions, allowNoContent: boolean): Promise<unknown> {
    const response = await this.request(options, 'application/json')
    if (response.status === 204) {
      if (allowNoContent) return undefined
      throw new UnexpectedResponseError(options.path, 'no content (HTTP 204)')
    }
    const parsed = parseJsonBody(response)
    if (!parsed.ok) throw new UnexpectedResponseError(options.path, notJsonReason(response))
    // Garmin answers 200 with `privacyProtected: true` (and no data) when privacy settings hide it.
    if (isRecord(parsed.value) && parsed.value.privacyProtected === true) {
      throw new ItemRefusedError(options.path, 'privacyProtected: hidden by the privacy settings', 'privacy')
    }
    return parsed.value
  }

  /** A call with bearer auth (GET unless said): refresh when due and once on a 401; retries per the policy. Resolves on 2xx. */
  private request(options: RequestOptions, accept: string): Promise<HttpResponse> {
    const url = this.url(options.path, options.query)
    let refreshedAfter401 = options.refreshOn401 === false
    return this.withOverrideNote(
      withRetries<HttpResponse>(
        async () => {
          for (;;) {
            const tokens = await this.freshTokens()
            this.count(options.kind)
            let response: HttpResponse
            try {
              response = await send(
                this.transport,
                url,
                {
                  method: options.method ?? 'GET',
                  headers: {
                    ...MOBILE_APP_HEADERS,
                    Accept: accept,
                    Authorization: `Bearer ${tokens.accessToken}`,
                  },
                },
                { timeoutMs: this.timeoutMs, signal: options.signal },
              )
            } catch (error) {
              if (!(error instanceof TransportFailure)) throw error
              return transient(options.path, error.message)
            }
            if (response.status === 401) {
              if (refreshedAfter401) {
                throw new AuthError(
                  `Garmin refused the access token for ${options.path} (HTTP 401), even after a refresh.`,
                  { hint: signInAgain(this.store) },
                )
              }
              refreshedAfter401 = true
              await this.refreshFrom(tokens)
              continue
            }
            return this.classify(options, response)
          }
        },
        {
          policy: this.policy,
          clock: this.clock,
          random: this.random,
          signal: options.signal,
          gate: this.rateGate,
        },
      ),
    )
  }

  /** Errors from talking to Garmin, marked when the override points elsewhere (see noteOverride). */
  private readonly overridden = (error: unknown): never => {
    throw noteOverride(this.endpoints, error)
  }

  private withOverrideNote<T>(promise: Promise<T>): Promise<T> {
    return promise.catch(this.overridden)
  }

  private classify(options: RequestOptions, response: HttpResponse): AttemptResult<HttpResponse> {
    const { path } = options
    const { status } = response
    if (status === 429) {
      return {
        ok: false,
        kind: 'rateLimited',
        endpoint: path,
        retryAfterMs: parseRetryAfter(response.headers.get('retry-after'), this.clock.now()),
      }
    }
    if (status >= 500) return transient(path, `HTTP ${status}`)
    if (status === 404) throw new NotFoundError(path)
    if (status === 403) {
      if (looksLikeHtml(response)) {
        throw new BotChallengeError(`Garmin's bot protection blocked ${path} (HTTP 403 challenge page).`, {
          hint: 'Wait an hour and run again; cloud and CI addresses are blocked more often than home networks.',
        })
      }
      // The profile and the list concern the whole account; any other path is one item.
      if (options.kind === 'profile' || options.kind === 'list' || options.kind === 'count') {
        throw new AuthError(`Garmin refused access to ${path} (HTTP 403).`, {
          hint: `Run \`${signInCommand(this.store)}\` again; if it persists, this data may not be available to your account.`,
        })
      }
      throw new ItemRefusedError(path, 'HTTP 403', 'forbidden')
    }
    if (status >= 200 && status < 300) return { ok: true, value: response }
    throw new UnexpectedResponseError(path, `HTTP ${status}`)
  }

  private url(path: string, query: Record<string, string | number | undefined> = {}): string {
    const params = new URLSearchParams()
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value))
    const search = params.toString()
    return `${this.endpoints.connectapi}${path}${search ? `?${search}` : ''}`
  }
}

function transient(path: string, what: string): AttemptResult<HttpResponse> {
  return {
    ok: false,
    kind: 'transient',
    error: new GarminUnavailableError(
      `Garmin did not answer ${path} properly (${what}), even after retries.`,
    ),
  }
}

function requireRefreshToken(di: DiTokens): string {
  if (!di.refreshToken)
    throw new UnexpectedResponseError('/di-oauth2-service/oauth/token', 'no refresh_token in the answer')
  return di.refreshToken
}

function activityIdText(id: number): string {
  if (!Number.isSafeInteger(id) || id <= 0) throw new GarminS3Error(`${id} is not a Garmin activity id.`)
  return String(id)
}

function isDailyDataset(name: string): name is DailyDataset {
  return Object.hasOwn(DAILY_PATHS, name)
}
