/**
 * Checks for the flags of `init github-actions`, done before anything is read or written. Each
 * returns the value to use (normalised) or throws a UsageError (exit 2) that says what is accepted.
 */
import { UsageError } from '../errors.js'

const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,64}$/

export function validateRoleArn(arn: string): string {
  const value = arn.trim()
  if (!ROLE_ARN.test(value)) {
    throw new UsageError(`--role-arn "${arn}" is not an IAM role ARN`, {
      hint: 'It looks like arn:aws:iam::123456789012:role/garmin-s3-github; or let garmin-s3 make one with --create-role --repo owner/name.',
    })
  }
  return value
}

const REGION = /^[a-z]{2}(?:-[a-z]+)+-\d{1,2}$/

export function validateRegion(region: string): string {
  const value = region.trim()
  if (!REGION.test(value)) {
    throw new UsageError(`--region "${region}" is not an AWS region`, {
      hint: 'For example us-east-1 or eu-central-1.',
    })
  }
  return value
}

interface CronField {
  name: string
  min: number
  max: number
  names?: readonly string[]
}

const CRON_FIELDS: readonly CronField[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  {
    name: 'month',
    min: 1,
    max: 12,
    names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
  },
  { name: 'day of week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
]

const CRON_ITEM = /^(\*|[A-Za-z0-9]+(?:-[A-Za-z0-9]+)?)(?:\/(\d+))?$/

function cronValue(text: string, field: CronField): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1
  const n = named >= 0 ? named + field.min : /^\d+$/.test(text) ? Number(text) : Number.NaN
  return Number.isInteger(n) && n >= field.min && n <= field.max ? n : undefined
}

function cronFieldProblem(text: string, field: CronField): string | undefined {
  for (const item of text.split(',')) {
    const m = CRON_ITEM.exec(item)
    if (!m) return `"${item}" in the ${field.name} field`
    const [, range = '', step] = m
    if (step !== undefined && Number(step) < 1) return `step "/${step}" in the ${field.name} field`
    if (range === '*') continue
    const [from = '', to] = range.split('-')
    const a = cronValue(from, field)
    const b = to === undefined ? a : cronValue(to, field)
    if (a === undefined || b === undefined || b < a) {
      return `"${item}" in the ${field.name} field (${field.min}-${field.max}${field.names ? ` or ${field.names[0]}-${field.names.at(-1)}` : ''})`
    }
  }
  return undefined
}

/** GitHub's schedule syntax: POSIX cron, exactly five fields, no `?`, `L`, `#` or `@daily` macros. */
export function validateCron(expression: string): string {
  const fields = expression.trim().split(/\s+/)
  const hint =
    'Five fields: minute hour day-of-month month day-of-week, e.g. "0 6 * * *" (daily at 06:00) or "30 5 * * 1-5".'
  if (fields.length !== 5) {
    throw new UsageError(`--cron "${expression}" must have 5 fields, it has ${fields.length}`, { hint })
  }
  for (const [i, text] of fields.entries()) {
    const field = CRON_FIELDS[i] as CronField
    const problem = cronFieldProblem(text, field)
    if (problem) throw new UsageError(`--cron "${expression}": invalid ${problem}`, { hint })
  }
  return fields.join(' ')
}

/** An IANA zone, in its canonical spelling (`america/chicago` -> `America/Chicago`). */
export function validateTimezone(zone: string): string {
  let resolved: string | undefined
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: zone.trim() }).resolvedOptions().timeZone
  } catch {
    resolved = undefined
  }
  // The zone goes into YAML unquoted: only the characters IANA names use.
  if (!resolved || !/^[A-Za-z0-9_+-]+(?:\/[A-Za-z0-9_+-]+)*$/.test(resolved)) {
    throw new UsageError(`--timezone "${zone}" is not an IANA time zone`, {
      hint: 'For example America/Chicago, Europe/Berlin or UTC (leave it out to schedule in UTC).',
    })
  }
  return resolved
}

export interface GitHubRepo {
  owner: string
  name: string
}

const OWNER = /^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/
const REPO_NAME = /^[A-Za-z0-9._-]{1,100}$/

/** `owner/name`; a pasted clone URL (https or ssh) is accepted too. */
export function validateRepo(input: string): GitHubRepo {
  const text = input
    .trim()
    .replace(/^(?:https:\/\/github\.com\/|git@github\.com:)/, '')
    .replace(/\.git$/, '')
    .replace(/\/$/, '')
  const [owner = '', name = '', ...rest] = text.split('/')
  if (rest.length > 0 || !OWNER.test(owner) || !REPO_NAME.test(name) || name === '.' || name === '..') {
    throw new UsageError(`--repo "${input}" is not a GitHub repository`, {
      hint: 'Use owner/name, e.g. --repo octocat/garmin-data (the repository the workflow lives in).',
    })
  }
  return { owner, name }
}

/** A plain branch name: the role trusts exactly this ref, so no wildcards. */
export function validateBranch(branch: string): string {
  const value = branch.trim().replace(/^refs\/heads\//, '')
  const bad =
    !/^[A-Za-z0-9._/-]+$/.test(value) ||
    value.startsWith('-') ||
    value.startsWith('/') ||
    value.endsWith('/') ||
    value.endsWith('.') ||
    value.endsWith('.lock') ||
    value.includes('..') ||
    value.includes('//')
  if (bad) {
    throw new UsageError(`--branch "${branch}" is not a branch name`, {
      hint: "Give the repository's default branch, e.g. --branch main (scheduled workflows run only there).",
    })
  }
  return value
}

const SEMVER = /^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?$/
const TARBALL_URL = /^https:\/\/[A-Za-z0-9.-]+(?::\d{1,5})?\/[A-Za-z0-9._~/%+=@-]*\.tgz$/
const GITHUB_REF = /^[A-Za-z0-9._/-]+$/

/**
 * What the workflow installs with npx: `garmin-s3@x.y.z` (the default, once published), an https URL of
 * a packed tarball (`npm pack`, e.g. a GitHub release asset), or `github:owner/repo#tag`, so the
 * workflow works before the package is on npm. Only characters that are inert in YAML and bash.
 */
export function validatePackageSpec(spec: string): string {
  const value = spec.trim()
  const hint =
    'Use garmin-s3@x.y.z, an https://.../garmin-s3-x.y.z.tgz tarball URL, or github:owner/repo#tag.'
  const version = /^garmin-s3@(.+)$/.exec(value)?.[1]
  if (version !== undefined) {
    if (SEMVER.test(version)) return value
    throw new UsageError(`--package "${spec}" must pin an exact version (garmin-s3@x.y.z)`, { hint })
  }
  if (value.startsWith('github:')) {
    const [repo = '', ref, ...rest] = value.slice('github:'.length).split('#')
    const [owner = '', name = '', ...more] = repo.split('/')
    const ok =
      rest.length === 0 &&
      more.length === 0 &&
      OWNER.test(owner) &&
      REPO_NAME.test(name) &&
      ref !== undefined &&
      GITHUB_REF.test(ref) &&
      !ref.includes('..')
    if (ok) return value
    throw new UsageError(`--package "${spec}" is not github:owner/repo#tag`, { hint })
  }
  if (TARBALL_URL.test(value)) return value
  throw new UsageError(`--package "${spec}" is not a garmin-s3 package spec`, { hint })
}
