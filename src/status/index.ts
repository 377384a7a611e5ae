/**
 * `garmin-s3 status` as a library call: gather what is in the lake (fast path or `--deep`), what is
 * deployed, where the tokens are, and judge the pipeline's health. The command only parses and renders.
 */
import { type Clock, systemClock } from '../clock.js'
import type { TokenStore } from '../garmin/types.js'
import type { Store } from '../store/types.js'
import { datasetReport } from '../sync/dataset-status.js'
import { repairState } from '../sync/repair.js'
import type { StatusAwsClients } from './deployment.js'
import { judgeHealth } from './health.js'
import { activitySummary, deepScan, peekData, readState, runHistory } from './lake.js'
import { notChecked } from './not-checked.js'
import { readTokenSummary } from './tokens.js'
import { type DeepSummary, STATUS_SCHEMA_VERSION, type StatusReport } from './types.js'

export type { StatusAwsClients } from './deployment.js'
export { REFRESH_TOKEN_WARN_AFTER_MS, STALE_AFTER_MS } from './health.js'
export { nextRuns, parseScheduleExpression, wallClock } from './schedule.js'
export type * from './types.js'

export interface StatusOptions {
  /** Data prefix, `a/b/` form (validated). */
  prefix: string
  deep?: boolean
  /** Rewrite the state from the listing (implies `deep`). */
  repair?: boolean
  /** The deployment's `--name`. */
  deploymentName: string
}

export interface StatusDeps {
  store: Store
  tokenStore: TokenStore
  /** AWS clients for the deployment check, or why it is not checked (e.g. a folder target without --name). */
  aws: StatusAwsClients | { skip: string }
  clock?: Clock
}

export async function gatherStatus(options: StatusOptions, deps: StatusDeps): Promise<StatusReport> {
  const clock = deps.clock ?? systemClock
  const now = clock.now()
  const { store } = deps
  const { prefix } = options
  const before = { ...store.stats().requests }
  const deep = options.deep === true || options.repair === true

  // AWS and the token store do not depend on the lake: ask them while the store answers.
  const aws = deps.aws
  const deploymentPromise =
    'skip' in aws
      ? Promise.resolve({ deployment: notChecked(options.deploymentName, aws.skip), tokens: null })
      : // The AWS SDK commands load only when a deployment is checked.
        import('./deployment.js').then(({ checkDeployment }) =>
          checkDeployment(options.deploymentName, aws, now),
        )
  const localTokensPromise = readTokenSummary(deps.tokenStore, now)

  const state = await readState(store, prefix)
  const datasetsPromise = datasetReport(store, prefix, state.dataset ?? null)
  const dataPresent = state.summary.present ? null : await peekData(store, prefix)
  let deepSummary: DeepSummary | null = null
  if (deep) {
    const started = clock.now()
    const scan = await deepScan(store, prefix, state.dataset)
    const repair = options.repair ? await repairState(store, prefix, state, scan.listed, clock) : null
    deepSummary = { ...scan.summary, repair, durationMs: clock.now() - started }
  }
  const [{ deployment, tokens: deployedTokens }, localTokens, { datasets, archive, state: datasetsState }] =
    await Promise.all([deploymentPromise, localTokensPromise, datasetsPromise])

  const history = runHistory(state.dataset)
  const activities = activitySummary(state.dataset, dataPresent)
  if (deepSummary?.repair?.written) activities.stored = deepSummary.repair.storedAfter
  // After a successful repair the drift is what the repair just fixed: judge the repaired state.
  const drift = deepSummary && !deepSummary.repair?.written ? deepSummary.drift : null
  const health = judgeHealth({
    now,
    state: state.summary,
    activities,
    lastRun: history.lastRun,
    lastSuccessAt: history.lastSuccessAt,
    datasetsState,
    deployment,
    tokens: deployedTokens?.status === 'present' ? deployedTokens : localTokens,
    drift,
  })
  const after = store.stats().requests
  const requests: Record<string, number> = {}
  for (const [op, n] of Object.entries(after))
    if (n - (before[op] ?? 0) > 0) requests[op] = n - (before[op] ?? 0)

  return {
    schemaVersion: STATUS_SCHEMA_VERSION,
    generatedAt: new Date(now).toISOString(),
    location: store.location,
    prefix,
    mode: deep ? 'deep' : 'fast',
    state: state.summary,
    activities,
    datasets,
    datasetsState,
    archive,
    lastRun: history.lastRun,
    lastSuccessAt: history.lastSuccessAt,
    recentRuns: history.recentRuns,
    deep: deepSummary,
    deployment,
    tokens: { local: localTokens, deployed: deployedTokens },
    health,
    requests: { store: requests },
  }
}
