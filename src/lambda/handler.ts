/**
 * The AWS Lambda entry point (bundled alone into dist/lambda/index.mjs; no oclif here). Each
 * invocation runs the same `runSync` as the CLI: tokens from the SSM parameter (a rotated refresh
 * token is written back there by the client's TokenStore), a time budget from the context, one JSON
 * log line, and the SyncReport as the result. It throws only on real failure, so Lambda's retries
 * and failure destinations see it; a partial run (out of time) returns and the next run resumes.
 */
import { type Clock, systemClock } from '../clock.js'
import { type CurateReport, runCurate, tablesFor } from '../curate/index.js'
import { GarminClient } from '../garmin/client.js'
import { resolveEndpoints } from '../garmin/endpoints.js'
import { SsmTokenStore } from '../garmin/tokens.js'
import type { ActivitySource, StoredTokens, TokenStore } from '../garmin/types.js'
import { openStore } from '../store/target.js'
import type { Store } from '../store/types.js'
import { ACTIVITIES } from '../sync/datasets.js'
import { type runSync, runSyncWithDatasets } from '../sync/index.js'
import { failedItems, failedItemsByDataset } from '../sync/state.js'
import type { SyncEvent, SyncOptions, SyncReport } from '../sync/types.js'
import { datasetMetricLine, runMetricFields } from './emf.js'
import { type HandlerConfig, loadConfig } from './environment.js'
import { deploymentName, type RunMetricValues } from './metrics.js'

declare const __GARMIN_S3_VERSION__: string | undefined
const TOOL_VERSION = typeof __GARMIN_S3_VERSION__ === 'string' ? __GARMIN_S3_VERSION__ : 'dev'

/** The part of the Lambda context we use. */
export interface LambdaContext {
  awsRequestId: string
  getRemainingTimeInMillis(): number
}

export interface HandlerDeps {
  env?: NodeJS.ProcessEnv
  clock?: Clock
  /** One line per call; stdout by default (Lambda sends it to CloudWatch Logs as is). */
  writeLine?: (line: string) => void
  tokenStore?: (config: HandlerConfig) => TokenStore
  store?: (config: HandlerConfig) => Store
  garmin?: (tokenStore: TokenStore, config: HandlerConfig, clock: Clock) => ActivitySource
  runSync?: typeof runSync
}

/** Time kept back from the budget for the checkpoint, the run manifest and the reply. */
export function deadlineMargin(remainingMs: number): number {
  return Math.min(30_000, Math.max(5_000, Math.round(remainingMs * 0.1)))
}

/** Remembers every token value it sees so that no log line can ever carry one. */
class SecretWatchingStore implements TokenStore {
  readonly secrets = new Set<string>()
  constructor(private readonly inner: TokenStore) {}
  get location(): string {
    return this.inner.location
  }
  private watch(tokens: StoredTokens | undefined): void {
    if (!tokens) return
    for (const value of [tokens.accessToken, tokens.refreshToken]) if (value) this.secrets.add(value)
  }
  async load(): Promise<StoredTokens | undefined> {
    const tokens = await this.inner.load()
    this.watch(tokens)
    return tokens
  }
  async save(tokens: StoredTokens): Promise<void> {
    this.watch(tokens)
    await this.inner.save(tokens)
  }
  async clear(): Promise<void> {
    await this.inner.clear()
  }
}

function redact(line: string, secrets: Set<string>): string {
  let out = line
  for (const secret of secrets) if (secret.length >= 8) out = out.split(secret).join('[redacted]')
  return out
}

function describeError(error: unknown): Record<string, unknown> {
  if (error instanceof Error) {
    const e = error as Error & { exitCode?: number; hint?: string }
    return {
      name: e.name,
      message: e.message,
      ...(e.hint ? { hint: e.hint } : {}),
      exitCode: e.exitCode ?? 1,
    }
  }
  return { name: 'Error', message: String(error), exitCode: 1 }
}

const MAX_LOGGED_MESSAGES = 20

/** What Lambda records about a thrown error is its name, message and stack: keep tokens out of all three. */
function sanitized(error: unknown, secrets: Set<string>): Error {
  const original = error instanceof Error ? error : new Error(String(error))
  const copy = new Error(redact(original.message, secrets))
  copy.name = original.name
  copy.stack = `${copy.name}: ${copy.message}`
  return copy
}

export function createHandler(deps: HandlerDeps = {}) {
  const env = deps.env ?? process.env
  const clock = deps.clock ?? systemClock
  const writeLine = deps.writeLine ?? ((line: string) => process.stdout.write(`${line}\n`))
  const sync = deps.runSync ?? runSyncWithDatasets
  // Validated once per cold start; a bad configuration fails every invocation with the same message.
  let config: HandlerConfig | undefined
  let configError: unknown
  try {
    config = loadConfig(env)
  } catch (error) {
    configError = error
  }
  let coldStart = true
  const deployment = deploymentName(env)
  /** The run's metrics (EMF), merged into its one log line. */
  const metrics = (exitCode: number, values: Partial<RunMetricValues> = {}) =>
    runMetricFields(deployment, clock.now(), {
      runs: 1,
      successes: exitCode === 0 || exitCode === 5 ? 1 : 0,
      signInNeeded: exitCode === 3 ? 1 : 0,
      exitCode,
      created: 0,
      failed: 0,
      failedRunsInARow: 0,
      durationMs: 0,
      ...values,
    })

  return async function handler(
    _event: unknown,
    context: LambdaContext,
  ): Promise<SyncReport & { curate?: CurateReport }> {
    const base = {
      source: 'garmin-s3',
      runner: 'lambda',
      version: TOOL_VERSION,
      requestId: context.awsRequestId,
      coldStart,
    }
    coldStart = false
    if (!config) {
      const error = describeError(configError)
      writeLine(JSON.stringify({ level: 'error', ...base, error, ...metrics(Number(error.exitCode)) }))
      throw configError
    }
    const tokenStore = new SecretWatchingStore(
      deps.tokenStore ? deps.tokenStore(config) : new SsmTokenStore(config.tokenParameter),
    )
    const log = (record: Record<string, unknown>) =>
      writeLine(redact(JSON.stringify(record), tokenStore.secrets))
    const warnings: string[] = []
    let stop: { reason: string; message: string } | undefined
    const onEvent = (event: SyncEvent) => {
      if (event.type === 'warning' && warnings.length < MAX_LOGGED_MESSAGES) warnings.push(event.message)
      if (event.type === 'stop') stop = { reason: event.reason, message: event.message }
    }
    const remainingMs = context.getRemainingTimeInMillis()
    const startedAt = clock.now()
    let report: SyncReport & { curate?: CurateReport }
    try {
      const store = deps.store
        ? deps.store(config)
        : await openStore({ bucket: config.bucket, region: config.bucketRegion })
      const garmin = deps.garmin
        ? deps.garmin(tokenStore, config, clock)
        : new GarminClient({
            tokenStore,
            endpoints: resolveEndpoints({
              ...(config.garminDomain ? { domain: config.garminDomain } : {}),
              env,
            }),
            clock,
          })
      const options: SyncOptions = {
        prefix: config.prefix,
        runner: 'lambda',
        toolVersion: TOOL_VERSION,
        deadline: startedAt + remainingMs - deadlineMargin(remainingMs),
        ...(config.daysBack !== undefined ? { daysBack: config.daysBack } : {}),
        ...(config.concurrency !== undefined ? { concurrency: config.concurrency } : {}),
        ...(config.datasets !== undefined ? { datasets: config.datasets } : {}),
        ...(config.reconcileDays !== undefined ? { reconcileDays: config.reconcileDays } : {}),
        ...(config.trackChanges === false ? { trackChanges: false } : {}),
      }
      report = await sync(options, { garmin, store, clock, log: onEvent })
      // CURATED_PREFIX: the curated tables, in the time left; a stopped curate makes the run partial.
      const stopped = report.stopReason === 'deadline' || report.stopReason === 'interrupted'
      if (config.curatedPrefix && (report.exitCode === 0 || report.exitCode === 5) && !stopped) {
        const curate = await runCurate(
          {
            rawPrefix: config.prefix,
            curatedPrefix: config.curatedPrefix,
            // Only the tables of what the function copies: it may list those prefixes only.
            tables: tablesFor(config.datasets ?? [ACTIVITIES]),
            ...(options.deadline !== undefined ? { deadline: options.deadline } : {}),
          },
          { store, clock },
        )
        report = { ...report, curate, exitCode: report.exitCode === 0 ? curate.exitCode : report.exitCode }
      }
    } catch (error) {
      const described = describeError(error)
      const durationMs = clock.now() - startedAt
      log({
        level: 'error',
        ...base,
        durationMs,
        error: described,
        ...metrics(Number(described.exitCode), { durationMs }),
      })
      throw sanitized(error, tokenStore.secrets)
    }
    const failed = report.exitCode !== 0 && report.exitCode !== 5
    // Everything the run could not store (activities, dataset items, whole datasets), counted as the
    // failed-items streak, the sync headline and status count it: one member, the log's and the metric's.
    const itemsFailed = failedItems(report)
    log({
      level: failed ? 'error' : report.partial ? 'warn' : 'info',
      ...base,
      runId: report.runId,
      location: report.location,
      prefix: report.prefix,
      created: report.created,
      existing: report.existing,
      skipped: report.skipped,
      failed: itemsFailed,
      // Edits and deletions followed (docs/changes.md), only when there were some.
      ...(report.changed ? { changed: report.changed } : {}),
      ...(report.deleted ? { deleted: report.deleted } : {}),
      ...(report.reconciled ? { reconciled: true } : {}),
      partial: report.partial,
      exitCode: report.exitCode,
      stopReason: report.stopReason ?? stop?.reason,
      durationMs: report.durationMs,
      budgetMs: remainingMs,
      ...(report.curate
        ? {
            curate: {
              written: report.curate.written.length,
              unchanged: report.curate.unchanged,
              remaining: report.curate.remaining,
              rows: report.curate.rows,
              bytes: report.curate.bytesWritten,
              stopReason: report.curate.stopReason,
            },
          }
        : {}),
      requests: report.requests,
      errors: report.errors
        .slice(0, MAX_LOGGED_MESSAGES)
        .map((e) => ({ activityId: e.activityId, message: e.message })),
      ...(warnings.length > 0 ? { warnings } : {}),
      ...metrics(report.exitCode, {
        created: report.created,
        failed: itemsFailed,
        failedRunsInARow: report.failedRunsInARow ?? 0,
        durationMs: report.durationMs,
      }),
    })
    // The same items per dataset (a dataset that failed as a whole: one), so they add up to the run's.
    const failedByDataset = failedItemsByDataset(report)
    for (const [dataset, counts] of Object.entries(report.datasets ?? {})) {
      const failed = failedByDataset[dataset] ?? 0
      log(datasetMetricLine(deployment, clock.now(), dataset, { created: counts.created, failed }))
    }
    if (failed) {
      const first = report.errors[0]?.message ?? stop?.message ?? 'see the log line above'
      throw new Error(`garmin-s3 sync failed (exit ${report.exitCode}): ${redact(first, tokenStore.secrets)}`)
    }
    return report
  }
}

export const handler = createHandler()
