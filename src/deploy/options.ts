/**
 * What a deployment should look like, validated once: the flags of `deploy` / `destroy` become a
 * `DeployOptions` and the names of every AWS resource derive from `--name` in one place.
 */
import { UsageError } from '../errors.js'
import { validatePolicyPrefix } from '../store/target.js'
import { type AlertOptions, validateAlerts } from './alert-options.js'
import { validateSchedule } from './schedule.js'

export const DEFAULT_NAME = 'garmin-s3'
export const DEFAULT_SCHEDULE = 'cron(0 6 * * ? *)'
export const DEFAULT_TIMEZONE = 'America/Chicago'
export const DEFAULT_RUNTIME = 'nodejs22.x'
export const DEFAULT_MEMORY_MB = 256
export const DEFAULT_TIMEOUT_S = 300
export const SUPPORTED_RUNTIMES = ['nodejs22.x', 'nodejs24.x'] as const
export type LambdaRuntime = (typeof SUPPORTED_RUNTIMES)[number]
export type SchedulerKind = 'schedule' | 'rule'

/** What `deploy` needs to know besides the tokens and the account it deploys into. */
export interface DeployOptions {
  name: string
  bucket: string
  /** Normalised `a/b/` form (or '' for the bucket root). */
  prefix: string
  /** The sibling prefix for state and run manifests (`raw-data/_garmin-s3/`). */
  controlPrefix: string
  daysBack?: number
  /** RECONCILE_DAYS of the function (docs/changes.md); unset: the default of 7. */
  reconcileDays?: number
  /** What the function copies (`--data`); absent or `['activities']` = activities only. */
  datasets?: string[]
  /** `--curate`: the function also builds the curated tables here (`processed-data/garmin/`). */
  curatedPrefix?: string
  runtime: LambdaRuntime
  memory: number
  timeout: number
  schedule: string
  /** IANA zone for EventBridge Scheduler; rules always run in UTC. */
  timezone: string
  scheduler: SchedulerKind
  /** When the bucket is in another region than the function. */
  bucketRegion?: string
  /** Extra function environment. */
  environment?: Record<string, string>
  /** `--alert-email` / `--alert-topic-arn` / `--alert-no-data-days`; absent or empty: no alerts. */
  alerts?: AlertOptions
}

export interface ResourceNames {
  functionName: string
  executionRole: string
  executionPolicy: string
  schedulerRole: string
  schedulerPolicy: string
  schedule: string
  rule: string
  ruleTargetId: string
  permissionStatementId: string
  tokenParameter: string
  /** The role `init github-actions --create-role` makes; it shares the token parameter. */
  githubRole: string
}

/** Every resource a deployment owns, derived from `--name` so several deployments can coexist. */
export function resourceNames(name: string): ResourceNames {
  return {
    functionName: name,
    executionRole: `${name}-function`,
    executionPolicy: `${name}-access`,
    schedulerRole: `${name}-scheduler`,
    schedulerPolicy: `${name}-invoke`,
    schedule: name,
    rule: name,
    ruleTargetId: `${name}-function`,
    permissionStatementId: `${name}-events-rule`,
    tokenParameter: `/${name}/tokens`,
    githubRole: `${name}-github`,
  }
}

// IAM role names allow 64 characters and we add up to 10 ("-scheduler").
const NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]{0,47}$/

export function validateName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new UsageError(`--name "${name}" is not a valid deployment name`, {
      hint: 'Use 1-48 letters, digits, "-" or "_", starting with a letter (it prefixes every AWS resource).',
    })
  }
  return name
}

export function validateRuntime(runtime: string): LambdaRuntime {
  if (runtime === 'nodejs20.x' || /^nodejs1\d\.x$/.test(runtime)) {
    throw new UsageError(`--runtime ${runtime} is deprecated by AWS Lambda and is not supported`, {
      hint: `Use ${SUPPORTED_RUNTIMES.join(' or ')}.`,
    })
  }
  const found = SUPPORTED_RUNTIMES.find((r) => r === runtime)
  if (!found) {
    throw new UsageError(`--runtime ${runtime} is not supported`, {
      hint: `Use ${SUPPORTED_RUNTIMES.join(' or ')}.`,
    })
  }
  return found
}

function intInRange(flag: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${flag} must be a whole number from ${min} to ${max} (got ${value})`)
  }
  return value
}

/** Checks the flags that AWS would otherwise reject halfway through a deployment. */
export function validateDeployOptions(options: DeployOptions): DeployOptions {
  validateName(options.name)
  validateRuntime(options.runtime)
  validatePolicyPrefix(options.prefix)
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(options.bucket)) {
    throw new UsageError(`--bucket "${options.bucket}" is not a valid S3 bucket name`)
  }
  intInRange('--memory', options.memory, 128, 10240)
  intInRange('--timeout', options.timeout, 10, 900)
  if (options.daysBack !== undefined) intInRange('--days-back', options.daysBack, 1, 36500)
  if (options.reconcileDays !== undefined) intInRange('--reconcile-days', options.reconcileDays, 0, 366)
  if (options.bucketRegion !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(options.bucketRegion)) {
    throw new UsageError(`--bucket-region "${options.bucketRegion}" is not an AWS region`, {
      hint: 'For example us-east-1 or eu-central-1.',
    })
  }
  validateSchedule(options.schedule)
  if (options.scheduler === 'schedule' && !isTimeZone(options.timezone)) {
    throw new UsageError(`--timezone "${options.timezone}" is not an IANA time zone`, {
      hint: 'For example America/Chicago, Europe/Berlin or UTC.',
    })
  }
  if (options.scheduler === 'rule' && !['UTC', 'Etc/UTC'].includes(options.timezone)) {
    throw new UsageError('EventBridge rules run in UTC: --timezone cannot be used with --scheduler rule', {
      hint: 'Drop --timezone and write the cron in UTC, or use the default --scheduler schedule.',
    })
  }
  if (options.alerts) return { ...options, alerts: validateAlerts(options.alerts) }
  return options
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}
