/**
 * The scheduled workflow `init github-actions` writes, as text. Generated (not serialised from an
 * object) so it can carry comments that explain each choice to whoever reads it in their repository.
 */
import type { GarminDomain } from '../garmin/types.js'
import { CONFIGURE_AWS_CREDENTIALS, SETUP_NODE, uses } from './actions.js'

export const WORKFLOW_PATH = '.github/workflows/garmin-s3-sync.yml'
export const WORKFLOW_FILE = 'garmin-s3-sync.yml'
export const DEFAULT_CRON = '0 6 * * *'
const NODE_VERSION = 22
/** Stops the sync cleanly before the one-hour AWS session from configure-aws-credentials ends. */
const SYNC_MAX_DURATION = '50m'
const JOB_TIMEOUT_MINUTES = 60

export interface SyncWorkflowInput {
  /** The garmin-s3 version that wrote the workflow, normally this package's. */
  packageVersion: string
  /**
   * What npx installs (validatePackageSpec): `garmin-s3@<version>` when absent, else a tarball URL or
   * `github:owner/repo#tag`.
   */
  packageSpec?: string | undefined
  /** The deployment name (`--name`): names the concurrency group. */
  name: string
  bucket: string
  /** Normalised `a/b/` form, or '' for the bucket root. */
  prefix: string
  /** Where the token parameter is, and the credentials' region (`aws-region`). */
  region: string
  /** The bucket's region, when it is not `region`. */
  bucketRegion?: string | undefined
  roleArn: string
  /** `/garmin-s3/tokens` */
  tokenParameter: string
  /** Five-field cron, already validated. */
  cron: string
  /** IANA zone, when the user asked for local time; otherwise the cron is UTC. */
  timezone?: string | undefined
  domain?: GarminDomain | undefined
}

/** Quotes a word for bash only when it needs it. */
function shellQuote(word: string): string {
  if (/^[A-Za-z0-9@%+=:,./_-]+$/.test(word)) return word
  return `'${word.replaceAll("'", `'\\''`)}'`
}

/** A YAML scalar: plain when it cannot be misread, else single-quoted. */
function yamlScalar(value: string): string {
  if (/^[A-Za-z0-9_./-][A-Za-z0-9_./:@=+-]*$/.test(value) && !/:$/.test(value)) return value
  return `'${value.replaceAll("'", "''")}'`
}

/** `Daily at 06:00` for the common shape, else the expression itself. */
function describeCron(cron: string): string {
  const m = /^(\d{1,2}) (\d{1,2}) \* \* \*$/.exec(cron)
  if (!m) return `At cron "${cron}"`
  return `Daily at ${m[2]?.padStart(2, '0')}:${m[1]?.padStart(2, '0')}`
}

/** The sync command of the workflow's last step, one argument per line. */
function syncCommandLines(input: SyncWorkflowInput): string[] {
  const args = [
    ['--bucket', input.bucket],
    ['--prefix', input.prefix],
    ['--token-store', `ssm:${input.tokenParameter}`],
    ...(input.bucketRegion && input.bucketRegion !== input.region ? [['--region', input.bucketRegion]] : []),
    ...(input.domain && input.domain !== 'garmin.com' ? [['--domain', input.domain]] : []),
    ['--max-duration', SYNC_MAX_DURATION],
  ]
  const spec = input.packageSpec ?? `garmin-s3@${input.packageVersion}`
  // A registry spec names the package itself; a tarball or a git spec needs --package and the bin name.
  const npx = spec.startsWith('garmin-s3@')
    ? `npx --yes ${spec} sync`
    : `npx --yes --package ${shellQuote(spec)} garmin-s3 sync`
  return [npx, ...args.map(([flag, value]) => `  ${flag} ${shellQuote(value ?? '')}`)]
}

export function renderSyncWorkflow(input: SyncWorkflowInput): string {
  const zone = input.timezone
  const when = `${describeCron(input.cron)} ${zone ? `(${zone})` : 'UTC'}`
  const command = syncCommandLines(input)
  const runLines = command.map((line, i) => `          ${line}${i < command.length - 1 ? ' \\' : ''}`)
  const lines = [
    `# garmin-s3 sync: copies new Garmin Connect data to s3://${input.bucket}/${input.prefix} on a schedule.`,
    `# Written by \`garmin-s3 init github-actions\` (garmin-s3 ${input.packageVersion}); edit freely, or rerun it with --force.`,
    '# It signs in to AWS through GitHub OIDC (no stored keys) and keeps the Garmin tokens in SSM.',
    `# Logs: this repository's Actions tab, or \`gh run list --workflow ${WORKFLOW_FILE}\`.`,
    'name: garmin-s3 sync',
    '',
    'on:',
    '  schedule:',
    `    # ${when}.`,
    ...(zone
      ? [
          '    # Where the `timezone` key is not supported (older GitHub Enterprise Server, some tools), the cron',
          '    # is read as UTC. On a spring-forward day, a time in the skipped hour runs at the next valid time.',
        ]
      : ['    # GitHub reads the cron as UTC; add `timezone: <IANA zone>` below it for local time.']),
    '    # GitHub starts scheduled runs late when it is busy (often minutes, up to an hour around the top of',
    '    # the hour) and may drop one: the next run catches up. In a public repository GitHub disables this',
    '    # schedule after 60 days without repository activity (re-enable it in the Actions tab).',
    `    - cron: '${input.cron}'`,
    ...(zone ? [`      timezone: ${zone}`] : []),
    '  workflow_dispatch:',
    '',
    '# One run at a time, queued rather than cancelled: two runs would race for the rotating refresh token.',
    'concurrency:',
    `  group: garmin-s3-sync-${input.name}`,
    '  cancel-in-progress: false',
    '',
    'permissions:',
    '  id-token: write # the OIDC token the AWS role trusts',
    '  contents: read',
    '',
    'jobs:',
    '  sync:',
    '    runs-on: ubuntu-latest',
    `    timeout-minutes: ${JOB_TIMEOUT_MINUTES}`,
    '    steps:',
    '      - name: AWS credentials (OIDC)',
    `        uses: ${uses(CONFIGURE_AWS_CREDENTIALS)}`,
    '        with:',
    `          role-to-assume: ${yamlScalar(input.roleArn)}`,
    `          aws-region: ${yamlScalar(input.region)}`,
    `      - name: Node.js ${NODE_VERSION}`,
    `        uses: ${uses(SETUP_NODE)}`,
    '        with:',
    `          node-version: ${NODE_VERSION}`,
    '      # Tokens come from SSM, not from GitHub secrets: Garmin rotates the refresh token and a workflow',
    `      # cannot write a secret back. --max-duration ${SYNC_MAX_DURATION} stops cleanly (with a checkpoint) before the`,
    '      # one-hour AWS session ends; exit code 5 means partial, and the next run resumes.',
    '      - name: Copy new Garmin data to S3',
    '        run: |',
    ...runLines,
  ]
  return `${lines.join('\n')}\n`
}
