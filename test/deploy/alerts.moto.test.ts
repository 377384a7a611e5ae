/**
 * deploy --alert-email / --alert-topic-arn against moto_server with the real SDK: the topic, its
 * policy, the subscriptions, the failure destination and the alarms read back by independent reads;
 * a rerun writes nothing; a changed address only (un)subscribes; destroy removes what deploy made and
 * never a topic it was given.
 */
import {
  DescribeAlarmsCommand,
  ListTagsForResourceCommand,
  SetAlarmStateCommand,
} from '@aws-sdk/client-cloudwatch'
import { GetRolePolicyCommand } from '@aws-sdk/client-iam'
import { GetFunctionEventInvokeConfigCommand } from '@aws-sdk/client-lambda'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import {
  CreateTopicCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTopicsCommand,
  SubscribeCommand,
} from '@aws-sdk/client-sns'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { alarmSpecs } from '../../src/deploy/alerts.js'
import { type AwsClients, type DeployOptions, deploy, destroy } from '../../src/deploy/index.js'
import { gatherStatus } from '../../src/status/index.js'
import { renderStatus } from '../../src/status/render.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import {
  deployOptions,
  FIXTURE_BUNDLE,
  fixtureTokens,
  freshMotoAccount,
  MemoryTokenStore,
  type MotoAccount,
  motoClients,
  type RecordedCall,
  writeCalls,
} from './helpers.js'

const BUCKET = 'alerts-test-lake'

function options(name: string, alerts: DeployOptions['alerts']): DeployOptions {
  return deployOptions({ name, bucket: BUCKET, ...(alerts ? { alerts } : {}) })
}

describe('deploy --alert-email against moto', () => {
  const endpoint = inject('motoEndpoint')
  let account: MotoAccount
  let clients: AwsClients
  let calls: RecordedCall[]
  const tokenStore = new MemoryTokenStore(fixtureTokens())

  beforeAll(async () => {
    account = await freshMotoAccount(endpoint)
    ;({ clients, calls } = motoClients(endpoint, account))
    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    s3.destroy()
  })

  const run = (opts: DeployOptions) =>
    deploy(opts, { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock: new FakeClock() })
  const topicArnOf = (name: string) => `arn:aws:sns:${TEST_REGION}:${account.accountId}:${name}-alerts`
  const emailsOn = async (topicArn: string) => {
    const { Subscriptions } = await clients.sns.send(
      new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }),
    )
    return (Subscriptions ?? []).filter((s) => s.Protocol === 'email').map((s) => s.Endpoint)
  }
  const alarmsOf = async (name: string) => {
    const { MetricAlarms } = await clients.cloudwatch.send(
      new DescribeAlarmsCommand({ AlarmNamePrefix: `${name}-` }),
    )
    return MetricAlarms ?? []
  }

  it('creates the topic, the subscription, the failure destination and the alarms', async () => {
    const result = await run(options('alerted', { emails: ['a@example.com'] }))
    const topicArn = topicArnOf('alerted')
    expect(result.alerts).toMatchObject({ topicArn, topicCreatedByDeploy: true, emails: ['a@example.com'] })

    // The topic: its policy lets the function's role and this deployment's alarms publish, nobody else.
    const { Attributes } = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }))
    const policy = JSON.parse(Attributes?.Policy ?? '{}') as {
      Statement: { Principal: unknown; Action: string; Condition: unknown }[]
    }
    expect(policy.Statement).toHaveLength(2)
    expect(policy.Statement.every((s) => s.Action === 'sns:Publish')).toBe(true)
    expect(JSON.stringify(policy)).toContain(`arn:aws:iam::${account.accountId}:role/alerted-function`)
    expect(JSON.stringify(policy)).toContain('cloudwatch.amazonaws.com')
    expect(JSON.stringify(policy)).toContain(
      `arn:aws:cloudwatch:${TEST_REGION}:${account.accountId}:alarm:alerted-*`,
    )
    expect(await emailsOn(topicArn)).toEqual(['a@example.com'])

    // The function reports a run that still fails after Lambda's retries to the topic...
    const invokeConfig = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'alerted' }),
    )
    expect(invokeConfig.DestinationConfig?.OnFailure?.Destination).toBe(topicArn)
    // ...which needs sns:Publish on exactly that topic in its role (Lambda sends as the role).
    const rolePolicy = await clients.iam.send(
      new GetRolePolicyCommand({ RoleName: 'alerted-function', PolicyName: 'alerted-access' }),
    )
    const statements = (
      JSON.parse(decodeURIComponent(rolePolicy.PolicyDocument ?? '')) as {
        Statement: { Action: string | string[]; Resource: string | string[] }[]
      }
    ).Statement.filter((s) => [s.Action].flat().some((a) => a.startsWith('sns:')))
    expect(statements).toEqual([expect.objectContaining({ Action: 'sns:Publish', Resource: topicArn })])

    // The alarms: three by default, each on the topic, each saying what to do next.
    const alarms = await alarmsOf('alerted')
    expect(alarms.map((a) => a.AlarmName).sort()).toEqual([
      'alerted-failed-items',
      'alerted-no-successful-run',
      'alerted-sign-in-needed',
    ])
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([topicArn])
      expect(alarm.AlarmDescription).toMatch(/ Next: /)
      expect(alarm.Namespace).toBe('garmin-s3')
      expect(alarm.Dimensions).toEqual([
        { Name: 'service', Value: 'garmin-s3' },
        { Name: 'Deployment', Value: 'alerted' },
      ])
      const { Tags } = await clients.cloudwatch.send(
        new ListTagsForResourceCommand({ ResourceARN: alarm.AlarmArn }),
      )
      expect(Tags).toContainEqual({ Key: 'managed-by', Value: 'garmin-s3' })
    }
    const signIn = alarms.find((a) => a.AlarmName === 'alerted-sign-in-needed')
    expect(signIn).toMatchObject({ MetricName: 'signInNeeded', Statistic: 'Sum', Threshold: 1 })
    expect(signIn?.AlarmDescription).toContain('run garmin-s3 login, then garmin-s3 deploy')
    const noRun = alarms.find((a) => a.AlarmName === 'alerted-no-successful-run')
    expect(noRun).toMatchObject({ MetricName: 'successes', TreatMissingData: 'breaching' })
    expect((noRun?.Period ?? 0) * (noRun?.EvaluationPeriods ?? 0)).toBe(36 * 3600)
  })

  it('a second deploy makes no write', async () => {
    calls.length = 0
    const result = await run(options('alerted', { emails: ['a@example.com'] }))
    expect(writeCalls(calls)).toEqual([])
    expect(result.changes.filter((c) => c.action !== 'unchanged')).toEqual([])
  })

  it('changing an address updates only the subscriptions', async () => {
    calls.length = 0
    const result = await run(options('alerted', { emails: ['b@example.com'] }))
    expect(writeCalls(calls)).toEqual(['sns:Subscribe', 'sns:Unsubscribe'])
    expect(result.changes.filter((c) => c.action !== 'unchanged')).toEqual([
      expect.objectContaining({
        resource: 'sns-subscriptions',
        action: 'update',
        fields: ['subscribe b@example.com', 'unsubscribe a@example.com'],
      }),
    ])
    expect(await emailsOn(topicArnOf('alerted'))).toEqual(['b@example.com'])
  })

  it('--alert-no-data-days adds the no-new-activity alarm over that many days', async () => {
    calls.length = 0
    await run(options('alerted', { emails: ['b@example.com'], noDataDays: 4 }))
    expect(writeCalls(calls)).toEqual(['cloudwatch:PutMetricAlarm'])
    const alarm = (await alarmsOf('alerted')).find((a) => a.AlarmName === 'alerted-no-new-activity')
    expect(alarm).toMatchObject({
      MetricName: 'created',
      Period: 86_400,
      EvaluationPeriods: 4,
      TreatMissingData: 'notBreaching',
    })
  })

  it('destroy removes the alarms, the destination and the topic it created', async () => {
    await destroy('alerted', { clients, clock: new FakeClock() })
    expect(await alarmsOf('alerted')).toEqual([])
    const { Topics } = await clients.sns.send(new ListTopicsCommand({}))
    expect((Topics ?? []).map((t) => t.TopicArn)).not.toContain(topicArnOf('alerted'))
    await expect(
      clients.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName: 'alerted' })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' })
  })

  it('--alert-topic-arn uses the given topic, changes nothing on it, and destroy keeps it', async () => {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'my-own-alerts' }))
    const given = TopicArn ?? ''
    const before = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: given }))
    calls.length = 0
    const result = await run(options('given', { emails: [], topicArn: given }))
    expect(result.alerts).toMatchObject({ topicArn: given, topicCreatedByDeploy: false })
    expect(writeCalls(calls).filter((c) => c.startsWith('sns:'))).toEqual([])
    const invokeConfig = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'given' }),
    )
    expect(invokeConfig.DestinationConfig?.OnFailure?.Destination).toBe(given)
    expect((await alarmsOf('given')).every((a) => a.AlarmActions?.[0] === given)).toBe(true)

    await destroy('given', { clients, clock: new FakeClock() })
    const after = await clients.sns.send(new GetTopicAttributesCommand({ TopicArn: given }))
    expect(after.Attributes?.Policy).toBe(before.Attributes?.Policy)
    expect(await alarmsOf('given')).toEqual([])
  })

  it('a deploy without alert flags takes the alerts of an earlier deploy off', async () => {
    await run(options('dropped', { emails: ['a@example.com'] }))
    const result = await run(options('dropped', undefined))
    expect(result.alerts).toBeNull()
    expect(await alarmsOf('dropped')).toEqual([])
    const invokeConfig = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'dropped' }),
    )
    expect(invokeConfig.DestinationConfig?.OnFailure?.Destination ?? '').toBe('')
  })

  it('the alarms are the ones alarmSpecs describes', async () => {
    await run(options('described', { emails: ['a@example.com'], noDataDays: 2 }))
    const read = await alarmsOf('described')
    for (const spec of alarmSpecs({ name: 'described', bucket: BUCKET, noDataDays: 2 })) {
      const alarm = read.find((a) => a.AlarmName === spec.AlarmName)
      const { kind: _kind, ...fields } = spec
      expect(alarm).toMatchObject(fields)
    }
  })

  it('status shows the alarm states, the failure destination and the subscriptions; an ALARM is a cause with its next step', async () => {
    await run(options('watched', { emails: ['a@example.com'] }))
    await clients.cloudwatch.send(
      new SetAlarmStateCommand({
        AlarmName: 'watched-sign-in-needed',
        StateValue: 'ALARM',
        StateReason: 'Threshold Crossed: 1 datapoint [1.0] was >= the threshold (1.0).',
      }),
    )
    const report = await gatherStatus(
      { prefix: 'raw-data/garmin-json/', deploymentName: 'watched' },
      {
        store: new MemoryStore(),
        clock: new FakeClock(),
        tokenStore: new MemoryTokenStore(fixtureTokens()),
        aws: clients,
      },
    )
    const alerts = report.deployment.alerts
    expect(alerts).toMatchObject({
      status: 'present',
      failureDestination: topicArnOf('watched'),
      topicArn: topicArnOf('watched'),
      subscriptions: [expect.objectContaining({ endpoint: 'a@example.com' })],
      reason: null,
    })
    expect(Object.fromEntries((alerts?.alarms ?? []).map((a) => [a.kind, a.state]))).toMatchObject({
      'sign-in-needed': 'ALARM',
    })
    const cause = report.health.causes.find((c) => c.code === 'alarm')
    expect(cause).toMatchObject({
      level: 'FAIL',
      next: 'Run garmin-s3 login, then garmin-s3 deploy (your usual flags).',
    })
    expect(cause?.message).toContain('Garmin sign-in expired')
    expect(report.health.verdict).toBe('FAIL')

    const text = renderStatus(report, { color: false })
    expect(text).toContainEqual(expect.stringMatching(/^ {2}on failure +arn:aws:sns:.*:watched-alerts$/))
    expect(text).toContainEqual(expect.stringMatching(/^ {2}alarms {2,}.*sign-in-needed ALARM/))
    expect(text).toContainEqual(expect.stringMatching(/^ {2}emails {2,}a@example\.com/))
  })

  it('status of a deployment without alerts says a failed run reaches nobody', async () => {
    await run(options('silent', undefined))
    const report = await gatherStatus(
      { prefix: 'raw-data/garmin-json/', deploymentName: 'silent' },
      {
        store: new MemoryStore(),
        clock: new FakeClock(),
        tokenStore: new MemoryTokenStore(fixtureTokens()),
        aws: clients,
      },
    )
    expect(report.deployment.alerts).toEqual({
      status: 'absent',
      failureDestination: null,
      topicArn: null,
      subscriptions: null,
      alarms: [],
      reason: null,
    })
    expect(renderStatus(report, { color: false })).toContainEqual(
      expect.stringMatching(/^ {2}alerts {2,}none: a failed run reaches nobody/),
    )
  })

  it('a topic named <name>-alerts that garmin-s3 did not make is refused (exit 2), and destroy leaves it', async () => {
    const { TopicArn } = await clients.sns.send(new CreateTopicCommand({ Name: 'foreign-alerts' }))
    await clients.sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'email', Endpoint: 'theirs@example.com' }),
    )
    calls.length = 0
    await expect(run(options('foreign', { emails: ['a@example.com'] }))).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('sns-topic foreign-alerts'),
    })
    expect(writeCalls(calls)).toEqual([])
    await run(options('foreign', undefined))
    const result = await destroy('foreign', { clients, clock: new FakeClock() })
    expect(result.changes.find((c) => c.resource === 'sns-topic')).toMatchObject({
      action: 'unchanged',
      note: 'absent',
    })
    await expect(clients.sns.send(new GetTopicAttributesCommand({ TopicArn }))).resolves.toBeDefined()
    expect(await emailsOn(TopicArn ?? '')).toEqual(['theirs@example.com'])
    expect(writeCalls(calls).filter((c) => c.startsWith('sns:'))).toEqual([])
  })
})
