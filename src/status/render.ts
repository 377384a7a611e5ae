/** The human `status` report: short, aligned, coloured only when asked to (on a terminal). */
import pc from 'picocolors'
import { formatCount } from '../format.js'
import type { ArchiveStatus, DatasetStatus } from '../sync/dataset-status.js'
import type {
  AlertsSummary,
  ChangeSummary,
  DeepSummary,
  DeploymentSummary,
  RunSummary,
  StatusReport,
  TokenSummary,
  Verdict,
} from './types.js'

type Colors = ReturnType<typeof pc.createColors>
/** The value column: every label is shorter, so at least one space always parts label and value. */
const LABEL = 13

const RUNNERS: Record<string, string> = { cli: 'CLI', lambda: 'Lambda', 'github-actions': 'GitHub Actions' }
const RESULTS: Record<number, string> = {
  0: 'ok',
  1: 'failed',
  3: 'auth failed',
  4: 'unavailable',
  5: 'partial',
}

/** `2026-11-28 06:00Z` */
function shortTime(iso: string | null): string {
  if (!iso) return 'unknown'
  const ms = Date.parse(iso)
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')}Z` : iso
}

/** `3 h ago`, `12 days ago`, `in 5 h` */
function relative(iso: string | null, now: number): string {
  if (!iso) return ''
  const diff = now - Date.parse(iso)
  if (!Number.isFinite(diff)) return ''
  const abs = Math.abs(diff)
  const text =
    abs < 90_000
      ? `${Math.round(abs / 1000)} s`
      : abs < 5_400_000
        ? `${Math.round(abs / 60_000)} min`
        : abs < 172_800_000
          ? `${Math.round(abs / 3_600_000)} h`
          : `${Math.round(abs / 86_400_000)} days`
  return diff >= 0 ? `${text} ago` : `in ${text}`
}

function when(iso: string | null, now: number): string {
  const rel = relative(iso, now)
  return rel ? `${shortTime(iso)} (${rel})` : shortTime(iso)
}

function duration(ms: number | null): string {
  if (ms === null) return '?'
  if (ms < 1000) return `${ms} ms`
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`
  return `${Math.round(ms / 60_000)} min`
}

function bytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`
}

function runner(name: string): string {
  return RUNNERS[name] ?? name
}

function result(run: RunSummary): string {
  return RESULTS[run.exitCode] ?? `exit ${run.exitCode}`
}

function runLine(run: RunSummary, now: number): string {
  const items = Object.values(run.datasetsFailed ?? {}).reduce((a, b) => a + b, 0)
  const errored = Object.keys(run.datasetsErrored ?? {})
  const datasets = [
    ...(items > 0 ? [`, ${formatCount(items)} dataset item${items === 1 ? '' : 's'} failed`] : []),
    ...(errored.length > 0
      ? [`, dataset${errored.length === 1 ? '' : 's'} ${errored.join(', ')} failed`]
      : []),
  ].join('')
  return `${when(run.startedAt, now)} on ${runner(run.runner)}, ${duration(run.durationMs)}: ${formatCount(run.created)} created, ${formatCount(run.existing)} existing, ${formatCount(run.failed)} failed${datasets}${run.partial ? ' (partial)' : ''}`
}

function runTable(runs: RunSummary[]): string[] {
  const header = ['STARTED', 'RUNNER', 'TOOK', 'NEW', 'SEEN', 'FAILED', 'RESULT']
  const rows = runs.map((r) => [
    shortTime(r.startedAt),
    runner(r.runner),
    duration(r.durationMs),
    formatCount(r.created),
    formatCount(r.existing),
    formatCount(r.failed),
    result(r),
  ])
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)))
  const right = new Set([2, 3, 4, 5])
  const format = (row: string[]) =>
    row
      .map((cell, i) => (right.has(i) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [format(header), ...rows.map(format)]
}

function counts(record: Record<string, number>): string {
  const entries = Object.entries(record)
  return entries.length === 0 ? 'none' : entries.map(([k, n]) => `${k}: ${formatCount(n)}`).join(' · ')
}

function deepLines(deep: DeepSummary, add: (label: string, text: string) => void, c: Colors): void {
  add(
    'Deep',
    `${formatCount(deep.objects)} objects, ${bytes(deep.bytes)}, ${formatCount(deep.activities)} activities (${deep.listRequests} list request${deep.listRequests === 1 ? '' : 's'}, ${duration(deep.durationMs)})`,
  )
  add('  by year', counts(deep.byYear))
  add('  by type', counts(deep.byType))
  if (deep.uncatalogued > 0)
    add(
      '  unknown',
      `${formatCount(deep.uncatalogued)} activities without year/type in the state (see below)`,
    )
  add(
    '  off layout',
    deep.offLayout.count === 0
      ? 'none'
      : c.yellow(
          `${formatCount(deep.offLayout.count)} keys, e.g. ${deep.offLayout.examples.slice(0, 3).join(', ')}`,
        ),
  )
  const d = deep.drift
  add(
    '  drift',
    !d.detected
      ? d.stateCount === null
        ? 'no state to compare'
        : 'none: the state matches the listing'
      : c.yellow(
          `state counts ${formatCount(d.stateCount ?? 0)}, listing finds ${formatCount(d.listedCount)}` +
            (d.missing.count > 0
              ? `; ${formatCount(d.missing.count)} missing (ids ${d.missing.examples.join(', ')}${d.missing.count > d.missing.examples.length ? ', ...' : ''})`
              : ''),
        ),
  )
  if (deep.repair) add('  repair', deep.repair.message)
}

function deploymentLines(
  d: DeploymentSummary,
  add: (label: string, text: string) => void,
  now: number,
): void {
  if (!d.checked) {
    add('Deployment', `${d.name}: not checked (${d.reason ?? 'skipped'})`)
    return
  }
  if (d.deployed === false) {
    add('Deployment', `none under the name "${d.name}"`)
    return
  }
  const fn = d.function
  add(
    'Deployment',
    fn?.status === 'present'
      ? `${d.name}: function ${fn.runtime ?? '?'}, updated ${when(fn.lastModified, now)}${fn.state ? `, ${fn.state}` : ''}` +
          (fn.bucket ? `, writes to s3://${fn.bucket}/${fn.prefix ?? ''}` : '')
      : `${d.name}: function ${fn?.status ?? 'unknown'}${fn?.reason ? ` (${fn.reason})` : ''}`,
  )
  const s = d.schedule
  if (s) {
    add(
      '  schedule',
      s.status === 'present'
        ? `${s.expression ?? '?'} in ${s.timezone ?? 'UTC'}${s.kind === 'rule' ? ' (EventBridge rule)' : ''}, ${s.enabled === false ? 'DISABLED' : s.enabled ? 'enabled' : 'state unknown'}`
        : `${s.status}${s.reason ? ` (${s.reason})` : ''}`,
    )
    if (s.status === 'present')
      add('  next runs', s.nextRuns ? s.nextRuns.map((r) => r.local).join(' · ') || 'none' : 'unknown')
  }
  const p = d.tokenParameter
  if (p) {
    add(
      '  parameter',
      p.status === 'present'
        ? `${p.name}, written ${when(p.lastModified, now)}`
        : `${p.name} ${p.status}${p.reason ? ` (${p.reason})` : ''}`,
    )
  }
  if (d.alerts) alertLines(d.alerts, add, now)
}

function alertLines(a: AlertsSummary, add: (label: string, text: string) => void, now: number): void {
  if (a.status !== 'present') {
    add(
      '  alerts',
      a.status === 'unknown'
        ? `unknown (${a.reason ?? 'unreadable'})`
        : 'none: a failed run reaches nobody (deploy --alert-email ADDR, docs/alerts.md)',
    )
    return
  }
  add('  on failure', a.failureDestination ?? 'no failure destination')
  const states = a.alarms.map((alarm) => {
    const state = alarm.state ?? 'unknown'
    return `${alarm.kind} ${state}${state === 'ALARM' ? ` since ${when(alarm.since, now)}` : ''}`
  })
  add('  alarms', states.length > 0 ? states.join(' · ') : 'none')
  if (a.subscriptions) {
    const pending = a.subscriptions.filter((s) => s.pending)
    add(
      '  emails',
      a.subscriptions.length === 0
        ? `none on ${a.topicArn ?? 'the topic'}`
        : a.subscriptions
            .map((s) => `${s.endpoint}${s.pending ? ' (pending confirmation)' : ''}`)
            .join(', ') + (pending.length > 0 ? ': click the link in the confirmation email' : ''),
    )
  } else if (a.reason) {
    add('  emails', `unknown (${a.reason})`)
  }
}

function tokenText(t: TokenSummary, now: number): string {
  if (t.status === 'absent') return `${t.location}: none. ${t.next ?? 'Run `garmin-s3 login`.'}`
  if (t.status === 'unknown') return `${t.location}: unknown (${t.reason ?? 'unreadable'})`
  const rotated = t.refreshTokenRotatedAt
    ? `refresh token rotated ${when(t.refreshTokenRotatedAt, now)}`
    : `refresh token rotated at or before ${when(t.obtainedAt, now)}`
  const expiry = t.accessTokenExpiresAt ? Date.parse(t.accessTokenExpiresAt) : Number.NaN
  const access =
    expiry <= now
      ? `access token expired ${when(t.accessTokenExpiresAt, now)}, renewed on the next run`
      : `access token expires ${when(t.accessTokenExpiresAt, now)}`
  return `${t.location}: ${access}; ${rotated}`
}

function verdictText(verdict: Verdict, c: Colors): string {
  return verdict === 'OK'
    ? c.green(c.bold('OK'))
    : verdict === 'WARN'
      ? c.yellow(c.bold('WARN'))
      : c.red(c.bold('FAIL'))
}

export function renderStatus(report: StatusReport, options: { color: boolean; now?: number }): string[] {
  const c = pc.createColors(options.color)
  const now = options.now ?? Date.parse(report.generatedAt)
  const lines: string[] = []
  // A label as long as the column still gets its space (the value then starts one column later).
  const add = (label: string, text: string) => lines.push(`${c.dim(label.padEnd(LABEL - 1))} ${text}`)

  add('Location', `${report.location}${report.location.endsWith('/') ? '' : '/'}${report.prefix}`)
  const s = report.state
  add(
    'State',
    !s.present
      ? c.yellow(`none (${s.key})`)
      : !s.readable
        ? c.yellow(`${s.key}: unreadable (${s.problem ?? 'unknown format'})`)
        : `${s.key}, updated ${when(s.updatedAt, now)}`,
  )
  const a = report.activities
  if (a.stored !== null) {
    const range =
      a.oldest || a.newest ? `, ${a.oldest?.slice(0, 10) ?? '?'} to ${a.newest?.slice(0, 10) ?? '?'}` : ''
    add(
      'Activities',
      `${formatCount(a.stored)} stored${range}${a.historyComplete ? ', whole history' : ', history not complete yet'}${a.quarantined ? `, ${c.yellow(`${formatCount(a.quarantined)} quarantined`)}` : ''}`,
    )
  } else if (a.dataPresent !== null) {
    add('Activities', a.dataPresent ? 'unknown without state; the prefix holds objects' : 'none')
  }
  if (a.changes) add('Changes', changesLine(a.changes, now))
  // Names in a column of their own, two spaces wider than the longest (training-readiness is 18).
  const nameWidth = Math.max(0, ...report.datasets.map((d) => d.dataset.length)) + 2
  for (const d of report.datasets)
    add(d.dataset === report.datasets[0]?.dataset ? 'Datasets' : '', datasetLine(d, nameWidth))
  if (report.archive) add('Archive', archiveLine(report.archive, report.generatedAt.slice(0, 10)))
  if (report.lastRun) add('Last run', runLine(report.lastRun, now))
  if (report.lastRun && report.lastSuccessAt !== report.lastRun.finishedAt)
    add('Last success', report.lastSuccessAt ? when(report.lastSuccessAt, now) : 'none on record')
  if (report.recentRuns.length > 1) {
    const [head, ...rows] = runTable(report.recentRuns)
    add('Recent runs', c.dim(head!))
    for (const row of rows) add('', row)
  }
  if (report.deep) deepLines(report.deep, add, c)
  deploymentLines(report.deployment, add, now)
  const { local, deployed } = report.tokens
  // A local file that points at the deployment's parameter is the same chain: one line, not two.
  if (deployed && local.location.startsWith(`${deployed.location} (via `)) {
    add('Tokens', tokenText({ ...deployed, location: `${local.location}, the deployment's` }, now))
  } else {
    add('Tokens', tokenText(local, now))
    if (deployed) add('', tokenText(deployed, now))
  }

  lines.push('')
  add('Health', verdictText(report.health.verdict, c))
  for (const cause of report.health.causes) {
    const mark = cause.level === 'FAIL' ? c.red('x') : c.yellow('!')
    lines.push(`  ${mark} ${cause.message}`)
    lines.push(`    -> ${cause.next}`)
  }
  if (report.deep && report.deep.uncatalogued > 0) {
    lines.push(
      `  i ${formatCount(report.deep.uncatalogued)} activities have no year/type in the state yet -> ${
        report.state.present ? 'run `garmin-s3 sync --full` once' : 'run `garmin-s3 sync`'
      } (it reads Garmin's list; nothing is rewritten).`,
    )
  }
  return lines
}

/** "69 days pending (oldest 2026-03-24), 30 restored; about 3 days to restore at 25 a day" */
/** `3 changed, 1 deleted in Garmin; last reconcile 2 days ago, next due in 5 days` (docs/changes.md). */
function changesLine(ch: ChangeSummary, now: number): string {
  const counts = `${formatCount(ch.changed)} changed, ${formatCount(ch.deleted)} deleted in Garmin`
  if (ch.lastReconcileAt === null) return `${counts}; no reconcile yet (the next sync runs one)`
  const next =
    ch.nextReconcileDue === null
      ? 'automatic ones off (sync --reconcile)'
      : Date.parse(ch.nextReconcileDue) <= now
        ? 'next one due now (the next sync)'
        : `next due ${when(ch.nextReconcileDue, now)}`
  return `${counts}; last reconcile ${when(ch.lastReconcileAt, now)}, ${next}`
}

function archiveLine(a: ArchiveStatus, today: string): string {
  const pending =
    a.pending === 0
      ? 'nothing pending'
      : `${formatCount(a.pending)} day${a.pending === 1 ? '' : 's'} pending${a.oldest ? ` (oldest ${a.oldest})` : ''}`
  const counts = [
    `${formatCount(a.restored)} restored`,
    a.noFiles ? `${formatCount(a.noFiles)} without files` : '',
  ]
  const estimate =
    a.pending === 0
      ? ''
      : a.daysToRestore === null
        ? '; reloads are off (--reload-budget 0)'
        : `; about ${formatCount(a.daysToRestore)} day${a.daysToRestore === 1 ? '' : 's'} to restore at ${formatCount(a.budget)} a day`
  const denied = a.deniedOn === today ? "; Garmin's quota is spent today" : ''
  return `${pending}, ${counts.filter(Boolean).join(', ')}${estimate}${denied}`
}

function datasetLine(d: DatasetStatus, width: number): string {
  const name = d.dataset.padEnd(width)
  if (d.kind === 'per-activity') {
    const extra = [
      d.missing ? `${formatCount(d.missing)} to fetch` : '',
      d.gone ? `${formatCount(d.gone)} gone` : '',
    ]
      .filter(Boolean)
      .join(', ')
    return `${name}${formatCount(d.stored)} activities${extra ? ` (${extra})` : ''}`
  }
  const gaps = d.pending?.length
    ? `, gaps: ${d.pending.slice(0, 3).join(' ')}${d.pending.length > 3 ? ' …' : ''}`
    : ''
  return `${name}${formatCount(d.stored)} days, newest ${d.newest ?? 'none'}${gaps}`
}
