/**
 * What an emulator will not produce, with aws-sdk-client-mock: IAM propagation delays, a function
 * busy with an update, a schedule someone else created, access denied; and the --dry-run guarantee.
 */

import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge'
import {
  CreateRoleCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
} from '@aws-sdk/client-iam'
import {
  CreateFunctionCommand,
  type FunctionConfiguration,
  GetFunctionCommand,
  type GetFunctionCommandOutput,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  InvokeCommand,
  type InvokeCommandOutput,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { CreateScheduleCommand, GetScheduleCommand, UpdateScheduleCommand } from '@aws-sdk/client-scheduler'
import { GetParameterCommand, ListTagsForResourceCommand } from '@aws-sdk/client-ssm'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import { type AwsStub, mockClient } from 'aws-sdk-client-mock'
import { beforeEach, describe, expect, it, onTestFinished, vi } from 'vitest'
import Deploy from '../../src/commands/deploy.js'
import { codeSha256, zipBundle } from '../../src/deploy/bundle.js'
import { type AwsClients, deploy, destroy, invokeOnce, resourceNames } from '../../src/deploy/index.js'
import { functionEnvironment } from '../../src/deploy/resources.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { runCommand } from '../helpers/command.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { awsClients, deployOptions, FIXTURE_BUNDLE, fixtureTokens, MemoryTokenStore } from './helpers.js'

const ACCOUNT = '123456789012'
const REGION = 'us-east-1'
const FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:unit`

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: status } })
}

const OPTIONS = deployOptions({ name: 'unit' })

// biome-ignore lint/suspicious/noExplicitAny: the stubs of six different clients share one map
type Stub = AwsStub<any, any, any>
type Mocks = Record<keyof AwsClients, Stub>

/** An empty account: every read answers "not found", every write succeeds. */
function emptyAccount(): { clients: AwsClients; mocks: Mocks } {
  const clients = awsClients({ region: REGION, credentials: { accessKeyId: 'a', secretAccessKey: 'b' } })
  const mocks = Object.fromEntries(
    Object.entries(clients).map(([key, client]) => [key, mockClient(client) as Stub]),
  ) as Mocks
  for (const mock of Object.values(mocks)) mock.onAnyCommand().resolves({})
  const iamMissing = awsError('NoSuchEntityException', 'The role cannot be found.', 404)
  mocks.iam
    .on(GetRoleCommand)
    .rejects(iamMissing)
    .on(GetRolePolicyCommand)
    .rejects(iamMissing)
    .on(ListAttachedRolePoliciesCommand)
    .rejects(iamMissing)
    .on(ListRolePoliciesCommand)
    .rejects(iamMissing)
  const lambdaMissing = awsError('ResourceNotFoundException', 'Function not found', 404)
  mocks.lambda
    .on(GetFunctionCommand)
    .rejects(lambdaMissing)
    .on(GetFunctionConcurrencyCommand)
    .rejects(lambdaMissing)
    .on(GetFunctionEventInvokeConfigCommand)
    .rejects(lambdaMissing)
    .on(GetPolicyCommand)
    .rejects(lambdaMissing)
  mocks.scheduler
    .on(GetScheduleCommand)
    .rejects(awsError('ResourceNotFoundException', 'Schedule not found', 404))
  const ruleMissing = awsError('ResourceNotFoundException', 'Rule does not exist')
  mocks.events.on(DescribeRuleCommand).rejects(ruleMissing).on(ListTargetsByRuleCommand).rejects(ruleMissing)
  mocks.ssm.on(GetParameterCommand).rejects(awsError('ParameterNotFound', 'ParameterNotFound'))
  mocks.sts
    .on(GetCallerIdentityCommand)
    .resolves({ Account: ACCOUNT, Arn: `arn:aws:iam::${ACCOUNT}:user/me` })
  return { clients, mocks }
}

/** The SDK hands back a Uint8Array with helper methods; a plain one is all invokeOnce reads. */
function payload(value: unknown): InvokeCommandOutput['Payload'] {
  return new TextEncoder().encode(JSON.stringify(value)) as InvokeCommandOutput['Payload']
}

const READ_ONLY = /^(Get|List|Describe|Head)/
function writesSent(mocks: Mocks): string[] {
  return Object.entries(mocks).flatMap(([key, mock]) =>
    mock
      .calls()
      .map((call) => (call.args[0] as object).constructor.name.replace(/Command$/, ''))
      .filter((name) => !READ_ONLY.test(name))
      .map((name) => `${key}:${name}`),
  )
}

/** The function as deploy would leave it, so tests can change one thing at a time. */
async function deployedFunction(
  overrides: Partial<FunctionConfiguration> = {},
): Promise<Omit<GetFunctionCommandOutput, '$metadata'>> {
  const sha = codeSha256(await zipBundle(FIXTURE_BUNDLE))
  return {
    Configuration: {
      FunctionName: 'unit',
      CodeSha256: sha,
      Runtime: 'nodejs22.x',
      Handler: 'index.handler',
      MemorySize: 256,
      Timeout: 300,
      Role: `arn:aws:iam::${ACCOUNT}:role/unit-function`,
      Architectures: ['arm64'],
      Environment: {
        Variables: functionEnvironment(
          { options: OPTIONS, tokens: fixtureTokens(), zip: new Uint8Array(), codeSha256: sha },
          resourceNames('unit'),
        ),
      },
      State: 'Active',
      LastUpdateStatus: 'Successful',
      ...overrides,
    },
    Tags: { 'managed-by': 'garmin-s3', 'garmin-s3:deployment': 'unit' },
  }
}

describe('deploy with mocked AWS clients', () => {
  let clients: AwsClients
  let mocks: Mocks
  let clock: FakeClock
  const tokenStore = new MemoryTokenStore(fixtureTokens())
  const run = (options = OPTIONS, dryRun = false) =>
    deploy(options, { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock }, { dryRun })

  beforeEach(() => {
    ;({ clients, mocks } = emptyAccount())
    clock = new FakeClock()
  })

  it('retries CreateFunction while the new role cannot be assumed yet, then succeeds', async () => {
    const notYet = awsError(
      'InvalidParameterValueException',
      'The role defined for the function cannot be assumed by Lambda.',
    )
    mocks.lambda
      .on(CreateFunctionCommand)
      .rejectsOnce(notYet)
      .rejectsOnce(notYet)
      .resolves({ FunctionArn: FUNCTION_ARN })
    // First read: absent; then the SDK waiter sees it Active.
    mocks.lambda
      .on(GetFunctionCommand)
      .rejectsOnce(awsError('ResourceNotFoundException', 'Function not found', 404))
      .resolves(await deployedFunction())

    const result = await run()

    expect(mocks.lambda.commandCalls(CreateFunctionCommand)).toHaveLength(3)
    expect(clock.sleeps).toEqual([2000, 4000])
    expect(result.changes.find((c) => c.resource === 'lambda-function')?.action).toBe('create')
    const input = mocks.lambda.commandCalls(CreateFunctionCommand)[0]?.args[0].input
    expect(input).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'], Handler: 'index.handler' })
  })

  it('waits for an update in progress (SDK waiter) and retries the configuration change', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction({ MemorySize: 128 }))
    mocks.lambda
      .on(UpdateFunctionConfigurationCommand)
      .rejectsOnce(
        awsError('ResourceConflictException', `An update is in progress for resource: ${FUNCTION_ARN}`, 409),
      )
      .resolves({})

    const result = await run()

    expect(result.changes.find((c) => c.resource === 'lambda-function')).toMatchObject({
      action: 'update',
      fields: ['MemorySize'],
    })
    expect(mocks.lambda.commandCalls(UpdateFunctionConfigurationCommand)).toHaveLength(2)
    expect(mocks.lambda.commandCalls(UpdateFunctionCodeCommand)).toHaveLength(0)
    // The read, the wait after the conflict, the wait after the update.
    expect(mocks.lambda.commandCalls(GetFunctionCommand).length).toBeGreaterThanOrEqual(3)
  })

  it('uploads new code, waits for it, then updates the configuration', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction({ CodeSha256: 'old', Timeout: 60 }))

    await run()

    const order = mocks.lambda
      .calls()
      .map((c) => (c.args[0] as object).constructor.name)
      .filter((n) => /UpdateFunction|GetFunctionCommand/.test(n))
    expect(order.slice(1)).toEqual([
      'UpdateFunctionCodeCommand',
      'GetFunctionCommand',
      'UpdateFunctionConfigurationCommand',
      'GetFunctionCommand',
    ])
    const code = mocks.lambda.commandCalls(UpdateFunctionCodeCommand)[0]?.args[0].input
    expect(code?.ZipFile).toEqual(await zipBundle(FIXTURE_BUNDLE))
  })

  it('updates a schedule that already exists instead of failing', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction())
    mocks.scheduler.on(GetScheduleCommand).resolves({
      Name: 'unit',
      Description: 'garmin-s3: runs unit',
      ScheduleExpression: 'cron(0 12 * * ? *)',
      State: 'ENABLED',
      Target: { Arn: FUNCTION_ARN, RoleArn: `arn:aws:iam::${ACCOUNT}:role/unit-scheduler` },
    })

    const result = await run()

    expect(result.changes.find((c) => c.resource === 'scheduler-schedule')).toMatchObject({
      action: 'update',
      fields: ['ScheduleExpression', 'ScheduleExpressionTimezone'],
    })
    expect(mocks.scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0)
    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)[0]?.args[0].input).toMatchObject({
      Name: 'unit',
      ScheduleExpression: 'cron(0 6 * * ? *)',
      ScheduleExpressionTimezone: 'America/Chicago',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: { Arn: FUNCTION_ARN, RoleArn: `arn:aws:iam::${ACCOUNT}:role/unit-scheduler` },
    })
  })

  it('turns a schedule created meanwhile (ConflictException on create) into an update', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction())
    mocks.scheduler
      .on(CreateScheduleCommand)
      .rejects(awsError('ConflictException', 'Schedule unit already exists.', 409))

    await run()

    expect(mocks.scheduler.commandCalls(UpdateScheduleCommand)).toHaveLength(1)
  })

  it('explains access denied with the step that failed, exit code 1', async () => {
    mocks.iam
      .on(CreateRoleCommand)
      .rejects(
        awsError(
          'AccessDenied',
          'User: arn:aws:iam::123456789012:user/me is not authorized to perform: iam:CreateRole',
          403,
        ),
      )

    const error = await run().catch((e: unknown) => e)

    expect(error).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(
        /^AWS denied access while trying to create iam-role unit-function: .*iam:CreateRole/,
      ),
      hint: expect.stringContaining('--profile'),
    })
    expect(writesSent(mocks)).toEqual(['iam:CreateRole'])
  })

  it('destroy denied iam:ListRoles (a policy from before it looked for GitHub roles) stops before deleting anything, exit 1, naming the action', async () => {
    mocks.ssm
      .on(GetParameterCommand)
      .resolves({ Parameter: { Type: 'SecureString', Value: JSON.stringify(fixtureTokens()) } })
      .on(ListTagsForResourceCommand)
      .resolves({
        TagList: [
          { Key: 'managed-by', Value: 'garmin-s3' },
          { Key: 'garmin-s3:deployment', Value: 'unit' },
          { Key: 'garmin-s3:created-by', Value: 'deploy' },
        ],
      })
    mocks.iam
      .on(ListRolesCommand)
      .rejects(
        awsError(
          'AccessDenied',
          'User: arn:aws:iam::123456789012:user/me is not authorized to perform: iam:ListRoles',
          403,
        ),
      )
    const error = await destroy('unit', { clients }).catch((e: unknown) => e)
    expect(error).toMatchObject({
      exitCode: 1,
      message: expect.stringMatching(
        /^AWS denied access while trying to read ssm-parameter \/unit\/tokens: .*iam:ListRoles/,
      ),
      hint: expect.stringContaining('docs/iam.md'),
    })
    expect(writesSent(mocks)).toEqual([])
  })

  it('a first deploy that stops halfway names what exists and how to complete or remove it', async () => {
    mocks.lambda
      .on(CreateFunctionCommand)
      .rejects(awsError('CodeStorageExceededException', 'Code storage limit exceeded.'))

    const error = await run().catch((e: unknown) => e)

    expect(error).toMatchObject({
      exitCode: 1,
      message: expect.stringContaining(
        'It stopped halfway; these exist now: iam-role unit-function, iam-role-policy unit-function/unit-access, ssm-parameter /unit/tokens',
      ),
      hint: expect.stringContaining(
        'Rerun the same deploy to complete it, or remove what exists with garmin-s3 destroy --name unit.',
      ),
    })
    expect((error as Error).message.split('exist now:')[1]).not.toContain('lambda-function')
  })

  it('--dry-run reads everything and sends no write call, even when things differ', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction({ MemorySize: 1024 }))

    const result = await run(OPTIONS, true)

    expect(writesSent(mocks)).toEqual([])
    expect(result.dryRun).toBe(true)
    expect(result.changes.find((c) => c.resource === 'lambda-function')).toMatchObject({ action: 'update' })
    expect(result.changes.find((c) => c.resource === 'iam-role')).toMatchObject({ action: 'create' })
  })

  it('a bucket in another region answers HeadBucket with a 301: exit 2 naming its region, nothing written', async () => {
    // An S3 client without followRegionRedirects (a library caller's own) sees the redirect itself.
    const redirect = Object.assign(awsError('301', 'UnknownError', 301), {
      $response: { statusCode: 301, headers: { 'x-amz-bucket-region': 'ap-southeast-2' } },
    })
    mocks.s3.on(HeadBucketCommand).rejects(redirect)
    const error = await run().catch((e: unknown) => e)
    expect(error).toMatchObject({
      exitCode: 2,
      message: 'Bucket my-lake is in ap-southeast-2, not in us-east-1 where the function would run',
      hint: expect.stringContaining('--region ap-southeast-2'),
    })
    expect(writesSent(mocks)).toEqual([])
  })

  it('refuses to deploy without local tokens, before any AWS call', async () => {
    const error = await deploy(OPTIONS, {
      clients,
      tokenStore: new MemoryTokenStore(undefined),
      bundle: FIXTURE_BUNDLE,
    }).catch((e: unknown) => e)

    expect(error).toMatchObject({
      exitCode: 3,
      message: expect.stringContaining('run garmin-s3 login first'),
    })
    expect(Object.values(mocks).flatMap((m) => m.calls())).toHaveLength(0)
  })

  it('--invoke returns the report, and a function error becomes a clear failure', async () => {
    const report = { runId: 'r1', created: 3, existing: 10, failed: 0, partial: false }
    mocks.lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, Payload: payload(report) })
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({ errorMessage: 'Garmin refused the refresh token' }),
      })

    await expect(invokeOnce(clients, 'unit')).resolves.toEqual({ statusCode: 200, report })
    await expect(invokeOnce(clients, 'unit')).rejects.toMatchObject({
      exitCode: 1,
      message: 'The test run of unit failed: Garmin refused the refresh token',
    })
    expect(mocks.lambda.commandCalls(InvokeCommand)[0]?.args[0].input).toMatchObject({
      FunctionName: 'unit',
      InvocationType: 'RequestResponse',
    })
  })

  it("a failing --invoke keeps the completed deploy in the result, with the run's error, its exit code and where to look", async () => {
    mocks.lambda
      .on(GetFunctionCommand)
      .rejectsOnce(awsError('ResourceNotFoundException', 'Function not found', 404))
      .resolves(await deployedFunction())
    mocks.lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({
        errorType: 'Error',
        errorMessage: 'garmin-s3 sync failed (exit 3): Garmin refused the refresh token (invalid_grant)',
        trace: ['Error: garmin-s3 sync failed (exit 3)', '    at handler (file:///var/task/index.mjs:1:1)'],
      }),
    })

    const result = await deploy(
      OPTIONS,
      { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock },
      { invoke: true },
    )

    expect(result.changes.find((c) => c.resource === 'lambda-function')?.action).toBe('create')
    expect(result.invoke).toEqual({
      statusCode: 200,
      error: {
        type: 'Error',
        message: 'garmin-s3 sync failed (exit 3): Garmin refused the refresh token (invalid_grant)',
        exitCode: 3,
        hint: expect.stringContaining('aws logs tail /aws/lambda/unit --since 1h --region us-east-1'),
      },
    })
    const error = result.invoke && 'error' in result.invoke ? result.invoke.error : undefined
    expect(error?.hint).toContain('garmin-s3 login')
    expect(error?.hint).toContain('garmin-s3 status')
  })

  it('deploy --invoke as a user runs it: the summary says the deploy completed, stderr the failed run and its next step, exit 3', async () => {
    mocks.lambda.on(GetFunctionCommand).resolves(await deployedFunction())
    mocks.lambda.on(InvokeCommand).resolves({
      StatusCode: 200,
      FunctionError: 'Unhandled',
      Payload: payload({ errorType: 'Error', errorMessage: 'garmin-s3 sync failed (exit 3): invalid_grant' }),
    })
    const mocked = clients
    class MockedDeploy extends Deploy {
      protected override awsClientFactory = () => mocked
      protected override tokenStore(): TokenStore {
        return tokenStore
      }
      protected override async checkTokens(): Promise<void> {}
    }
    const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-invoke-'))
    onTestFinished(() => rm(dir, { recursive: true, force: true }))
    await writeFile(join(dir, 'index.mjs'), FIXTURE_BUNDLE)
    vi.stubEnv('GARMIN_S3_LAMBDA_BUNDLE', join(dir, 'index.mjs'))
    onTestFinished(() => {
      vi.unstubAllEnvs()
    })
    const argv = ['--name', 'unit', '--bucket', 'my-lake', '--invoke']

    const human = await runCommand(MockedDeploy, argv)
    expect(human.exitCode).toBe(3)
    expect(human.stdout).toContain('Deployed: every resource is in place. The test run (--invoke) failed:')
    expect(human.stdout).toContain('Function unit in us-east-1')
    expect(human.stderr.split('\n')).toEqual([
      'Error: the deploy of "unit" completed, but its test run failed (Error): garmin-s3 sync failed (exit 3): invalid_grant',
      expect.stringMatching(
        /^ {2}-> Garmin needs a new sign-in: garmin-s3 login .*aws logs tail \/aws\/lambda\/unit/,
      ),
    ])

    const json = await runCommand(MockedDeploy, [...argv, '--json'])
    expect(json.exitCode).toBe(3)
    expect(json.json).toMatchObject({
      name: 'unit',
      changes: expect.any(Array),
      invoke: {
        error: { type: 'Error', exitCode: 3, message: 'garmin-s3 sync failed (exit 3): invalid_grant' },
      },
    })
  })

  it('a function error without a message names Lambda\'s error kind, never just "Handled"', async () => {
    mocks.lambda
      .on(InvokeCommand)
      .resolvesOnce({ StatusCode: 200, FunctionError: 'Handled', Payload: payload({}) })
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({
          errorType: 'Sandbox.Timedout',
          errorMessage: 'Task timed out after 300.00 seconds',
        }),
      })
    const first = await invokeOnce(clients, 'unit').catch((e: unknown) => e)
    expect(first).toMatchObject({
      exitCode: 1,
      message:
        'The test run of unit failed: Lambda reported a handled error (FunctionError "Handled") without a message',
    })
    await expect(invokeOnce(clients, 'unit')).rejects.toMatchObject({
      failure: { errorType: 'Sandbox.Timedout' },
      message: 'The test run of unit failed: Sandbox.Timedout: Task timed out after 300.00 seconds',
    })
  })

  it('--invoke right after creating the roles retries a run denied while IAM propagates', async () => {
    mocks.lambda
      .on(GetFunctionCommand)
      .rejectsOnce(awsError('ResourceNotFoundException', 'Function not found', 404))
      .resolves(await deployedFunction())
    mocks.lambda
      .on(InvokeCommand)
      .resolvesOnce({
        StatusCode: 200,
        FunctionError: 'Unhandled',
        Payload: payload({
          errorMessage: 'Cannot read the SSM parameter /unit/tokens (AccessDeniedException).',
        }),
      })
      .resolves({ StatusCode: 200, Payload: payload({ runId: 'r2', created: 1 }) })

    const result = await deploy(
      OPTIONS,
      { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock },
      { invoke: true },
    )

    expect(result.invoke).toEqual({ statusCode: 200, report: { runId: 'r2', created: 1 } })
    expect(clock.sleeps).toEqual([10_000])
  })
})
