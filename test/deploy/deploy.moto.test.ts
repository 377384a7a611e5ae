/**
 * deploy / destroy against moto_server with the real SDK: every resource is read back and checked,
 * a rerun is a no-op, a flag change touches only what it must, destroy leaves only the bucket.
 */
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge'
import { GetRoleCommand, GetRolePolicyCommand, ListAttachedRolePoliciesCommand } from '@aws-sdk/client-iam'
import {
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
} from '@aws-sdk/client-lambda'
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { GetScheduleCommand } from '@aws-sdk/client-scheduler'
import { GetParameterCommand } from '@aws-sdk/client-ssm'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { codeSha256, zipBundle } from '../../src/deploy/bundle.js'
import { type AwsClients, type Change, type DeployOptions, deploy, destroy } from '../../src/deploy/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
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

const BUCKET = 'deploy-test-lake'

function options(name: string, overrides: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({ name, bucket: BUCKET, ...overrides })
}

function actions(changes: Change[]): Record<string, string> {
  return Object.fromEntries(changes.map((c) => [`${c.resource} ${c.name}`, c.action]))
}

describe('deploy against moto', () => {
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
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: 'raw-data/garmin-json/activity_1.json', Body: '{}' }),
    )
    s3.destroy()
  })

  const run = (opts: DeployOptions, dryRun = false) =>
    deploy(opts, { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock: new FakeClock() }, { dryRun })

  it('creates every resource from scratch, and each one reads back as specified', async () => {
    const result = await run(options('fresh'))
    expect(
      result.changes.every((c) => c.action === 'create' || (c.action === 'unchanged' && c.note === 'absent')),
    ).toBe(true)
    const arnBase = `${TEST_REGION}:${account.accountId}`

    // Function: runtime, architecture, handler, environment, code, role.
    const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: 'fresh' }))
    const config = fn.Configuration
    expect(config?.Runtime).toBe('nodejs22.x')
    expect(config?.Architectures).toEqual(['arm64'])
    expect(config?.Handler).toBe('index.handler')
    expect(config?.MemorySize).toBe(256)
    expect(config?.Timeout).toBe(300)
    expect(config?.Role).toBe(`arn:aws:iam::${account.accountId}:role/fresh-function`)
    expect(config?.Environment?.Variables).toEqual({
      BUCKET,
      PREFIX: 'raw-data/garmin-json/',
      TOKEN_PARAMETER: '/fresh/tokens',
      GARMIN_DOMAIN: 'garmin.com',
    })
    expect(config?.CodeSha256).toBe(codeSha256(await zipBundle(FIXTURE_BUNDLE)))
    expect(result.codeSha256).toBe(config?.CodeSha256)
    const concurrency = await clients.lambda.send(
      new GetFunctionConcurrencyCommand({ FunctionName: 'fresh' }),
    )
    expect(concurrency.ReservedConcurrentExecutions).toBe(1)
    const invokeConfig = await clients.lambda.send(
      new GetFunctionEventInvokeConfigCommand({ FunctionName: 'fresh' }),
    )
    expect(invokeConfig).toMatchObject({ MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 })

    // Execution role: trusted by Lambda, no managed policy, inline policy scoped to bucket/prefix/parameter/log group.
    const role = await clients.iam.send(new GetRoleCommand({ RoleName: 'fresh-function' }))
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain('lambda.amazonaws.com')
    const attached = await clients.iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'fresh-function' }),
    )
    expect(attached.AttachedPolicies ?? []).toEqual([])
    const inline = await clients.iam.send(
      new GetRolePolicyCommand({ RoleName: 'fresh-function', PolicyName: 'fresh-access' }),
    )
    const policy = JSON.parse(decodeURIComponent(inline.PolicyDocument ?? '')) as {
      Statement: { Action: string | string[]; Resource: string | string[]; Condition?: unknown }[]
    }
    const byAction = Object.fromEntries(policy.Statement.map((s) => [[s.Action].flat().sort().join(','), s]))
    // The activities' history and tombstones (docs/changes.md) are prefixes of their own.
    expect(byAction['s3:GetObject,s3:PutObject']?.Resource).toEqual([
      `arn:aws:s3:::${BUCKET}/raw-data/garmin-json/*`,
      `arn:aws:s3:::${BUCKET}/raw-data/garmin-json-history/*`,
      `arn:aws:s3:::${BUCKET}/raw-data/garmin-json-deleted/*`,
      `arn:aws:s3:::${BUCKET}/raw-data/_garmin-s3/*`,
    ])
    expect(byAction['s3:ListBucket']?.Resource).toBe(`arn:aws:s3:::${BUCKET}`)
    expect(byAction['s3:ListBucket']?.Condition).toEqual({
      StringLikeIfExists: {
        's3:prefix': [
          'raw-data/garmin-json/*',
          'raw-data/garmin-json-history/*',
          'raw-data/garmin-json-deleted/*',
          'raw-data/_garmin-s3/*',
        ],
      },
    })
    expect(byAction['ssm:GetParameter,ssm:PutParameter']?.Resource).toBe(
      `arn:aws:ssm:${arnBase}:parameter/fresh/tokens`,
    )
    const logGroup = `arn:aws:logs:${arnBase}:log-group:/aws/lambda/fresh`
    expect(byAction['logs:CreateLogGroup,logs:CreateLogStream,logs:PutLogEvents']?.Resource).toEqual([
      logGroup,
      `${logGroup}:*`,
    ])
    const resources = policy.Statement.flatMap((s) => [s.Resource].flat())
    const ours = (r: string) => r.startsWith(`arn:aws:s3:::${BUCKET}/`) || r === `${logGroup}:*`
    expect(resources.some((r) => r.includes('*') && !ours(r))).toBe(false)

    // Token parameter: a SecureString holding the local tokens.
    const parameter = await clients.ssm.send(
      new GetParameterCommand({ Name: '/fresh/tokens', WithDecryption: true }),
    )
    expect(parameter.Parameter?.Type).toBe('SecureString')
    expect(JSON.parse(parameter.Parameter?.Value ?? '')).toEqual(fixtureTokens())

    // Schedule: 6 AM Chicago time, invoking this function through its own narrow role.
    const schedule = await clients.scheduler.send(new GetScheduleCommand({ Name: 'fresh' }))
    expect(schedule.ScheduleExpression).toBe('cron(0 6 * * ? *)')
    expect(schedule.ScheduleExpressionTimezone).toBe('America/Chicago')
    expect(schedule.State).toBe('ENABLED')
    expect(schedule.Target?.Arn).toBe(`arn:aws:lambda:${arnBase}:function:fresh`)
    expect(schedule.Target?.RoleArn).toBe(`arn:aws:iam::${account.accountId}:role/fresh-scheduler`)
    const invoke = await clients.iam.send(
      new GetRolePolicyCommand({ RoleName: 'fresh-scheduler', PolicyName: 'fresh-invoke' }),
    )
    expect(JSON.parse(decodeURIComponent(invoke.PolicyDocument ?? ''))).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Action: 'lambda:InvokeFunction',
          Resource: `arn:aws:lambda:${arnBase}:function:fresh`,
        },
      ],
    })
    const schedulerRole = await clients.iam.send(new GetRoleCommand({ RoleName: 'fresh-scheduler' }))
    expect(decodeURIComponent(schedulerRole.Role?.AssumeRolePolicyDocument ?? '')).toContain(
      'scheduler.amazonaws.com',
    )
  })

  it('a second deploy reports everything unchanged and sends no write at all (no code upload)', async () => {
    await run(options('rerun'))
    calls.length = 0
    const second = await run(options('rerun'))
    expect(second.changes.filter((c) => c.action !== 'unchanged')).toEqual([])
    expect(writeCalls(calls)).toEqual([])
  })

  it('a changed --memory updates only the function configuration', async () => {
    await run(options('memory'))
    calls.length = 0
    const result = await run(options('memory', { memory: 512 }))
    const changed = result.changes.filter((c) => c.action !== 'unchanged')
    expect(changed).toEqual([
      { resource: 'lambda-function', name: 'memory', action: 'update', fields: ['MemorySize'] },
    ])
    expect(writeCalls(calls)).toEqual(['lambda:UpdateFunctionConfiguration'])
    const fn = await clients.lambda.send(new GetFunctionCommand({ FunctionName: 'memory' }))
    expect(fn.Configuration?.MemorySize).toBe(512)
  })

  it('keeps newer tokens that the function rotated into SSM, but pushes a newer local login', async () => {
    await run(options('tokens'))
    const rotated = fixtureTokens({
      refreshToken: 'rotated-by-lambda-0123456789',
      obtainedAt: '2026-11-29T06:00:00.000Z',
    })
    await clients.ssm.send(
      new (await import('@aws-sdk/client-ssm')).PutParameterCommand({
        Name: '/tokens/tokens',
        Type: 'SecureString',
        Value: JSON.stringify(rotated),
        Overwrite: true,
      }),
    )
    const kept = await run(options('tokens'))
    expect(kept.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({ action: 'unchanged' })
    const read = async () =>
      JSON.parse(
        (await clients.ssm.send(new GetParameterCommand({ Name: '/tokens/tokens', WithDecryption: true })))
          .Parameter?.Value ?? '',
      )
    expect((await read()).refreshToken).toBe('rotated-by-lambda-0123456789')

    const relogin = new MemoryTokenStore(
      fixtureTokens({ refreshToken: 'new-login-0123456789', obtainedAt: '2026-12-01T00:00:00.000Z' }),
    )
    const pushed = await deploy(options('tokens'), { clients, tokenStore: relogin, bundle: FIXTURE_BUNDLE })
    expect(pushed.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({
      action: 'update',
      fields: ['tokens (newer local login)'],
    })
    expect((await read()).refreshToken).toBe('new-login-0123456789')
  })

  it('--scheduler rule creates the rule, its target and the invoke permission instead of a schedule', async () => {
    await run(options('viarule'))
    const result = await run(
      options('viarule', { scheduler: 'rule', timezone: 'UTC', schedule: 'cron(0 12 * * ? *)' }),
    )
    expect(actions(result.changes)).toMatchObject({
      'scheduler-schedule viarule': 'delete',
      'iam-role viarule-scheduler': 'delete',
      'events-rule viarule': 'create',
      'events-target viarule/viarule-function': 'create',
      'lambda-permission viarule/viarule-events-rule': 'create',
    })
    const arnBase = `${TEST_REGION}:${account.accountId}`
    const rule = await clients.events.send(new DescribeRuleCommand({ Name: 'viarule' }))
    expect(rule).toMatchObject({ ScheduleExpression: 'cron(0 12 * * ? *)', State: 'ENABLED' })
    const targets = await clients.events.send(new ListTargetsByRuleCommand({ Rule: 'viarule' }))
    expect(targets.Targets?.map((t) => t.Arn)).toEqual([`arn:aws:lambda:${arnBase}:function:viarule`])
    const permission = JSON.parse(
      (await clients.lambda.send(new GetPolicyCommand({ FunctionName: 'viarule' }))).Policy ?? '{}',
    )
    expect(permission.Statement).toEqual([
      expect.objectContaining({
        Sid: 'viarule-events-rule',
        Action: 'lambda:InvokeFunction',
        Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnLike: { 'AWS:SourceArn': `arn:aws:events:${arnBase}:rule/viarule` } },
      }),
    ])
    await expect(clients.scheduler.send(new GetScheduleCommand({ Name: 'viarule' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    })
    const again = await run(
      options('viarule', { scheduler: 'rule', timezone: 'UTC', schedule: 'cron(0 12 * * ? *)' }),
    )
    expect(again.changes.filter((c) => c.action !== 'unchanged')).toEqual([])
  })

  it('destroy removes everything it made, leaves the bucket alone, and a second destroy is a no-op', async () => {
    await run(options('gone'))
    await run(options('gone-rule', { scheduler: 'rule', timezone: 'UTC' }))
    for (const name of ['gone', 'gone-rule']) {
      const result = await destroy(name, { clients })
      expect(result.changes.filter((c) => c.action === 'delete').length).toBeGreaterThan(5)
    }
    const absent = { name: expect.stringMatching(/NotFound|NoSuchEntity/) }
    await expect(clients.lambda.send(new GetFunctionCommand({ FunctionName: 'gone' }))).rejects.toMatchObject(
      absent,
    )
    await expect(
      clients.lambda.send(new GetFunctionCommand({ FunctionName: 'gone-rule' })),
    ).rejects.toMatchObject(absent)
    for (const role of ['gone-function', 'gone-scheduler', 'gone-rule-function']) {
      await expect(clients.iam.send(new GetRoleCommand({ RoleName: role }))).rejects.toMatchObject(absent)
    }
    await expect(clients.ssm.send(new GetParameterCommand({ Name: '/gone/tokens' }))).rejects.toMatchObject({
      name: 'ParameterNotFound',
    })
    await expect(clients.scheduler.send(new GetScheduleCommand({ Name: 'gone' }))).rejects.toMatchObject(
      absent,
    )
    await expect(clients.events.send(new DescribeRuleCommand({ Name: 'gone-rule' }))).rejects.toMatchObject(
      absent,
    )

    calls.length = 0
    const second = await destroy('gone', { clients })
    expect(second.changes.every((c) => c.action === 'unchanged')).toBe(true)
    expect(writeCalls(calls)).toEqual([])

    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET }))
    s3.destroy()
    expect(objects.Contents?.map((o) => o.Key)).toEqual(['raw-data/garmin-json/activity_1.json'])
  })

  it('--dry-run prints a plan of creates on an empty account and sends only reads', async () => {
    calls.length = 0
    const result = await run(options('planned'), true)
    expect(result.dryRun).toBe(true)
    expect(actions(result.changes)).toMatchObject({
      'iam-role planned-function': 'create',
      'ssm-parameter /planned/tokens': 'create',
      'lambda-function planned': 'create',
      'scheduler-schedule planned': 'create',
      'events-rule planned': 'unchanged',
    })
    expect(writeCalls(calls)).toEqual([])
    await expect(
      clients.lambda.send(new GetFunctionCommand({ FunctionName: 'planned' })),
    ).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    })
  })
})
