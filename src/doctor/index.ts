/**
 * `garmin-s3 doctor`: every stage a sync depends on, checked in order with the stored tokens, each with
 * its result, its time and one next step. Stages that need an earlier one (a refresh needs tokens) are
 * skipped when it failed; the store and the deployment are checked regardless. The exit code is the
 * first failure's, as everywhere else. Nothing secret is reported: dates, names and counts only.
 */
import { randomUUID } from 'node:crypto'
import { lstat } from 'node:fs/promises'
import type { Clock } from '../clock.js'
import { EXIT, type ExitCode, isGarminS3Error } from '../errors.js'
import type { GarminClient } from '../garmin/client.js'
import { DomainMismatchError, noTokensNext } from '../garmin/errors.js'
import { accessTokenExpiry, refreshDueAt } from '../garmin/jwt.js'
import { signInCommand } from '../garmin/sign-in-command.js'
import type { GarminDomain, StoredTokens, TokenStore } from '../garmin/types.js'
import { checkDeployment, type StatusAwsClients } from '../status/deployment.js'
import type { Store } from '../store/types.js'
import { controlPrefixFor } from '../sync/state.js'
import { messageOf } from '../unknown.js'

const DOCTOR_STAGES = [
  'token-file',
  'token-expiry',
  'refresh',
  'profile',
  'list',
  'store',
  'deployment',
] as const
type DoctorStage = (typeof DOCTOR_STAGES)[number]
type StageResult = 'ok' | 'warn' | 'fail' | 'skipped'

interface StageReport {
  stage: DoctorStage
  result: StageResult
  /** Milliseconds the stage took on the injected clock's wall (0 when skipped). */
  ms: number
  /** What was found, in one line. */
  detail: string
  /** What to do next; null when nothing is needed. */
  next: string | null
  /** The exit code this stage alone would end with (0 unless it failed). */
  exitCode: ExitCode
}

export interface DoctorReport {
  stages: StageReport[]
  /** The first failed stage's exit code, else 0. */
  exitCode: ExitCode
}

export interface DoctorOptions {
  /** Refresh even when the access token is not due. */
  refresh: boolean
  /** The activity prefix of the target; the probe goes under its control prefix (`_garmin-s3/`). */
  prefix: string
  deploymentName: string
  /** The Garmin domain garmin-s3 is set to; tokens of the other one are useless here. */
  domain: GarminDomain
}

export interface DoctorDeps {
  tokenStore: TokenStore
  /** A file token store's path, checked for its mode; undefined for SSM. */
  tokenPath: string | undefined
  garmin: GarminClient
  store: Store
  /** AWS clients for the deployment stage, or why it is not checked. */
  aws: StatusAwsClients | { skip: string }
  clock: Clock
}

const PROBE_BODY = '{"probe":"garmin-s3 doctor"}'

export async function runDoctor(options: DoctorOptions, deps: DoctorDeps): Promise<DoctorReport> {
  const stages: StageReport[] = []
  const stage = async (
    name: DoctorStage,
    check: () => Promise<Omit<StageReport, 'stage' | 'ms' | 'exitCode'> & { exitCode?: ExitCode }>,
  ): Promise<StageReport> => {
    const started = performance.now()
    let report: StageReport
    try {
      const out = await check()
      report = { stage: name, ms: 0, exitCode: EXIT.ok, ...out }
    } catch (error) {
      report = failed(name, error)
    }
    report.ms = Math.round(performance.now() - started)
    stages.push(report)
    return report
  }
  const skip = (name: DoctorStage, why: string) =>
    stages.push({ stage: name, result: 'skipped', ms: 0, detail: why, next: null, exitCode: EXIT.ok })

  let tokens: StoredTokens | undefined
  const file = await stage('token-file', async () => {
    // Read first: an empty token file is "no tokens", whatever its mode, as in every other command.
    let unreadable: { error: unknown } | undefined
    tokens = await deps.tokenStore.load().catch((error: unknown) => {
      unreadable = { error }
      return undefined
    })
    if (!tokens && !unreadable) {
      return {
        result: 'fail',
        detail: `no tokens at ${deps.tokenStore.location}`,
        next: noTokensNext(deps.tokenStore),
        exitCode: EXIT.auth,
      }
    }
    if (deps.tokenPath !== undefined) {
      const info = await lstat(deps.tokenPath).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return undefined
        throw error
      })
      // Only a regular file's mode means anything here. A symlink's own mode is always 777 and chmod
      // would change its target: anything but a file is left to the token store's load() below,
      // which refuses it with its own message and next step (doctor says what every command says).
      if (info?.isFile() && (info.mode & 0o077) !== 0) {
        return {
          result: 'fail',
          detail: `${deps.tokenPath} is readable by others (mode ${(info.mode & 0o777).toString(8)})`,
          next: `Run \`chmod 600 ${deps.tokenPath}\`, then \`${signInCommand(deps.tokenStore)}\` (others may have copied the tokens).`,
          exitCode: EXIT.failure,
        }
      }
    }
    if (unreadable) throw unreadable.error
    return { result: 'ok', detail: `tokens at ${deps.tokenStore.location}`, next: null }
  })

  let due = false
  if (file.result !== 'ok' || !tokens) {
    for (const name of ['token-expiry', 'refresh', 'profile', 'list'] as const)
      skip(name, 'needs stored tokens')
  } else {
    const stored = tokens
    const expiry = await stage('token-expiry', async () => {
      if (stored.domain !== options.domain)
        throw new DomainMismatchError(stored.domain, options.domain, deps.tokenStore)
      const now = deps.clock.now()
      const expiry = accessTokenExpiry(stored.accessToken, now) ?? Date.parse(stored.expiresAt)
      due = !Number.isFinite(expiry) || now >= refreshDueAt(expiry)
      const when = Number.isFinite(expiry) ? new Date(expiry).toISOString() : 'unknown'
      return due
        ? { result: 'ok', detail: `the access token expires ${when}: a refresh is due`, next: null }
        : { result: 'ok', detail: `the access token is valid until ${when}`, next: null }
    })
    let refresh: StageReport | undefined
    if (expiry.result === 'fail') skip('refresh', 'needs tokens for this domain')
    else if (!due && !options.refresh) skip('refresh', 'not due (pass --refresh to try one)')
    else {
      refresh = await stage('refresh', async () => {
        const fresh = await deps.garmin.refresh()
        return { result: 'ok', detail: `refreshed; valid until ${fresh.expiresAt}`, next: null }
      })
    }
    if (refresh?.result === 'fail' || expiry.result === 'fail') {
      skip('profile', 'needs a working token')
      skip('list', 'needs a working token')
    } else {
      const profile = await stage('profile', async () => {
        const p = await deps.garmin.profile()
        return p.displayName
          ? { result: 'ok', detail: `signed in as ${p.displayName}`, next: null }
          : {
              result: 'warn',
              detail: `profile ${p.profileId} has no display name`,
              next: 'Choose a display name at connect.garmin.com: sleep, heart rate and daily summary need one.',
            }
      })
      if (profile.result === 'fail') skip('list', 'needs a working token')
      else {
        await stage('list', async () => {
          const page = await deps.garmin.listActivities({ start: 0, limit: 1 })
          const newest = page[0]
          return {
            result: 'ok',
            detail: newest
              ? `newest activity ${newest.activityId} (${newest.startTimeGMT} UTC)`
              : 'no activities',
            next: null,
          }
        })
      }
    }
  }

  await stage('store', async () => {
    const key = `${controlPrefixFor(options.prefix)}doctor-probe-${randomUUID()}.json`
    // Written and removed by the store, with whatever it had to make for it: the target is left as found.
    const put = await deps.store.probe(key, PROBE_BODY, 'application/json')
    if (put !== 'created') {
      return {
        result: 'fail',
        detail: `the probe ${key} already existed in ${deps.store.location}`,
        next: 'Run doctor again; if it persists, report it.',
        exitCode: EXIT.failure,
      }
    }
    return { result: 'ok', detail: `${deps.store.location} is reachable and writable`, next: null }
  })

  if ('skip' in deps.aws) skip('deployment', deps.aws.skip)
  else {
    const clients = deps.aws
    await stage('deployment', async () => {
      const { deployment: d } = await checkDeployment(options.deploymentName, clients, deps.clock.now())
      if (!d.deployed) {
        return {
          result: d.checked ? 'ok' : 'warn',
          detail: d.checked ? `no deployment named ${d.name}` : `not checked: ${d.reason ?? 'unknown'}`,
          next: d.checked ? null : 'Check the AWS credentials and region (--profile, --region).',
        }
      }
      const parts = [
        ['function', d.function?.status, d.function?.reason],
        ['schedule', d.schedule?.status, d.schedule?.reason],
        ['token parameter', d.tokenParameter?.status, d.tokenParameter?.reason],
      ] as const
      const missing = parts.filter(([, status]) => status !== 'present')
      if (missing.length === 0) {
        const expression = d.schedule?.expression ? ` (${d.schedule.expression})` : ''
        return {
          result: 'ok',
          detail: `function, schedule${expression} and token parameter present`,
          next: null,
        }
      }
      return {
        result: 'fail',
        detail: missing
          .map(([what, status, reason]) => `${what} ${status ?? 'absent'}${reason ? `: ${reason}` : ''}`)
          .join('; '),
        next: `Run \`garmin-s3 deploy --name ${d.name}\` again to put back what is missing.`,
        exitCode: EXIT.failure,
      }
    })
  }

  const firstFailure = stages.find((s) => s.result === 'fail')
  return { stages, exitCode: firstFailure?.exitCode ?? EXIT.ok }
}

/** A stage that threw: its message and hint are the detail and the next step. */
function failed(stage: DoctorStage, error: unknown): StageReport {
  if (isGarminS3Error(error)) {
    return {
      stage,
      result: 'fail',
      ms: 0,
      detail: error.message,
      next: error.hint ?? null,
      exitCode: error.exitCode,
    }
  }
  return {
    stage,
    result: 'fail',
    ms: 0,
    detail: messageOf(error),
    next: 'Rerun with DEBUG=garmin-s3 and report it.',
    exitCode: EXIT.failure,
  }
}

/** The human table: stage, result, time and what was found; the next step on its own line. */
export function renderDoctor(report: DoctorReport): string[] {
  const rows = report.stages.map((s) => [
    s.stage,
    s.result.toUpperCase(),
    s.result === 'skipped' ? '-' : `${s.ms} ms`,
    s.detail,
  ])
  const header = ['STAGE', 'RESULT', 'TIME', 'DETAIL']
  const widths = [0, 1, 2].map((i) => Math.max(header[i]!.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => cells.map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c)).join('  ')
  const out = [line(header)]
  report.stages.forEach((s, i) => {
    out.push(line(rows[i]!))
    if (s.next) out.push(`${' '.repeat(widths[0]! + 2)}-> ${s.next}`)
  })
  return out
}
