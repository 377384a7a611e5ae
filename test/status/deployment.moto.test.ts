/**
 * The deployment block against moto after a real `deploy`: function, schedule (with the next runs
 * across the DST change of 14 March 2027 in America/Chicago), token parameter and the tokens in it;
 * an EventBridge rule deployment; and the ways reading it can fail (nothing deployed, access denied,
 * no credentials), none of which may crash status.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch'
import { EventBridgeClient, PutRuleCommand } from '@aws-sdk/client-eventbridge'
import { LambdaClient } from '@aws-sdk/client-lambda'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { SchedulerClient } from '@aws-sdk/client-scheduler'
import { SNSClient } from '@aws-sdk/client-sns'
import { SSMClient } from '@aws-sdk/client-ssm'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { type AwsClients, type DeployOptions, deploy } from '../../src/deploy/index.js'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import { checkDeployment } from '../../src/status/deployment.js'
import { gatherStatus, type StatusAwsClients } from '../../src/status/index.js'
import { renderStatus } from '../../src/status/render.js'
import {
  deployOptions,
  FIXTURE_BUNDLE,
  freshMotoAccount,
  MemoryTokenStore,
  motoClients,
} from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { startCannedS3, testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import { PREFIX, tokensRotatedAt } from './helpers.js'

const BUCKET = 'status-deploy-lake'

/** The clients status uses, on any endpoint and credentials. */
function statusClients(config: {
  endpoint: string
  credentials: { accessKeyId: string; secretAccessKey: string } | (() => Promise<never>)
}): StatusAwsClients {
  const base = { region: TEST_REGION, maxAttempts: 1, ...config }
  return {
    lambda: new LambdaClient(base),
    scheduler: new SchedulerClient(base),
    events: new EventBridgeClient(base),
    ssm: new SSMClient(base),
    sns: new SNSClient(base),
    cloudwatch: new CloudWatchClient(base),
  }
}
const MARCH_12_2027 = Date.UTC(2027, 2, 12, 18, 0, 0)

function options(name: string, overrides: Partial<DeployOptions> = {}): DeployOptions {
  return deployOptions({ name, bucket: BUCKET, prefix: PREFIX, ...overrides })
}

describe('the deployment block against moto', () => {
  const endpoint = inject('motoEndpoint')
  let clients: AwsClients
  const rotatedAt = Date.UTC(2026, 10, 20, 6, 0, 0)
  const tokenStore = new MemoryTokenStore(tokensRotatedAt(rotatedAt))

  beforeAll(async () => {
    const account = await freshMotoAccount(endpoint)
    ;({ clients } = motoClients(endpoint, account))
    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    s3.destroy()
    const deps = { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock: new FakeClock() }
    await deploy(options('status-daily'), deps)
    // What `deploy --scheduler rule` makes for the trigger (the rest of it is the same as above).
    await clients.events.send(
      new PutRuleCommand({
        Name: 'status-rule',
        ScheduleExpression: 'cron(30 5 ? * MON-FRI *)',
        State: 'ENABLED',
      }),
    )
  }, 60_000)

  it('reads back what deploy made, with the next runs right across the DST change', async () => {
    const { deployment, tokens } = await checkDeployment('status-daily', clients, MARCH_12_2027)
    expect(deployment).toMatchObject({ name: 'status-daily', checked: true, deployed: true, reason: null })
    expect(deployment.function).toMatchObject({
      status: 'present',
      name: 'status-daily',
      runtime: 'nodejs22.x',
      bucket: BUCKET,
      prefix: PREFIX,
    })
    expect(Date.parse(deployment.function?.lastModified ?? '')).toBeGreaterThan(Date.now() - 600_000)
    expect(deployment.schedule).toEqual({
      status: 'present',
      kind: 'schedule',
      name: 'status-daily',
      expression: 'cron(0 6 * * ? *)',
      timezone: 'America/Chicago',
      enabled: true,
      nextRuns: [
        { at: '2027-03-13T12:00:00.000Z', local: '2027-03-13 06:00 CST' },
        { at: '2027-03-14T11:00:00.000Z', local: '2027-03-14 06:00 CDT' },
        { at: '2027-03-15T11:00:00.000Z', local: '2027-03-15 06:00 CDT' },
      ],
      reason: null,
    })
    expect(deployment.tokenParameter).toMatchObject({ status: 'present', name: '/status-daily/tokens' })
    expect(Date.parse(deployment.tokenParameter?.lastModified ?? '')).toBeGreaterThan(Date.now() - 600_000)
    // The tokens the function uses: dates only.
    expect(tokens).toEqual({
      location: 'ssm:/status-daily/tokens',
      status: 'present',
      displayName: 'runner_1',
      accessTokenExpiresAt: new Date(rotatedAt + 86_400_000).toISOString(),
      refreshTokenRotatedAt: new Date(rotatedAt).toISOString(),
      obtainedAt: new Date(rotatedAt).toISOString(),
      reason: null,
      next: null,
    })
    expect(JSON.stringify(tokens)).not.toContain('fixture-0123456789')
  })

  it('a rule deployment runs in UTC', async () => {
    const { deployment } = await checkDeployment('status-rule', clients, MARCH_12_2027)
    expect(deployment.schedule).toMatchObject({
      status: 'present',
      kind: 'rule',
      expression: 'cron(30 5 ? * MON-FRI *)',
      timezone: 'UTC',
      enabled: true,
      nextRuns: [
        { at: '2027-03-15T05:30:00.000Z', local: '2027-03-15 05:30 UTC' },
        { at: '2027-03-16T05:30:00.000Z', local: '2027-03-16 05:30 UTC' },
        { at: '2027-03-17T05:30:00.000Z', local: '2027-03-17 05:30 UTC' },
      ],
    })
  })

  it('nothing deployed under a name is "not deployed", not an error', async () => {
    const { deployment, tokens } = await checkDeployment('status-never', clients, MARCH_12_2027)
    expect(deployment).toMatchObject({ checked: true, deployed: false })
    expect(deployment.reason).toMatch(/nothing deployed under the name "status-never"/)
    expect(deployment.function?.status).toBe('absent')
    expect(deployment.schedule?.status).toBe('absent')
    expect(deployment.tokenParameter?.status).toBe('absent')
    expect(tokens).toBeNull()
  })

  it('the deployed tokens are the ones judged: an old refresh token in SSM is a WARN', async () => {
    const report = await gatherStatus(
      { prefix: PREFIX, deploymentName: 'status-daily' },
      {
        store: new MemoryStore(),
        clock: new FakeClock(rotatedAt + 25 * 86_400_000),
        // A fresh local login does not hide the function's aging token.
        tokenStore: new MemoryTokenStore(tokensRotatedAt(rotatedAt + 24 * 86_400_000)),
        aws: clients,
      },
    )
    const old = report.health.causes.find((c) => c.code === 'refresh-token-old')
    expect(old?.message).toContain('ssm:/status-daily/tokens')
    expect(old?.next).toMatch(/garmin-s3 deploy --name status-daily/)
    expect(report.tokens.deployed?.status).toBe('present')
  })

  it('a local file that points at the deployment is one token chain: one Tokens line, named via the file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-status-pointer-'))
    try {
      const file = join(dir, 'tokens.json')
      const local = new FileTokenStore(file, { openSsm: (name) => new SsmTokenStore(name, clients.ssm) })
      // What deploy leaves behind once it moved the local session into the parameter.
      await local.pointTo('ssm:/status-daily/tokens', TEST_REGION)
      const report = await gatherStatus(
        { prefix: PREFIX, deploymentName: 'status-daily' },
        { store: new MemoryStore(), clock: new FakeClock(rotatedAt), tokenStore: local, aws: clients },
      )
      expect(report.tokens.local).toMatchObject({
        location: `ssm:/status-daily/tokens (via ${file})`,
        status: 'present',
      })
      const lines = renderStatus(report, { color: false })
      const at = lines.findIndex((line) => line.startsWith('Tokens'))
      expect(lines[at]).toMatch(
        new RegExp(`^Tokens {7}ssm:/status-daily/tokens \\(via ${file}\\), the deployment's: access token`),
      )
      // No second line for the parameter: the blank line before Health follows.
      expect(lines[at + 1]).toBe('')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})

describe('when AWS will not tell', () => {
  it('access denied on every read: each part is "unknown", status goes on', async () => {
    const denied = await startCannedS3(() => ({
      status: 403,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
      body: JSON.stringify({ __type: 'AccessDeniedException', message: 'User is not authorized' }),
    }))
    const clients = statusClients({
      endpoint: denied.endpoint,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    })
    try {
      const { deployment, tokens } = await checkDeployment('garmin-s3', clients, MARCH_12_2027)
      expect(deployment).toMatchObject({ checked: true, deployed: null })
      expect(deployment.function).toMatchObject({
        status: 'unknown',
        reason: expect.stringMatching(/access denied/),
      })
      expect(deployment.schedule).toMatchObject({
        status: 'unknown',
        reason: expect.stringMatching(/access denied/),
      })
      expect(deployment.tokenParameter).toMatchObject({
        status: 'unknown',
        reason: expect.stringMatching(/access denied/),
      })
      expect(deployment.alerts).toMatchObject({
        status: 'unknown',
        alarms: [],
        subscriptions: null,
        reason: expect.stringMatching(/access denied/),
      })
      expect(tokens).toBeNull()
    } finally {
      for (const client of Object.values(clients)) client.destroy()
      await denied.close()
    }
  })

  it('no AWS credentials at all: the deployment is "not checked"', async () => {
    // What the SDK's default chain throws on a machine without any AWS configuration.
    const noCredentials = async (): Promise<never> => {
      const error = new Error('Could not load credentials from any providers')
      error.name = 'CredentialsProviderError'
      throw error
    }
    const clients = statusClients({ endpoint: 'http://127.0.0.1:9', credentials: noCredentials })
    try {
      const report = await gatherStatus(
        { prefix: PREFIX, deploymentName: 'garmin-s3' },
        { store: new MemoryStore(), tokenStore: new MemoryTokenStore(undefined), aws: clients },
      )
      expect(report.deployment).toMatchObject({
        checked: false,
        deployed: null,
        reason: 'no AWS credentials: deployment not checked',
        function: null,
      })
      expect(report.health.verdict).toBe('FAIL') // nothing synced: the verdict is still given
    } finally {
      for (const client of Object.values(clients)) client.destroy()
    }
  })
})
