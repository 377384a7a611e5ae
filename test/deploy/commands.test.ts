/**
 * `garmin-s3 deploy` and `destroy` as a user runs them, in process against moto: the real client
 * factory (so AWS_ENDPOINT_URL alone must route every call to the emulator), human and --json output,
 * exit codes, and destroy's confirmation rules.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import Deploy from '../../src/commands/deploy.js'
import Destroy from '../../src/commands/destroy.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { type CommandRun, runCommand } from '../helpers/command.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import { FIXTURE_BUNDLE, fixtureTokens, freshMotoAccount, MemoryTokenStore } from './helpers.js'

let tmp: string
let tokens: MemoryTokenStore
let terminal = { interactive: false, answer: 'n', asked: [] as string[] }

class TestDeploy extends Deploy {
  protected override tokenStore(): TokenStore {
    return tokens
  } /** The fixture tokens are unknown to Garmin; nothing here may call it. */
  protected override async checkTokens(): Promise<void> {}
}
class TestDestroy extends Destroy {
  protected override tokenStore(): TokenStore {
    return tokens
  }
  protected override interactive(): boolean {
    return terminal.interactive
  }
  protected override async confirm(question: string): Promise<boolean> {
    terminal.asked.push(question)
    return terminal.answer === 'y'
  }
}

function run(command: 'deploy' | 'destroy', argv: string[]): Promise<CommandRun> {
  return runCommand(command === 'deploy' ? TestDeploy : TestDestroy, argv)
}

function changesOf(run: CommandRun): { action: string }[] {
  return (run.json?.changes ?? []) as { action: string }[]
}

describe('deploy and destroy commands', () => {
  let accountId: string
  let credentials: () => { accessKeyId: string; secretAccessKey: string; sessionToken: string }

  beforeAll(async () => {
    tokens = new MemoryTokenStore(fixtureTokens())
    tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-deploy-cli-'))
    const bundle = join(tmp, 'index.mjs')
    await writeFile(bundle, FIXTURE_BUNDLE)
    const account = await freshMotoAccount(inject('motoEndpoint'))
    accountId = account.accountId
    credentials = () => account.credentials
    const s3 = testS3Client(inject('motoEndpoint'), { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: 'cli-lake' }))
    s3.destroy()
    // Nothing but the SDK's standard variables points the real clients at moto.
    vi.stubEnv('AWS_ENDPOINT_URL', inject('motoEndpoint'))
    vi.stubEnv('AWS_REGION', TEST_REGION)
    vi.stubEnv('AWS_ACCESS_KEY_ID', account.credentials.accessKeyId)
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', account.credentials.secretAccessKey)
    vi.stubEnv('AWS_SESSION_TOKEN', account.credentials.sessionToken)
    vi.stubEnv('GARMIN_S3_LAMBDA_BUNDLE', bundle)
  })

  afterEach(() => {
    tokens = new MemoryTokenStore(fixtureTokens())
    terminal = { interactive: false, answer: 'n', asked: [] }
  })

  afterAll(async () => {
    vi.unstubAllEnvs()
    await rm(tmp, { recursive: true, force: true })
  })

  it('deploys through AWS_ENDPOINT_URL, then a --dry-run shows every resource unchanged', async () => {
    const first = await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli', '--json'])
    expect(first.exitCode).toBe(0)
    expect(first.json).toMatchObject({
      name: 'cli',
      accountId,
      region: TEST_REGION,
      dryRun: false,
      functionArn: `arn:aws:lambda:${TEST_REGION}:${accountId}:function:cli`,
      trigger: { kind: 'schedule', expression: 'cron(0 6 * * ? *)', timezone: 'America/Chicago' },
    })
    expect(changesOf(first).filter((c) => c.action === 'create')).toHaveLength(9)

    const plan = await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli', '--dry-run'])
    expect(plan.exitCode).toBe(0)
    expect(plan.stdout).toMatch(/^ {2}unchanged +lambda-function +cli$/m)
    expect(plan.stdout).toContain(
      'Plan: 0 to create, 0 to update, 0 to delete, 9 unchanged. Nothing was changed (--dry-run).',
    )
    expect(plan.stdout).toContain('Runs cron(0 6 * * ? *) in America/Chicago (EventBridge Scheduler "cli").')
  })

  it('deploy --alert-email (repeatable) says to confirm the subscription; --json carries the alerts', async () => {
    const args = ['--bucket', 'cli-lake', '--name', 'cli-alerts', '--alert-email', 'a@example.com']
    const human = await run('deploy', [
      ...args,
      '--alert-email',
      'b@example.com',
      '--alert-no-data-days',
      '3',
    ])
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^ {2}create +sns-topic +cli-alerts-alerts$/m)
    expect(human.stdout).toMatch(/^ {2}create +cloudwatch-alarm +cli-alerts-sign-in-needed$/m)
    expect(human.stdout).toContain(
      `Alerts: 4 alarms and the failure destination on arn:aws:sns:${TEST_REGION}:${accountId}:cli-alerts-alerts.`,
    )
    expect(human.stdout).toContain(
      'Confirm the subscription in your inbox: AWS sends a link to a@example.com, b@example.com',
    )
    const json = await run('deploy', [...args, '--json'])
    expect(json.exitCode).toBe(0)
    expect(json.json?.alerts).toMatchObject({
      topicArn: `arn:aws:sns:${TEST_REGION}:${accountId}:cli-alerts-alerts`,
      topicCreatedByDeploy: true,
      emails: ['a@example.com'],
      alarms: ['cli-alerts-sign-in-needed', 'cli-alerts-no-successful-run', 'cli-alerts-failed-items'],
      failureDestination: `arn:aws:sns:${TEST_REGION}:${accountId}:cli-alerts-alerts`,
    })
  })

  it('refuses alert flags that cannot work with exit 2 and a next step, before any AWS call', async () => {
    const base = ['--bucket', 'cli-lake', '--name', 'cli-alert-bad']
    const cases: [string[], string][] = [
      [['--alert-email', 'not-an-address'], '--alert-email "not-an-address" is not an email address'],
      [
        [
          '--alert-email',
          'a@example.com',
          '--alert-topic-arn',
          `arn:aws:sns:${TEST_REGION}:123456789012:mine`,
        ],
        '--alert-email and --alert-topic-arn cannot be combined',
      ],
      [
        ['--alert-topic-arn', 'arn:aws:sns:us-east-1:123456789012:mine.fifo'],
        'is not the ARN of a standard SNS topic',
      ],
      [['--alert-no-data-days', '3'], '--alert-no-data-days needs somewhere to send the alarm'],
      [['--alert-email', 'a@example.com', '--alert-no-data-days', '8'], 'must be a whole number from 1 to 7'],
      [
        ['--alert-topic-arn', 'arn:aws:sns:eu-west-1:123456789012:mine'],
        `is in eu-west-1, the function in ${TEST_REGION}`,
      ],
    ]
    for (const [flags, message] of cases) {
      const refused = await run('deploy', [...base, ...flags])
      expect({ flags, exitCode: refused.exitCode }).toEqual({ flags, exitCode: 2 })
      expect(refused.stderr).toContain(message)
    }
    const left = await run('destroy', ['--name', 'cli-alert-bad', '--dry-run', '--json'])
    expect(changesOf(left).filter((c) => c.action === 'delete')).toEqual([])
  })

  it('refuses the deprecated nodejs20.x runtime and a deploy without a local login', async () => {
    const runtime = await run('deploy', [
      '--bucket',
      'cli-lake',
      '--name',
      'cli-bad',
      '--runtime',
      'nodejs20.x',
    ])
    expect(runtime.exitCode).toBe(2)
    expect(runtime.stderr).toContain(
      'Error: --runtime nodejs20.x is deprecated by AWS Lambda and is not supported',
    )

    tokens = new MemoryTokenStore(undefined)
    const noLogin = await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli-bad'])
    expect(noLogin.exitCode).toBe(3)
    expect(noLogin.stderr).toContain('run garmin-s3 login first')
  })

  it("refuses to hand a simulator's tokens to a deployment in AWS (exit 2), before any AWS client exists", async () => {
    // If the check regressed, the factory fails the run: nothing may reach out for a real AWS.
    class NoAws extends TestDeploy {
      protected override awsClientFactory = (): never => {
        throw new Error('no AWS client may be made')
      }
    }
    vi.stubEnv('AWS_ENDPOINT_URL', undefined)
    vi.stubEnv('GARMIN_S3_GARMIN_URL', 'http://127.0.0.1:9')
    try {
      for (const argv of [[], ['--dry-run'], ['--json']]) {
        const refused = await runCommand(NoAws, ['--bucket', 'cli-lake', '--name', 'cli-sim', ...argv])
        expect(refused.exitCode).toBe(2)
        const said = refused.json ? JSON.stringify(refused.json) : refused.stderr
        expect(said).toContain('GARMIN_S3_GARMIN_URL is set (http://127.0.0.1:9)')
        expect(said).toContain('garmin-s3 login')
      }
    } finally {
      vi.stubEnv('AWS_ENDPOINT_URL', inject('motoEndpoint'))
      vi.stubEnv('GARMIN_S3_GARMIN_URL', undefined)
    }
  })

  it('refuses a bucket that does not exist with exit 2 and the aws s3 mb hint, creating nothing', async () => {
    const missing = await run('deploy', ['--bucket', 'no-such-bucket', '--name', 'cli-nobucket'])
    expect(missing.exitCode).toBe(2)
    expect(missing.stderr).toContain('Bucket no-such-bucket does not exist')
    expect(missing.stderr).toContain(`aws s3 mb s3://no-such-bucket --region ${TEST_REGION}`)
    const left = await run('destroy', ['--name', 'cli-nobucket', '--dry-run', '--json'])
    expect(changesOf(left).filter((c) => c.action === 'delete')).toEqual([])
  })

  it('refuses a bucket in another region than the deploy (exit 2), naming its region and the flags to use, creating nothing', async () => {
    const accountClients = testS3Client(inject('motoEndpoint'), { credentials: credentials() })
    await accountClients.send(
      new CreateBucketCommand({
        Bucket: 'cli-lake-eu',
        CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
      }),
    )
    accountClients.destroy()
    const elsewhere = await run('deploy', ['--bucket', 'cli-lake-eu', '--name', 'cli-eu', '--dry-run'])
    expect(elsewhere.exitCode).toBe(2)
    expect(elsewhere.stderr).toContain(`Bucket cli-lake-eu is in eu-west-1, not in ${TEST_REGION}`)
    expect(elsewhere.stderr).toContain('--region eu-west-1')
    expect(elsewhere.stderr).toContain('--bucket-region eu-west-1')
    const wrong = await run('deploy', [
      '--bucket',
      'cli-lake-eu',
      '--name',
      'cli-eu',
      '--bucket-region',
      'eu-central-1',
      '--dry-run',
    ])
    expect([wrong.exitCode, wrong.stderr]).toEqual([2, expect.stringContaining('--bucket-region eu-west-1')])
    // Said where it is, the function may live elsewhere.
    const told = await run('deploy', [
      '--bucket',
      'cli-lake-eu',
      '--name',
      'cli-eu',
      '--bucket-region',
      'eu-west-1',
      '--dry-run',
    ])
    expect(told.exitCode, told.stderr).toBe(0)
    const left = await run('destroy', ['--name', 'cli-eu', '--dry-run', '--json'])
    expect(changesOf(left).filter((c) => c.action === 'delete')).toEqual([])
  })

  it('accepts --yes, which scripts pass to both deploy and destroy', async () => {
    const yes = await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli', '--yes', '--dry-run'])
    expect(yes.exitCode).toBe(0)
    expect(yes.stdout).toContain('Nothing was changed (--dry-run).')
  })

  it('destroy asks first: no terminal and no --yes is a usage error, a "no" removes nothing', async () => {
    await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli-ask', '--json'])

    const noTty = await run('destroy', ['--name', 'cli-ask'])
    expect(noTty.exitCode).toBe(2)
    expect(noTty.stderr).toContain('-> Rerun with --yes')

    terminal.interactive = true
    terminal.answer = 'n'
    const declined = await run('destroy', ['--name', 'cli-ask'])
    expect(declined.exitCode).toBe(2)
    expect(terminal.asked).toEqual([
      `Remove the garmin-s3 deployment "cli-ask" from account ${accountId} (${TEST_REGION})? [y/N]`,
    ])
    const still = await run('destroy', ['--name', 'cli-ask', '--dry-run', '--json'])
    expect(changesOf(still).filter((c) => c.action === 'delete')).toHaveLength(9)
  })

  it('destroy --yes removes the deployment, and a second run says there is nothing to remove', async () => {
    await run('deploy', ['--bucket', 'cli-lake', '--name', 'cli-gone', '--json'])

    const removed = await run('destroy', ['--name', 'cli-gone', '--yes', '--json'])
    expect(removed.exitCode).toBe(0)
    expect(changesOf(removed).filter((c) => c.action === 'delete')).toHaveLength(9)

    const again = await run('destroy', ['--name', 'cli-gone', '--yes'])
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toBe(
      `Nothing to remove: no garmin-s3 deployment named "cli-gone" in ${TEST_REGION}.`,
    )
  })
})
