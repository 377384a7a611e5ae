/** Human-readable lines for plans and results (the --json output is the result object itself). */
import type { DeployResult, DestroyResult } from './index.js'
import type { Action, Change } from './plan.js'
import { sessionNote } from './session.js'

const VERB: Record<Action, string> = {
  create: 'create',
  update: 'update',
  delete: 'delete',
  unchanged: 'unchanged',
}

/** `  create     lambda-function        garmin-s3 (MemorySize)` */
export function changeLine(change: Change, dryRun: boolean): string {
  const verb = dryRun && change.action !== 'unchanged' ? `would ${VERB[change.action]}` : VERB[change.action]
  const detaches = change.detaches ? `detaches foreign policies: ${change.detaches.join(', ')}` : ''
  const detail = [change.fields.length > 0 ? change.fields.join(', ') : '', change.note ?? '', detaches]
    .filter(Boolean)
    .join('; ')
  return `  ${verb.padEnd(16)} ${change.resource.padEnd(22)} ${change.name}${detail ? ` (${detail})` : ''}`
}

/** A resource of the other trigger kind, or of a deployment that is already gone: not worth a line. */
export function isAbsentNoop(change: Change): boolean {
  return change.action === 'unchanged' && change.note === 'absent'
}

function countActions(changes: Change[]): Record<Action, number> {
  const counts: Record<Action, number> = { create: 0, update: 0, delete: 0, unchanged: 0 }
  for (const change of changes) if (!isAbsentNoop(change)) counts[change.action]++
  return counts
}

function summary(changes: Change[], dryRun: boolean): string {
  const c = countActions(changes)
  const parts = [
    `${c.create} to create`,
    `${c.update} to update`,
    `${c.delete} to delete`,
    `${c.unchanged} unchanged`,
  ]
  return dryRun
    ? `Plan: ${parts.join(', ')}. Nothing was changed (--dry-run).`
    : `Done: ${parts.join(', ').replaceAll(' to ', ' ')}.`
}

/** The failed test run of `deploy --invoke`, for stderr: what failed and the next step. */
export function invokeFailureLines(result: DeployResult): string[] {
  if (!result.invoke || !('error' in result.invoke)) return []
  const { error } = result.invoke
  return [
    `Error: the deploy of "${result.name}" completed, but its test run failed (${error.type}): ${error.message}`,
    `  -> ${error.hint}`,
  ]
}

export function deploySummary(result: DeployResult): string[] {
  const lines = [summary(result.changes, result.dryRun)]
  const t = result.trigger
  lines.push(
    `Function ${result.functionName} in ${result.region} (account ${result.accountId}), code ${(result.zipBytes / 1024).toFixed(0)} KB.`,
    t.kind === 'schedule'
      ? `Runs ${t.expression} in ${t.timezone} (EventBridge Scheduler "${t.name}").`
      : `Runs ${t.expression} in UTC (EventBridge rule "${t.name}").`,
    `Tokens: SSM SecureString ${result.tokenParameter}.`,
    sessionNote(result.session, result.tokenParameter, result.dryRun),
  )
  lines.push(...alertLines(result))
  if (result.invoke && 'error' in result.invoke) {
    lines.push(
      `Deployed: every resource is in place. The test run (--invoke) failed: ${result.invoke.error.message}`,
    )
  } else if (result.invoke) {
    const report = result.invoke.report as Partial<Record<string, unknown>> | undefined
    if (report && typeof report === 'object' && 'created' in report) {
      lines.push(
        `Invoked once: ${report.created} created, ${report.existing} already stored, ${report.failed} failed${report.partial ? ' (partial: resumes next run)' : ''}, ${report.durationMs} ms.`,
      )
    } else {
      lines.push(`Invoked once: ${JSON.stringify(report)}`)
    }
  }
  return lines
}

function alertLines(result: DeployResult): string[] {
  const a = result.alerts
  if (!a) return ['Alerts: none (add --alert-email you@example.com; see docs/alerts.md).']
  const lines = [
    `Alerts: ${a.alarms.length} alarms and the failure destination on ${a.topicCreatedByDeploy ? '' : 'your topic '}${a.topicArn}.`,
  ]
  if (a.pendingConfirmation.length > 0) {
    const who = a.pendingConfirmation.join(', ')
    lines.push(
      result.dryRun
        ? `Deploying would send a confirmation link to ${who}.`
        : `Confirm the subscription in your inbox: AWS sends a link to ${who} ("AWS Notification - Subscription Confirmation"); no alert reaches an address before it is clicked.`,
    )
  }
  return lines
}

export function destroySummary(result: DestroyResult): string[] {
  const removed = result.changes.filter((c) => c.action === 'delete').length
  // What stays although it has the deployment's name: garmin-s3 did not create it, or something uses it.
  const kept = result.changes
    .filter((c) => c.kept)
    .map(
      (c) =>
        `${result.dryRun ? 'Would keep' : 'Kept'} ${c.resource} ${c.name}: ${c.note?.replace(/^kept: /, '')}.`,
    )
  const session = result.session ? [sessionReturnNote(result.session)] : []
  if (result.dryRun)
    return [
      `Plan: ${removed} to delete. Nothing was changed (--dry-run). The bucket is never touched.`,
      ...kept,
      ...session,
    ]
  return [
    removed === 0
      ? `Nothing to remove: no garmin-s3 deployment named "${result.name}" in ${result.region}.`
      : `Removed ${removed} resources of "${result.name}" in ${result.region}. The bucket and its objects were not touched.`,
    ...kept,
    ...session,
  ]
}

function sessionReturnNote(session: NonNullable<DestroyResult['session']>): string {
  return session.action === 'returned'
    ? `Sign-in: moved your session back from ${session.from} into ${session.to}; you stay signed in, and local commands no longer need AWS.`
    : `Sign-in: would move your session back from ${session.from} into ${session.to} (you stay signed in).`
}
