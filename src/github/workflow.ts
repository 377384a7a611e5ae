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
  /** `--no-issue`: no issue is opened on failure (and the workflow needs no `issues: write`). */
  noIssue?: boolean | undefined
}

/** A GitHub Actions expression, `${{ ... }}`, written so that no linter takes it for a template slot. */
function ghExpr(expression: string): string {
  return `${'$'}{{ ${expression} }}`
}

/** The run report the sync step writes and the summary step reads. */
const REPORT = '"$RUNNER_TEMP/garmin-s3-report.json"'
/** The summary, also the body of the failure issue. */

/**
 * The job summary (and the failure issue's body): health, counts and the next step, from the report.
 * Plain Node, no dependency; it runs even when the sync step failed or wrote no report.
 */
const SUMMARY_SCRIPT = [
  "node - <<'JS'",
  'const fs = require("fs")',
  'let r = {}',
  'try { r = JSON.parse(fs.readFileSync(process.env.REPORT, "utf8")) } catch {}',
  'const code = typeof r.exitCode === "number" ? r.exitCode : Number(process.env.SYNC_EXIT || 1)',
  'const e = (r.errors || [])[0]',
  'const health = code === 0 ? "OK" : code === 5 ? "WARN (partial: the next run resumes)" : "FAIL"',
  'const next = code === 0 || code === 5 ? "nothing to do" : (e && e.hint) || "read the log of this run"',
  'const rows = [["health", health], ["created", r.created ?? "?"], ["failed", r.failed ?? "?"], ["exit code", code]]',
  'const md = ["## garmin-s3 sync", "", "| | |", "|---|---|", ...rows.map(([k, v]) => "| " + k + " | " + v + " |")]',
  'md.push("", "**Next step:** " + next)',
  'if (e && code !== 0) md.push("", "Error: " + e.message)',
  'md.push("", "Run: " + (process.env.RUN_URL || ""))',
  'fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, md.join("\\n") + "\\n")',
  'fs.writeFileSync(process.env.SUMMARY_FILE, md.join("\\n") + "\\n")',
  'JS',
]

/** Opens one issue labelled garmin-s3 on failure, or comments on the open one. */
const ISSUE_ON_FAILURE = [
  'number="$(gh issue list --label garmin-s3 --state open --limit 1 --json number --jq \'.[0].number\')"',
  'if [ -n "$number" ]; then',
  '  gh issue comment "$number" --body-file "$SUMMARY_FILE"',
  'else',
  '  gh label create garmin-s3 --description "garmin-s3 sync alerts" --force >/dev/null 2>&1 || true',
  '  gh issue create --title "garmin-s3 sync is failing" --label garmin-s3 --body-file "$SUMMARY_FILE"',
  'fi',
]

/** Closes the open garmin-s3 issue once a run succeeds again. */
const CLOSE_ON_SUCCESS = [
  'number="$(gh issue list --label garmin-s3 --state open --limit 1 --json number --jq \'.[0].number\')"',
  'if [ -n "$number" ]; then gh issue close "$number" --comment "The sync succeeded again: $RUN_URL"; fi',
]

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
  return [npx, ...args.map(([flag, value]) => `  ${flag} ${shellQuote(value ?? '')}`), `  --report ${REPORT}`]
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
    ...(input.noIssue ? [] : ['  issues: write # one issue while the sync fails (init --no-issue: none)']),
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
    '        id: sync',
    '        run: |',
    ...runLines,
    '      # The job summary: health, counts and the next step (also the body of the failure issue).',
    '      - name: Summary',
    '        if: always()',
    '        env:',
    `          SYNC_EXIT: ${ghExpr("steps.sync.outcome == 'success' && '0' || '1'")}`,
    `          REPORT: ${ghExpr('runner.temp')}/garmin-s3-report.json`,
    `          SUMMARY_FILE: ${ghExpr('runner.temp')}/garmin-s3-summary.md`,
    `          RUN_URL: ${ghExpr('github.server_url')}/${ghExpr('github.repository')}/actions/runs/${ghExpr('github.run_id')}`,
    '        run: |',
    ...SUMMARY_SCRIPT.map((line) => `          ${line}`),
    ...(input.noIssue
      ? []
      : [
          '      # While the sync fails, one issue labelled garmin-s3 (a comment per failed run); closed by a success.',
          '      - name: Open or update the failure issue',
          '        if: failure()',
          '        env:',
          `          GH_TOKEN: ${ghExpr('github.token')}`,
          `          SUMMARY_FILE: ${ghExpr('runner.temp')}/garmin-s3-summary.md`,
          '        run: |',
          ...ISSUE_ON_FAILURE.map((line) => `          ${line}`),
          '      - name: Close the failure issue',
          '        if: success()',
          '        env:',
          `          GH_TOKEN: ${ghExpr('github.token')}`,
          `          RUN_URL: ${ghExpr('github.server_url')}/${ghExpr('github.repository')}/actions/runs/${ghExpr('github.run_id')}`,
          '        run: |',
          ...CLOSE_ON_SUCCESS.map((line) => `          ${line}`),
        ]),
  ]
  return `${lines.join('\n')}\n`
}
