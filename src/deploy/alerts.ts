/**
 * The alerts of a deployment (`deploy --alert-email` / `--alert-topic-arn`): an SNS topic with email
 * subscriptions (or the user's own topic, never changed), and CloudWatch alarms on the metrics the
 * function emits (src/lambda/metrics.ts). The function's failure destination on the topic is part of
 * its invoke config (resources.ts). The alarms are data first (`alarmSpecs`), so a test can hold them
 * against the handler's own EMF lines. See docs/alerts.md.
 */
import {
  type CloudWatchClient,
  DeleteAlarmsCommand,
  DescribeAlarmsCommand,
  ListTagsForResourceCommand as ListAlarmTagsCommand,
  PutMetricAlarmCommand,
  TagResourceCommand as TagAlarmCommand,
} from '@aws-sdk/client-cloudwatch'
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand as ListTopicTagsCommand,
  SetTopicAttributesCommand,
  type SNSClient,
  SubscribeCommand,
  TagResourceCommand as TagTopicCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns'
import { METRIC_NAMESPACE, type RunMetricName, runDimensions } from '../lambda/metrics.js'
import type { AlertOptions } from './alert-options.js'
import { type AnyResource, differences, orAbsent, resource } from './plan.js'
import { type PolicyDocument, parsePolicy, samePolicy } from './policy.js'
import { ourTags, ownershipOf, tagRecord } from './tags.js'

/** `no-successful-run`: hours without a run that did not fail. */
const NO_SUCCESS_HOURS = 36
/** `failed-items`: runs in a row that left items (activities, dataset items, a whole dataset) they could not store. */
const FAILED_RUNS = 3

export function alertsEnabled(alerts: AlertOptions | undefined): alerts is AlertOptions {
  return alerts !== undefined && (alerts.emails.length > 0 || alerts.topicArn !== undefined)
}

export type AlarmKind = 'sign-in-needed' | 'no-successful-run' | 'no-new-activity' | 'failed-items'
export const ALARM_KINDS: readonly AlarmKind[] = [
  'sign-in-needed',
  'no-successful-run',
  'no-new-activity',
  'failed-items',
]

function alertTopicName(deployment: string): string {
  return `${deployment}-alerts`
}

export function alarmName(deployment: string, kind: AlarmKind): string {
  return `${deployment}-${kind}`
}

/** One CloudWatch alarm, in PutMetricAlarm's own terms. */
export interface AlarmSpec {
  kind: AlarmKind
  AlarmName: string
  /** What happened, then "Next: " and what to do; status shows both. */
  AlarmDescription: string
  Namespace: string
  MetricName: RunMetricName
  Dimensions: { Name: string; Value: string }[]
  Statistic: 'Sum' | 'Maximum'
  Period: number
  EvaluationPeriods: number
  DatapointsToAlarm: number
  Threshold: number
  ComparisonOperator: 'GreaterThanOrEqualToThreshold' | 'LessThanThreshold'
  TreatMissingData: 'breaching' | 'notBreaching'
}

/** The separator between what happened and the next step in an alarm's description. */
export const NEXT_STEP = ' Next: '

const HOUR_S = 3600
const DAY_S = 86_400

/** The alarms a deployment wants (no-new-activity only with `noDataDays`). */
export function alarmSpecs(input: { name: string; bucket: string; noDataDays?: number }): AlarmSpec[] {
  const { name } = input
  const metric = (MetricName: RunMetricName) => ({
    Namespace: METRIC_NAMESPACE,
    MetricName,
    Dimensions: Object.entries(runDimensions(name)).map(([Name, Value]) => ({ Name, Value })),
  })
  const status = `garmin-s3 status --name ${name} --bucket ${input.bucket}`
  const logs = (since: string) => `aws logs tail /aws/lambda/${name} --since ${since}`
  const specs: AlarmSpec[] = [
    {
      kind: 'sign-in-needed',
      AlarmName: alarmName(name, 'sign-in-needed'),
      AlarmDescription: `Garmin sign-in expired for the garmin-s3 deployment "${name}": a run ended with exit code 3 and copies nothing until you sign in again.${NEXT_STEP}run garmin-s3 login, then garmin-s3 deploy (your usual flags).`,
      ...metric('signInNeeded'),
      Statistic: 'Sum',
      Period: 300,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    },
    {
      kind: 'no-successful-run',
      AlarmName: alarmName(name, 'no-successful-run'),
      AlarmDescription: `No successful run of the garmin-s3 deployment "${name}" for ${NO_SUCCESS_HOURS} hours: every run failed, or none ran (schedule disabled or deleted, function missing).${NEXT_STEP}${status}; the runs' errors: ${logs('2d')}`,
      ...metric('successes'),
      Statistic: 'Sum',
      Period: HOUR_S,
      EvaluationPeriods: NO_SUCCESS_HOURS,
      DatapointsToAlarm: NO_SUCCESS_HOURS,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // No run at all is the failure this alarm is for.
      TreatMissingData: 'breaching',
    },
    {
      kind: 'failed-items',
      AlarmName: alarmName(name, 'failed-items'),
      AlarmDescription: `${FAILED_RUNS} runs in a row of the garmin-s3 deployment "${name}" left items they could not store.${NEXT_STEP}${status} lists them; each run's log line has their errors: ${logs('3d')}`,
      // The run counts the streak itself from the state's recent runs, whatever the schedule.
      ...metric('failedRunsInARow'),
      Statistic: 'Maximum',
      Period: 300,
      EvaluationPeriods: 1,
      DatapointsToAlarm: 1,
      Threshold: FAILED_RUNS,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
    },
  ]
  if (input.noDataDays !== undefined) {
    const days = input.noDataDays
    specs.push({
      kind: 'no-new-activity',
      AlarmName: alarmName(name, 'no-new-activity'),
      AlarmDescription: `No new Garmin activity stored by the garmin-s3 deployment "${name}" for ${days} day${days === 1 ? '' : 's'}.${NEXT_STEP}if you recorded activities since, check that your watch synced to Garmin Connect, then ${status}.`,
      ...metric('created'),
      Statistic: 'Sum',
      Period: DAY_S,
      EvaluationPeriods: days,
      DatapointsToAlarm: days,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      // A day without a run is no-successful-run's to report; here only days whose runs brought nothing
      // count, so data from before the deployment cannot set it off on the first day.
      TreatMissingData: 'notBreaching',
    })
  }
  return specs
}

export interface AlertAccount {
  accountId: string
  partition: string
  region: string
}

export function alertTopicArn(account: AlertAccount, deployment: string): string {
  return `arn:${account.partition}:sns:${account.region}:${account.accountId}:${alertTopicName(deployment)}`
}

/**
 * Who may publish to the topic deploy makes: the function (its failure destination sends as its
 * execution role) and this account's CloudWatch alarms of this deployment. The role is named in a
 * condition rather than as the principal, so a role created seconds ago cannot make SNS refuse it.
 */
export function alertTopicPolicy(input: {
  account: AlertAccount
  topicArn: string
  executionRoleArn: string
  deployment: string
}): PolicyDocument {
  const { partition, region, accountId } = input.account
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'FunctionFailureDestination',
        Effect: 'Allow',
        Principal: { AWS: `arn:${partition}:iam::${accountId}:root` },
        Action: 'sns:Publish',
        Resource: input.topicArn,
        Condition: { ArnEquals: { 'aws:PrincipalArn': input.executionRoleArn } },
      },
      {
        Sid: 'DeploymentAlarms',
        Effect: 'Allow',
        Principal: { Service: 'cloudwatch.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: input.topicArn,
        Condition: {
          StringEquals: { 'aws:SourceAccount': accountId },
          ArnLike: {
            'aws:SourceArn': `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${input.deployment}-*`,
          },
        },
      },
    ],
  }
}

// ---------------------------------------------------------------- resources

interface TopicState {
  policy: unknown
  tags: Record<string, string>
}

/**
 * The topic `<name>-alerts`. A topic of that name that garmin-s3 did not make for this deployment is
 * refused when wanted (exit 2, or --adopt), and left alone when not: destroy never deletes it.
 */
export function alertTopic(
  sns: SNSClient,
  topicArn: string,
  deployment: string,
  policy: PolicyDocument | undefined,
): AnyResource {
  const wanted = policy !== undefined
  return resource<TopicState>({
    resource: 'sns-topic',
    name: alertTopicName(deployment),
    wanted,
    read: () =>
      orAbsent(async () => {
        const { Attributes } = await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))
        if (!Attributes) return undefined
        const { Tags } = await sns.send(new ListTopicTagsCommand({ ResourceArn: topicArn }))
        const tags = tagRecord(Tags)
        if (!wanted && ownershipOf(tags, deployment) === 'foreign') return undefined
        return { policy: parsePolicy(Attributes.Policy), tags }
      }),
    owned: {
      owner: (current) => ownershipOf(current.tags, deployment),
      claim: async () => {
        await sns.send(new TagTopicCommand({ ResourceArn: topicArn, Tags: ourTags(deployment) }))
      },
    },
    diff: (current) => differences([['Policy', policy !== undefined && !samePolicy(current.policy, policy)]]),
    create: async () => {
      await sns.send(
        new CreateTopicCommand({
          Name: alertTopicName(deployment),
          Attributes: { DisplayName: 'garmin-s3', Policy: JSON.stringify(policy) },
          Tags: ourTags(deployment),
        }),
      )
    },
    update: async () => {
      await sns.send(
        new SetTopicAttributesCommand({
          TopicArn: topicArn,
          AttributeName: 'Policy',
          AttributeValue: JSON.stringify(policy),
        }),
      )
    },
    remove: async () => {
      await sns.send(new DeleteTopicCommand({ TopicArn: topicArn }))
    },
  })
}

/** SNS's SubscriptionArn for an address that has not clicked the confirmation link yet. */
const PENDING_CONFIRMATION = 'PendingConfirmation'

export interface EmailSubscription {
  endpoint: string
  /** Undefined while the confirmation is pending. */
  arn: string | undefined
}

/** The email subscriptions of a topic, every page. */
export async function emailSubscriptions(sns: SNSClient, topicArn: string): Promise<EmailSubscription[]> {
  const found: EmailSubscription[] = []
  let NextToken: string | undefined
  do {
    const page = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn, NextToken }))
    for (const s of page.Subscriptions ?? []) {
      if (s.Protocol !== 'email' || !s.Endpoint) continue
      const arn =
        s.SubscriptionArn && s.SubscriptionArn !== PENDING_CONFIRMATION ? s.SubscriptionArn : undefined
      found.push({ endpoint: s.Endpoint, arn })
    }
    NextToken = page.NextToken
  } while (NextToken)
  return found
}

const key = (email: string) => email.toLowerCase()

/**
 * The email subscriptions of the topic deploy makes, as one resource: a changed list subscribes the
 * new addresses and unsubscribes the dropped ones, nothing else. An address still pending confirmation
 * cannot be unsubscribed (it has no ARN yet); SNS deletes it by itself if nobody confirms.
 */
export function alertSubscriptions(
  sns: SNSClient,
  topicArn: string,
  deployment: string,
  emails: readonly string[] | undefined,
): AnyResource {
  const wanted = emails ?? []
  const missing = (current: EmailSubscription[]) =>
    wanted.filter((e) => !current.some((s) => key(s.endpoint) === key(e)))
  const extra = (current: EmailSubscription[]) =>
    current.filter((s) => !wanted.some((e) => key(e) === key(s.endpoint)))
  const subscribe = async (addresses: readonly string[]) => {
    for (const Endpoint of addresses) {
      await sns.send(new SubscribeCommand({ TopicArn: topicArn, Protocol: 'email', Endpoint }))
    }
  }
  const unsubscribe = async (subscriptions: EmailSubscription[]) => {
    for (const s of subscriptions) {
      if (s.arn) await sns.send(new UnsubscribeCommand({ SubscriptionArn: s.arn }))
    }
  }
  return resource<{ subscriptions: EmailSubscription[] }>({
    resource: 'sns-subscriptions',
    name: alertTopicName(deployment),
    wanted: wanted.length > 0,
    read: () =>
      orAbsent(async () => {
        // Another's topic of that name: its subscriptions are not ours to change (alertTopic refuses it).
        const { Tags } = await sns.send(new ListTopicTagsCommand({ ResourceArn: topicArn }))
        if (ownershipOf(tagRecord(Tags), deployment) === 'foreign') return undefined
        const subscriptions = await emailSubscriptions(sns, topicArn)
        return subscriptions.length > 0 ? { subscriptions } : undefined
      }),
    diff: (current) => {
      const dropped = extra(current.subscriptions)
      const pending = dropped.filter((s) => !s.arn).length
      return {
        fields: [
          ...missing(current.subscriptions).map((e) => `subscribe ${e}`),
          ...dropped.filter((s) => s.arn).map((s) => `unsubscribe ${s.endpoint}`),
        ],
        ...(pending > 0
          ? {
              note: `${pending} dropped address(es) still pending confirmation: SNS deletes them unconfirmed`,
            }
          : {}),
      }
    },
    create: () => subscribe(wanted),
    update: async (current) => {
      await subscribe(missing(current.subscriptions))
      await unsubscribe(extra(current.subscriptions))
    },
    remove: (current) => unsubscribe(current.subscriptions),
  })
}

interface AlarmState {
  tags: Record<string, string>
  fields: Record<string, unknown>
}

/** A dimension list in a form that ignores its order (CloudWatch does). */
function dimensionsText(dimensions: { Name?: string | undefined; Value?: string | undefined }[]): string {
  return dimensions
    .map((d) => `${d.Name}=${d.Value}`)
    .sort()
    .join(',')
}

/** The fields of an alarm that deploy sets, as a comparable record. */
function alarmFields(spec: Omit<AlarmSpec, 'kind'>, topicArn: string): Record<string, unknown> {
  return {
    AlarmDescription: spec.AlarmDescription,
    Namespace: spec.Namespace,
    MetricName: spec.MetricName,
    Dimensions: dimensionsText(spec.Dimensions),
    Statistic: spec.Statistic,
    Period: spec.Period,
    EvaluationPeriods: spec.EvaluationPeriods,
    DatapointsToAlarm: spec.DatapointsToAlarm,
    Threshold: spec.Threshold,
    ComparisonOperator: spec.ComparisonOperator,
    TreatMissingData: spec.TreatMissingData,
    AlarmActions: topicArn,
    ActionsEnabled: true,
  }
}

/** One alarm; `spec` undefined: wanted absent. */
export function metricAlarm(
  cloudwatch: CloudWatchClient,
  name: string,
  deployment: string,
  spec: AlarmSpec | undefined,
  topicArn: string,
): AnyResource {
  const desired = spec && alarmFields(spec, topicArn)
  const put = async () => {
    if (!spec) return
    const { kind: _kind, ...input } = spec
    await cloudwatch.send(
      new PutMetricAlarmCommand({
        ...input,
        AlarmActions: [topicArn],
        ActionsEnabled: true,
        Tags: ourTags(deployment),
      }),
    )
  }
  return resource<AlarmState & { arn: string }>({
    resource: 'cloudwatch-alarm',
    name,
    wanted: spec !== undefined,
    read: () =>
      orAbsent(async () => {
        const { MetricAlarms } = await cloudwatch.send(new DescribeAlarmsCommand({ AlarmNames: [name] }))
        const alarm = MetricAlarms?.find((a) => a.AlarmName === name)
        if (!alarm?.AlarmArn) return undefined
        const { Tags } = await cloudwatch.send(new ListAlarmTagsCommand({ ResourceARN: alarm.AlarmArn }))
        return {
          arn: alarm.AlarmArn,
          tags: tagRecord(Tags),
          fields: {
            AlarmDescription: alarm.AlarmDescription,
            Namespace: alarm.Namespace,
            MetricName: alarm.MetricName,
            Dimensions: dimensionsText(alarm.Dimensions ?? []),
            Statistic: alarm.Statistic,
            Period: alarm.Period,
            EvaluationPeriods: alarm.EvaluationPeriods,
            DatapointsToAlarm: alarm.DatapointsToAlarm,
            Threshold: alarm.Threshold,
            ComparisonOperator: alarm.ComparisonOperator,
            TreatMissingData: alarm.TreatMissingData,
            AlarmActions: (alarm.AlarmActions ?? []).join(','),
            ActionsEnabled: alarm.ActionsEnabled,
          },
        }
      }),
    owned: {
      owner: (current) => ownershipOf(current.tags, deployment),
      claim: async (current) => {
        await cloudwatch.send(new TagAlarmCommand({ ResourceARN: current.arn, Tags: ourTags(deployment) }))
      },
    },
    diff: (current) =>
      differences(
        Object.entries(desired ?? {}).map(([field, value]) => [field, current.fields[field] !== value]),
      ),
    create: put,
    update: put,
    remove: async () => {
      await cloudwatch.send(new DeleteAlarmsCommand({ AlarmNames: [name] }))
    },
  })
}
