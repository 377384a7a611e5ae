/**
 * The health verdict: a pure function of what status gathered and the time. FAIL means the data is
 * not being kept safe (nothing was ever copied, or sign-in is broken); WARN means it soon may not be.
 */

import type { DatasetStateSummary } from '../sync/dataset-state.js'
import type {
  ActivitySummary,
  DeploymentSummary,
  DriftSummary,
  Health,
  HealthCause,
  RunSummary,
  StateSummary,
  TokenSummary,
} from './types.js'

export const STALE_AFTER_MS = 36 * 3_600_000
export const REFRESH_TOKEN_WARN_AFTER_MS = 20 * 86_400_000
const AUTH_EXIT_CODE = 3

export interface HealthInput {
  now: number
  state: StateSummary
  activities: ActivitySummary
  lastRun: RunSummary | null
  lastSuccessAt: string | null
  deployment: DeploymentSummary
  /** The tokens the scheduled runs use: the deployment's parameter when readable, else the local store. */
  tokens: TokenSummary
  drift: DriftSummary | null
  /** The dataset cursors' file; absent: not looked at. */
  datasetsState?: DatasetStateSummary
}

const DAY_MS = 86_400_000
/** The next step for a control object a newer garmin-s3 wrote. */
const UPGRADE_NEXT =
  'Upgrade garmin-s3 (npm install -g garmin-s3@latest): a newer version wrote it, and this one neither reads nor overwrites it.'

function ageText(ms: number): string {
  const hours = Math.floor(ms / 3_600_000)
  return hours < 48 ? `${hours} h` : `${Math.floor(ms / DAY_MS)} days`
}

function isDeployed(d: DeploymentSummary): boolean {
  return d.checked && d.function?.status === 'present'
}

/** How to get new tokens to wherever the failing runs take them from. */
function reLogin(input: HealthInput): string {
  const runner = input.lastRun?.runner
  const name = input.deployment.name
  if (runner === 'lambda' || (runner === undefined && isDeployed(input.deployment))) {
    return `Run \`garmin-s3 login\`, then \`garmin-s3 deploy --name ${name}\` to copy the new tokens to the function.`
  }
  if (input.tokens.location.startsWith('ssm:') || runner === 'github-actions') {
    const where = input.tokens.location.startsWith('ssm:') ? input.tokens.location : 'ssm:/<parameter>'
    return `Run \`garmin-s3 login --token-store ${where}\` with AWS credentials for that parameter.`
  }
  return noTokensHere(input)
    ? `${input.tokens.next} Then sync again.`
    : 'Run `garmin-s3 login`, then sync again.'
}

/** The tokens status read hold nothing, and their store said how to sign in to it (`next`). */
function noTokensHere(input: HealthInput): input is HealthInput & { tokens: { next: string } } {
  return input.tokens.status === 'absent' && input.tokens.next !== null
}

function staleNext(input: HealthInput): string {
  const d = input.deployment
  if (isDeployed(d)) {
    if (d.schedule?.enabled === false)
      return `The schedule is disabled: \`garmin-s3 deploy --name ${d.name}\` enables it again.`
    return `Check the function's log: aws logs tail /aws/lambda/${d.function?.name ?? d.name} --since 2d`
  }
  return 'Run `garmin-s3 sync`, or let it run daily: `garmin-s3 deploy` (Lambda) or `garmin-s3 init github-actions`.'
}

export function judgeHealth(input: HealthInput): Health {
  const causes: HealthCause[] = []
  const { state, activities, lastRun, now } = input

  if (!state.present) {
    if (activities.dataPresent) {
      causes.push({
        code: 'no-state',
        level: 'WARN',
        message: `No garmin-s3 state at ${state.key}, but the prefix holds objects (written by another tool, e.g. the original pipeline?).`,
        next: 'Run `garmin-s3 status --deep` to see what is there, or `garmin-s3 sync`: it adopts what is stored without rewriting it.',
      })
    } else {
      causes.push({
        code: 'nothing-synced',
        level: 'FAIL',
        message: 'Nothing has ever been synced here.',
        next: `${noTokensHere(input) ? `${input.tokens.next} Then \`garmin-s3 sync\`.` : 'Run `garmin-s3 login` once, then `garmin-s3 sync`.'} Synced elsewhere? Point status at it: \`--out <folder>\`, or \`--bucket <name>\` (and \`--prefix\` if you gave sync one).`,
      })
    }
  } else if (!state.readable) {
    causes.push({
      code: 'state-unreadable',
      level: 'WARN',
      message: `The state ${state.key} cannot be read: ${state.problem ?? 'unknown format'}.`,
      next:
        state.problemKind === 'newer-version'
          ? UPGRADE_NEXT
          : `Run \`garmin-s3 sync\` against the same location and --prefix: it lists what is stored and writes a new state, copying nothing again and leaving the data as it is. It replaces ${state.key}: to keep the broken file, move it aside first.`,
    })
  } else {
    if ((activities.stored ?? 0) === 0 && input.lastSuccessAt === null) {
      causes.push({
        code: 'nothing-synced',
        level: 'FAIL',
        message: 'No activity has been stored yet and no run has succeeded.',
        next: lastRun?.error
          ? `Fix the last run's error, then sync: ${lastRun.error}`
          : 'Run `garmin-s3 sync`.',
      })
    }
    if (lastRun && lastRun.exitCode === AUTH_EXIT_CODE) {
      causes.push({
        code: 'auth-failed',
        level: 'FAIL',
        message: `The last run (${lastRun.startedAt}, ${lastRun.runner}) could not sign in to Garmin${lastRun.error ? `: ${lastRun.error}` : ''}.`,
        next: reLogin(input),
      })
    }
    const lastSuccess = input.lastSuccessAt ? Date.parse(input.lastSuccessAt) : undefined
    const neverSynced = causes.some((c) => c.code === 'nothing-synced')
    if (lastRun && (lastSuccess === undefined ? !neverSynced : now - lastSuccess > STALE_AFTER_MS)) {
      causes.push({
        code: 'stale',
        level: 'WARN',
        message:
          lastSuccess === undefined
            ? 'No successful run on record.'
            : `No successful run for ${ageText(now - lastSuccess)} (last: ${input.lastSuccessAt}).`,
        next: staleNext(input),
      })
    }
    const datasetFailures = Object.entries(lastRun?.datasetsFailed ?? {})
    const datasetErrors = Object.entries(lastRun?.datasetsErrored ?? {})
    if (
      lastRun &&
      lastRun.exitCode !== AUTH_EXIT_CODE &&
      (lastRun.failed > 0 ||
        datasetFailures.length > 0 ||
        datasetErrors.length > 0 ||
        ![0, 5].includes(lastRun.exitCode))
    ) {
      const what = [
        ...(lastRun.failed > 0
          ? [`${lastRun.failed} activit${lastRun.failed === 1 ? 'y' : 'ies'} failed`]
          : []),
        ...(datasetFailures.length > 0
          ? [
              `dataset items failed (${datasetFailures.map(([name, n]) => `${name}: ${n} failed`).join(', ')})`,
            ]
          : []),
        ...datasetErrors.map(([name, error]) => `${name}: failed as a whole (${error})`),
      ]
      if (what.length === 0) what.push(`it stopped with exit code ${lastRun.exitCode}`)
      const datasetNames = [...new Set([...datasetFailures, ...datasetErrors].map(([name]) => name))]
      const retried =
        datasetNames.length > 0
          ? `Run \`garmin-s3 sync\` again with the same --data (${datasetNames.join(',')} included): failed items and datasets are retried`
          : 'Run `garmin-s3 sync` again (failed activities are retried)'
      causes.push({
        code: 'last-run-failures',
        level: 'WARN',
        message: `The last run (${lastRun.startedAt}) had failures: ${what.join('; ')}${lastRun.error ? ` (${lastRun.error})` : ''}.`,
        next: `${retried}; details in ${lastRun.manifestKey}.`,
      })
    }
  }

  const cursors = input.datasetsState
  if (cursors?.present && !cursors.readable) {
    causes.push({
      code: 'datasets-state-unreadable',
      level: 'WARN',
      message: `The dataset cursors ${cursors.key} cannot be read: ${cursors.problem ?? 'unknown format'}.`,
      next:
        cursors.problemKind === 'newer-version'
          ? UPGRADE_NEXT
          : `The next \`garmin-s3 sync\` with the same --data rebuilds them from one listing of each dataset's folder and fetches from Garmin only what is missing (and the recent days it always fetches again). It replaces ${cursors.key}: to keep the broken file, move it aside first.`,
    })
  }

  const quarantined = input.activities.quarantined ?? 0
  if (quarantined > 0) {
    causes.push({
      code: 'quarantined',
      level: 'WARN',
      message: `${quarantined} activity list ${quarantined === 1 ? 'entry is' : 'entries are'} quarantined: Garmin sent ${quarantined === 1 ? 'it' : 'them'} in a form that cannot be stored (each sync exits 5 while any remain).`,
      next: `The reasons are in the state and in each run manifest${input.lastRun ? ` (${input.lastRun.manifestKey})` : ''}; a valid version from Garmin is stored by the next sync.`,
    })
  }

  const rotated = input.tokens.refreshTokenRotatedAt ?? input.tokens.obtainedAt
  if (input.tokens.status === 'present' && rotated) {
    const age = now - Date.parse(rotated)
    if (age > REFRESH_TOKEN_WARN_AFTER_MS) {
      causes.push({
        code: 'refresh-token-old',
        level: 'WARN',
        message: `The refresh token in ${input.tokens.location} is ${ageText(age)} old; Garmin's last about a month.`,
        next: reLogin(input),
      })
    }
  }

  const alerts = input.deployment.alerts
  for (const alarm of alerts?.alarms ?? []) {
    if (alarm.state !== 'ALARM') continue
    causes.push({
      code: 'alarm',
      // A sign-in that expired stops every run until someone acts; the others may heal by themselves.
      level: alarm.kind === 'sign-in-needed' ? 'FAIL' : 'WARN',
      message: `Alarm ${alarm.name} is in ALARM${alarm.since ? ` since ${alarm.since}` : ''}: ${alarm.description ?? alarm.kind}`,
      next: alarm.next ?? `See the alarm in the CloudWatch console: ${alarm.name}.`,
    })
  }
  const pending = (alerts?.subscriptions ?? []).filter((s) => s.pending).map((s) => s.endpoint)
  if (pending.length > 0) {
    causes.push({
      code: 'alerts-unconfirmed',
      level: 'WARN',
      message: `No alert reaches ${pending.join(', ')}: the subscription is not confirmed yet.`,
      next: `Click the link in the email "AWS Notification - Subscription Confirmation" (look in the spam folder too). Lost it? AWS sends a new one: aws sns subscribe --topic-arn ${alerts?.topicArn ?? '<topic>'} --protocol email --notification-endpoint ${pending[0]}`,
    })
  }

  if (input.drift?.detected) {
    const d = input.drift
    causes.push({
      code: 'drift',
      level: 'WARN',
      message: `The state counts ${d.stateCount ?? 0} activities, the listing finds ${d.listedCount}${d.missing.count > 0 ? `; ${d.missing.count} the state knows are missing` : ''}.`,
      next: 'Run `garmin-s3 status --deep --repair`, then `garmin-s3 sync` copies again what is missing.',
    })
  }

  causes.sort((a, b) => (a.level === b.level ? 0 : a.level === 'FAIL' ? -1 : 1))
  const verdict = causes.some((c) => c.level === 'FAIL') ? 'FAIL' : causes.length > 0 ? 'WARN' : 'OK'
  return { verdict, causes, next: verdict === 'OK' ? 'Nothing to do.' : null }
}
