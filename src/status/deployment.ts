/**
 * What is deployed under `--name` (the resources `deploy` makes, named by `resourceNames`): read
 * only, each part on its own, and every failure to read one becomes "unknown" with the reason — a
 * status command must not crash because a policy lacks `scheduler:GetSchedule`.
 */
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch'
import { DescribeRuleCommand } from '@aws-sdk/client-eventbridge'
import { GetFunctionConfigurationCommand, GetFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda'
import { GetScheduleCommand } from '@aws-sdk/client-scheduler'
import { DescribeParametersCommand, GetParameterCommand } from '@aws-sdk/client-ssm'
import type { AwsClients } from '../aws/clients.js'
import { awsErrorName, isAccessDenied, isNoCredentials, isNoRegion, isNotFound } from '../aws/errors.js'
import { ALARM_KINDS, alarmName, emailSubscriptions, NEXT_STEP } from '../deploy/alerts.js'
import { resourceNames } from '../deploy/options.js'
import { validateStoredTokens } from '../garmin/token-format.js'
import { messageOf } from '../unknown.js'
import { notChecked } from './not-checked.js'
import { nextRuns } from './schedule.js'
import { summarizeTokens, unknownTokens } from './tokens.js'
import type {
  AlarmSummary,
  AlertsSummary,
  DeploymentSummary,
  FunctionSummary,
  ScheduleSummary,
  TokenParameterSummary,
  TokenSummary,
} from './types.js'

export type StatusAwsClients = Pick<
  AwsClients,
  'lambda' | 'scheduler' | 'events' | 'ssm' | 'sns' | 'cloudwatch'
>

type Probe<T> =
  | { ok: true; value: T }
  | { ok: false; absent: true }
  | { ok: false; absent: false; reason: string; fatal?: 'no-credentials' | 'no-region' }

/** One read: its value, "absent", or why it could not be read. */
async function probe<T>(what: string, read: () => Promise<T>): Promise<Probe<T>> {
  try {
    return { ok: true, value: await read() }
  } catch (error) {
    if (isNotFound(error)) return { ok: false, absent: true }
    const name = awsErrorName(error) ?? 'Error'
    const message = messageOf(error)
    if (isNoCredentials(error))
      return { ok: false, absent: false, reason: 'no AWS credentials', fatal: 'no-credentials' }
    if (isNoRegion(error))
      return { ok: false, absent: false, reason: 'no AWS region configured', fatal: 'no-region' }
    if (isAccessDenied(error)) return { ok: false, absent: false, reason: `access denied (${what})` }
    return { ok: false, absent: false, reason: `${name}: ${message}`.slice(0, 300) }
  }
}

function iso(value: Date | string | undefined): string | null {
  if (value === undefined) return null
  const ms =
    value instanceof Date ? value.getTime() : Date.parse(value.replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  return Number.isFinite(ms) ? new Date(ms).toISOString() : null
}

/** "What happened. Next: what to do." as the two halves status shows. */
function splitDescription(text: string | undefined): { description: string | null; next: string | null } {
  if (!text) return { description: null, next: null }
  const at = text.indexOf(NEXT_STEP)
  if (at < 0) return { description: text, next: null }
  const next = text.slice(at + NEXT_STEP.length)
  return { description: text.slice(0, at), next: next.charAt(0).toUpperCase() + next.slice(1) }
}

/** The failure destination, the alarms deploy makes, and the subscriptions of the topic they notify. */
async function checkAlerts(name: string, clients: StatusAwsClients): Promise<AlertsSummary> {
  const kinds = new Map(ALARM_KINDS.map((kind) => [alarmName(name, kind), kind]))
  const [config, described] = await Promise.all([
    probe('lambda:GetFunctionEventInvokeConfig', () =>
      clients.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: name })),
    ),
    probe('cloudwatch:DescribeAlarms', () =>
      clients.cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [...kinds.keys()] })),
    ),
  ])
  const failureDestination = config.ok ? config.value.DestinationConfig?.OnFailure?.Destination || null : null
  const alarms: AlarmSummary[] = described.ok
    ? (described.value.MetricAlarms ?? []).flatMap((a) => {
        const kind = a.AlarmName ? kinds.get(a.AlarmName) : undefined
        if (!kind || !a.AlarmName) return []
        return [
          {
            name: a.AlarmName,
            kind,
            state: a.StateValue ?? null,
            since: iso(a.StateUpdatedTimestamp),
            ...splitDescription(a.AlarmDescription),
          },
        ]
      })
    : []
  const actions = described.ok
    ? (described.value.MetricAlarms ?? []).flatMap((a) => a.AlarmActions ?? [])
    : []
  const topicArn = actions.find((arn) => arn.includes(':sns:')) ?? failureDestination
  const subscribed = topicArn
    ? await probe('sns:ListSubscriptionsByTopic', () => emailSubscriptions(clients.sns, topicArn))
    : undefined
  const unreadable = [config, described, ...(subscribed ? [subscribed] : [])].find((p) => !p.ok && !p.absent)
  const reason = unreadable && !unreadable.ok && !unreadable.absent ? unreadable.reason : null
  const present = failureDestination !== null || alarms.length > 0
  return {
    status: present ? 'present' : reason ? 'unknown' : 'absent',
    failureDestination,
    topicArn,
    subscriptions: subscribed?.ok
      ? subscribed.value.map((s) => ({ endpoint: s.endpoint, pending: s.arn === undefined }))
      : null,
    alarms,
    reason,
  }
}

export interface DeploymentResult {
  deployment: DeploymentSummary
  /** The tokens in the deployment's parameter, when they could be read. */
  tokens: TokenSummary | null
}

export async function checkDeployment(
  name: string,
  clients: StatusAwsClients,
  now: number,
): Promise<DeploymentResult> {
  const names = resourceNames(name)
  const alertsPromise = checkAlerts(names.functionName, clients)
  const [fn, schedule, rule, parameter] = await Promise.all([
    probe('lambda:GetFunctionConfiguration', () =>
      clients.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: names.functionName })),
    ),
    probe('scheduler:GetSchedule', () =>
      clients.scheduler.send(new GetScheduleCommand({ Name: names.schedule, GroupName: 'default' })),
    ),
    probe('events:DescribeRule', () => clients.events.send(new DescribeRuleCommand({ Name: names.rule }))),
    probe('ssm:GetParameter', () =>
      clients.ssm.send(new GetParameterCommand({ Name: names.tokenParameter, WithDecryption: true })),
    ),
  ])
  const fatal = [fn, schedule, rule, parameter].find((p) => !p.ok && !p.absent && p.fatal)
  if (fatal && !fatal.ok && !fatal.absent) {
    return { deployment: notChecked(name, `${fatal.reason}: deployment not checked`), tokens: null }
  }

  const functionSummary: FunctionSummary = fn.ok
    ? {
        status: 'present',
        name: names.functionName,
        runtime: fn.value.Runtime ?? null,
        lastModified: iso(fn.value.LastModified),
        state: fn.value.State ?? null,
        bucket: fn.value.Environment?.Variables?.BUCKET ?? null,
        prefix: fn.value.Environment?.Variables?.PREFIX ?? null,
        reason: null,
      }
    : {
        status: fn.absent ? 'absent' : 'unknown',
        name: names.functionName,
        runtime: null,
        lastModified: null,
        state: null,
        bucket: null,
        prefix: null,
        reason: fn.absent ? null : fn.reason,
      }

  let scheduleSummary: ScheduleSummary
  if (schedule.ok) {
    const timezone = schedule.value.ScheduleExpressionTimezone ?? 'UTC'
    const expression = schedule.value.ScheduleExpression ?? null
    const anchor = schedule.value.StartDate ?? schedule.value.CreationDate
    scheduleSummary = {
      status: 'present',
      kind: 'schedule',
      name: names.schedule,
      expression,
      timezone,
      enabled: schedule.value.State ? schedule.value.State === 'ENABLED' : null,
      nextRuns: expression ? (nextRuns(expression, timezone, now, 3, anchor?.getTime()) ?? null) : null,
      reason: null,
    }
  } else if (rule.ok) {
    const expression = rule.value.ScheduleExpression ?? null
    scheduleSummary = {
      status: 'present',
      kind: 'rule',
      name: names.rule,
      expression,
      timezone: 'UTC',
      enabled: rule.value.State ? rule.value.State === 'ENABLED' : null,
      // A rule's rate() has no start time to count from: its next runs stay unknown.
      nextRuns: expression ? (nextRuns(expression, 'UTC', now) ?? null) : null,
      reason: null,
    }
  } else {
    const unknown = [schedule, rule].find((p) => !p.ok && !p.absent)
    scheduleSummary = {
      status: unknown ? 'unknown' : 'absent',
      kind: null,
      name: names.schedule,
      expression: null,
      timezone: null,
      enabled: null,
      nextRuns: null,
      reason: unknown && !unknown.ok && !unknown.absent ? unknown.reason : null,
    }
  }

  let parameterSummary: TokenParameterSummary
  let tokens: TokenSummary | null = null
  const location = `ssm:${names.tokenParameter}`
  if (parameter.ok && parameter.value.Parameter) {
    const p = parameter.value.Parameter
    parameterSummary = {
      status: 'present',
      name: names.tokenParameter,
      lastModified: iso(p.LastModifiedDate),
      reason: null,
    }
    try {
      tokens = summarizeTokens(location, validateStoredTokens(JSON.parse(p.Value ?? ''), location), now)
    } catch (error) {
      tokens = unknownTokens(
        location,
        error instanceof SyntaxError ? 'the parameter does not hold JSON tokens' : messageOf(error),
      )
    }
  } else if (!parameter.ok && !parameter.absent) {
    // Reading the value needs kms:Decrypt too; its metadata may still be readable.
    const meta = await probe('ssm:DescribeParameters', () =>
      clients.ssm.send(
        new DescribeParametersCommand({
          ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [names.tokenParameter] }],
        }),
      ),
    )
    const found = meta.ok ? meta.value.Parameters?.[0] : undefined
    parameterSummary = {
      status: found ? 'present' : meta.ok ? 'absent' : 'unknown',
      name: names.tokenParameter,
      lastModified: iso(found?.LastModifiedDate),
      reason: parameter.reason,
    }
    if (found) tokens = unknownTokens(location, parameter.reason)
  } else {
    parameterSummary = { status: 'absent', name: names.tokenParameter, lastModified: null, reason: null }
  }

  const parts = [functionSummary.status, scheduleSummary.status, parameterSummary.status]
  const deployed = parts.includes('present') ? true : parts.includes('unknown') ? null : false
  return {
    deployment: {
      name,
      checked: true,
      deployed,
      reason: deployed === false ? `nothing deployed under the name "${name}"` : null,
      function: functionSummary,
      schedule: scheduleSummary,
      tokenParameter: parameterSummary,
      alerts: await alertsPromise,
    },
    tokens,
  }
}
