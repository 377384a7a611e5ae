/**
 * Shared by the deploy tests: SDK clients bound to a fresh moto account, a recorder of the commands
 * each client sends, an in-memory token store, and a stand-in bundle (deploy only zips and uploads it).
 */
import { randomInt } from 'node:crypto'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { EventBridgeClient } from '@aws-sdk/client-eventbridge'
import { IAMClient } from '@aws-sdk/client-iam'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { S3Client } from '@aws-sdk/client-s3'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SNSClient } from '@aws-sdk/client-sns'
import { SSMClient } from '@aws-sdk/client-ssm'
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts'
import { type AwsClients, DEFAULT_SCHEDULE, type DeployOptions } from '../../src/deploy/index.js'
import type { FunctionWaiters } from '../../src/deploy/retry.js'
import type { StoredTokens, TokenStore } from '../../src/garmin/types.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'

/** Deploy options as the flags' defaults give them, for the bucket `my-lake`. */
export function deployOptions(overrides: Partial<DeployOptions> = {}): DeployOptions {
  return {
    name: 'garmin-s3',
    bucket: 'my-lake',
    prefix: 'raw-data/garmin-json/',
    controlPrefix: 'raw-data/_garmin-s3/',
    runtime: 'nodejs22.x',
    memory: 256,
    timeout: 300,
    schedule: DEFAULT_SCHEDULE,
    timezone: 'America/Chicago',
    scheduler: 'schedule',
    ...overrides,
  }
}

/** One client per AWS service deploy uses, all built from `config`. */
export function awsClients(config: {
  region: string
  endpoint?: string
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
}): AwsClients {
  return {
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    scheduler: new SchedulerClient(config),
    events: new EventBridgeClient(config),
    ssm: new SSMClient(config),
    sts: new STSClient(config),
    sns: new SNSClient(config),
    cloudwatch: new CloudWatchClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  }
}

export const FIXTURE_BUNDLE = new TextEncoder().encode('export const handler = async () => ({ ok: true })\n')

export function fixtureTokens(overrides: Partial<StoredTokens> = {}): StoredTokens {
  return {
    version: 1,
    domain: 'garmin.com',
    clientId: 'GARMIN_CONNECT_MOBILE_ANDROID_DI_2025Q2',
    accessToken: 'access-token-fixture-0123456789',
    refreshToken: 'refresh-token-fixture-0123456789',
    expiresAt: '2026-11-29T12:00:00.000Z',
    displayName: 'runner_1',
    obtainedAt: '2026-11-28T12:00:00.000Z',
    ...overrides,
  }
}

export class MemoryTokenStore implements TokenStore {
  readonly location = 'memory:tokens'
  constructor(public tokens: StoredTokens | undefined) {}
  async load() {
    return this.tokens
  }
  async save(tokens: StoredTokens) {
    this.tokens = tokens
  }
  async clear() {
    this.tokens = undefined
  }
}

export interface MotoAccount {
  accountId: string
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string }
}

/** moto keeps one world per account: assuming a role in a random account isolates a test file. */
export async function freshMotoAccount(endpoint: string): Promise<MotoAccount> {
  const accountId = String(randomInt(100_000_000_000, 999_999_999_999))
  const sts = new STSClient({ region: TEST_REGION, endpoint, credentials: TEST_CREDENTIALS })
  const out = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::${accountId}:role/test`,
      RoleSessionName: 'deploy-tests',
    }),
  )
  sts.destroy()
  const c = out.Credentials
  if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken)
    throw new Error('moto AssumeRole gave no credentials')
  return {
    accountId,
    credentials: {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
    },
  }
}

export interface RecordedCall {
  client: keyof AwsClients
  command: string
}

/** The one middleware shape we add; the SDK's own types differ per client. */
interface RecordingStack {
  add(
    middleware: (
      next: (args: unknown) => Promise<unknown>,
      context: { commandName?: string },
    ) => (args: unknown) => Promise<unknown>,
    options: { step: 'initialize'; name: string },
  ): void
}

/** Clients for one moto account that also record every command they send. */
export function motoClients(
  endpoint: string,
  account: MotoAccount,
): { clients: AwsClients; calls: RecordedCall[] } {
  const calls: RecordedCall[] = []
  const clients = awsClients({ region: TEST_REGION, endpoint, credentials: account.credentials })
  for (const [key, client] of Object.entries(clients) as [keyof AwsClients, { middlewareStack: unknown }][]) {
    const stack = client.middlewareStack as RecordingStack
    stack.add(
      (next, context) => async (args) => {
        calls.push({ client: key, command: String(context.commandName).replace(/Command$/, '') })
        return next(args)
      },
      { step: 'initialize', name: 'recordCommands' },
    )
  }
  return { clients, calls }
}

const READ_ONLY = /^(Get|List|Describe|Head)/
export function writeCalls(calls: RecordedCall[]): string[] {
  return calls.filter((c) => !READ_ONLY.test(c.command)).map((c) => `${c.client}:${c.command}`)
}

/** Waiters that resolve at once (moto applies every change synchronously). */
export const immediateWaiters: FunctionWaiters = { active: async () => {}, updated: async () => {} }
