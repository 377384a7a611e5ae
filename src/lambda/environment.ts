/**
 * The function's environment contract, both ends: `encodeEnvironment` is what `garmin-s3 deploy` sets
 * on the function, `loadConfig` reads and checks it once per cold start (a missing or malformed
 * variable is named in the error). `loadConfig(encodeEnvironment(c))` gives `c` back (a test checks it).
 */
import { GarminS3Error } from '../errors.js'
import { DEFAULT_PREFIX } from '../store/target.js'
import { parseDatasets } from '../sync/datasets.js'

export interface HandlerConfig {
  bucket: string
  /** Data prefix as given (the sync normalises nothing: deploy wrote it in `a/b/` form). */
  prefix: string
  /** SSM parameter holding the tokens, e.g. `/garmin-s3/tokens`. */
  tokenParameter: string
  daysBack?: number
  /** The bucket's region when it differs from the function's (AWS_REGION). */
  bucketRegion?: string
  garminDomain?: string
  concurrency?: number
  /** DATASETS: what to copy (`activities`, `fit`, `sleep`, ... or `all`); default activities. */
  datasets?: string[]
  /** RECONCILE_DAYS: compare the whole activity list every N days (default 7; 0: never). docs/changes.md */
  reconcileDays?: number
  /** TRACK_CHANGES=false: the original skip-only behaviour (edits and deletions not followed). */
  trackChanges?: boolean
}

class ConfigError extends GarminS3Error {}

function positiveInt(env: NodeJS.ProcessEnv, name: string, problems: string[]): number | undefined {
  const text = env[name]?.trim()
  if (!text) return undefined
  const value = Number(text)
  if (!Number.isInteger(value) || value < 1) {
    problems.push(`${name} must be a positive whole number (got "${text}")`)
    return undefined
  }
  return value
}

/** The variables for `config`; undefined fields are left out (their defaults apply). */
export function encodeEnvironment(config: HandlerConfig): Record<string, string> {
  return {
    BUCKET: config.bucket,
    PREFIX: config.prefix,
    TOKEN_PARAMETER: config.tokenParameter,
    ...(config.garminDomain ? { GARMIN_DOMAIN: config.garminDomain } : {}),
    ...(config.daysBack !== undefined ? { DAYS_BACK: String(config.daysBack) } : {}),
    ...(config.datasets !== undefined ? { DATASETS: config.datasets.join(',') } : {}),
    ...(config.bucketRegion ? { BUCKET_REGION: config.bucketRegion } : {}),
    ...(config.concurrency !== undefined ? { CONCURRENCY: String(config.concurrency) } : {}),
    ...(config.reconcileDays !== undefined ? { RECONCILE_DAYS: String(config.reconcileDays) } : {}),
    ...(config.trackChanges === false ? { TRACK_CHANGES: 'false' } : {}),
  }
}

function wholeNumber(env: NodeJS.ProcessEnv, name: string, problems: string[]): number | undefined {
  const text = env[name]?.trim()
  if (!text) return undefined
  if (!/^\d{1,3}$/.test(text)) {
    problems.push(`${name} must be a whole number of days, 0 or more (got "${text}")`)
    return undefined
  }
  return Number(text)
}

function booleanFlag(env: NodeJS.ProcessEnv, name: string, problems: string[]): boolean | undefined {
  const text = env[name]?.trim().toLowerCase()
  if (!text) return undefined
  if (text === 'true') return true
  if (text === 'false') return false
  problems.push(`${name} must be true or false (got "${env[name]?.trim()}")`)
  return undefined
}

export function loadConfig(env: NodeJS.ProcessEnv): HandlerConfig {
  const missing = ['BUCKET', 'TOKEN_PARAMETER'].filter((name) => !env[name]?.trim())
  const problems: string[] = []
  if (missing.length > 0)
    problems.push(`missing environment variable${missing.length > 1 ? 's' : ''} ${missing.join(', ')}`)
  const daysBack = positiveInt(env, 'DAYS_BACK', problems)
  const concurrency = positiveInt(env, 'CONCURRENCY', problems)
  const reconcileDays = wholeNumber(env, 'RECONCILE_DAYS', problems)
  const trackChanges = booleanFlag(env, 'TRACK_CHANGES', problems)
  const tokenParameter = env.TOKEN_PARAMETER?.trim() ?? ''
  let datasets: string[] | undefined
  try {
    datasets = env.DATASETS?.trim() ? parseDatasets(env.DATASETS) : undefined
  } catch (error) {
    problems.push(`DATASETS: ${(error as Error).message}`)
  }
  if (tokenParameter && !tokenParameter.startsWith('/')) {
    problems.push(`TOKEN_PARAMETER must be an SSM parameter name starting with "/" (got "${tokenParameter}")`)
  }
  if (problems.length > 0) {
    throw new ConfigError(`garmin-s3 function configuration: ${problems.join('; ')}`, {
      hint: 'Redeploy with `garmin-s3 deploy`, which sets these variables.',
    })
  }
  const prefix = env.PREFIX ?? DEFAULT_PREFIX
  const garminDomain = env.GARMIN_DOMAIN?.trim()
  const bucketRegion = env.BUCKET_REGION?.trim()
  return {
    bucket: env.BUCKET?.trim() ?? '',
    prefix,
    tokenParameter,
    ...(daysBack !== undefined ? { daysBack } : {}),
    ...(garminDomain ? { garminDomain } : {}),
    ...(bucketRegion ? { bucketRegion } : {}),
    ...(concurrency !== undefined ? { concurrency } : {}),
    ...(datasets !== undefined ? { datasets } : {}),
    ...(reconcileDays !== undefined ? { reconcileDays } : {}),
    ...(trackChanges === false ? { trackChanges } : {}),
  }
}
