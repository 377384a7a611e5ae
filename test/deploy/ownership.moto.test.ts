/**
 * Issue 19 §3 on moto: deploy and destroy never change or delete same-named resources that garmin-s3
 * did not make for this deployment. In front of untagged look-alikes they exit 2 and leave IAM, Lambda,
 * Scheduler and SSM exactly as they were; with --adopt they list the foreign policies they detach.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
} from '@aws-sdk/client-iam'
import { ListFunctionsCommand } from '@aws-sdk/client-lambda'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler'
import {
  DescribeParametersCommand,
  GetParametersByPathCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest'
import Deploy from '../../src/commands/deploy.js'
import Destroy from '../../src/commands/destroy.js'
import type { AwsClients } from '../../src/deploy/index.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { type CommandRun, runCommand } from '../helpers/command.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import { FIXTURE_BUNDLE, fixtureTokens, freshMotoAccount, MemoryTokenStore, motoClients } from './helpers.js'

const BUCKET = 'ownership-lake'
const ADMIN = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
})
const LAMBDA_TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
})

class TestDeploy extends Deploy {
  protected override tokenStore(): TokenStore {
    return new MemoryTokenStore(fixtureTokens())
  } /** The fixture tokens are unknown to Garmin; nothing here may call it. */
  protected override async checkTokens(): Promise<void> {}
}

/** Never the token file of the machine running the tests. */
class TestDestroy extends Destroy {
  protected override tokenStore(): TokenStore {
    return new MemoryTokenStore(fixtureTokens())
  }
}

function run(command: 'deploy' | 'destroy', argv: string[]): Promise<CommandRun> {
  return runCommand(command === 'deploy' ? TestDeploy : TestDestroy, argv)
}

/** Everything a deployment could touch, read back in a comparable form. */
async function snapshot(clients: AwsClients): Promise<unknown> {
  const { Roles = [] } = await clients.iam.send(new ListRolesCommand({}))
  const roles = []
  for (const role of Roles.sort((a, b) => (a.RoleName ?? '').localeCompare(b.RoleName ?? ''))) {
    const RoleName = role.RoleName ?? ''
    const inline = (await clients.iam.send(new ListRolePoliciesCommand({ RoleName }))).PolicyNames ?? []
    const documents = []
    for (const PolicyName of inline) {
      const out = await clients.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }))
      documents.push([PolicyName, decodeURIComponent(out.PolicyDocument ?? '')])
    }
    const attached = await clients.iam.send(new ListAttachedRolePoliciesCommand({ RoleName }))
    const tags = await clients.iam.send(new ListRoleTagsCommand({ RoleName }))
    roles.push({
      RoleName,
      trust: decodeURIComponent(role.AssumeRolePolicyDocument ?? ''),
      documents,
      attached: attached.AttachedPolicies?.map((p) => p.PolicyArn),
      tags: tags.Tags,
    })
  }
  const functions = (await clients.lambda.send(new ListFunctionsCommand({}))).Functions?.map((f) => ({
    name: f.FunctionName,
    role: f.Role,
  }))
  const schedules = (await clients.scheduler.send(new ListSchedulesCommand({}))).Schedules?.map((s) => s.Name)
  const parameters = (await clients.ssm.send(new DescribeParametersCommand({}))).Parameters?.map((p) => ({
    name: p.Name,
    version: p.Version,
  }))
  const values = (
    await clients.ssm.send(
      new GetParametersByPathCommand({ Path: '/', Recursive: true, WithDecryption: true }),
    )
  ).Parameters?.map((p) => [p.Name, p.Value])
  return { roles, functions, schedules, parameters, values }
}

/** A hand-made `<name>-function` role with an inline `Action: *` and an attached admin policy. */
async function lookalikeRole(iam: IAMClient, name: string, policyArn: string): Promise<void> {
  const RoleName = `${name}-function`
  await iam.send(new CreateRoleCommand({ RoleName, AssumeRolePolicyDocument: LAMBDA_TRUST }))
  await iam.send(new PutRolePolicyCommand({ RoleName, PolicyName: 'hand-made', PolicyDocument: ADMIN }))
  await iam.send(new AttachRolePolicyCommand({ RoleName, PolicyArn: policyArn }))
}

describe('resources deploy did not make', () => {
  let clients: AwsClients
  let tmp: string
  let adminArn: string

  beforeAll(async () => {
    const endpoint = inject('motoEndpoint')
    const account = await freshMotoAccount(endpoint)
    ;({ clients } = motoClients(endpoint, account))
    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    s3.destroy()
    const policy = await clients.iam.send(
      new CreatePolicyCommand({ PolicyName: 'admin-everything', PolicyDocument: ADMIN }),
    )
    adminArn = policy.Policy?.Arn ?? ''
    tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-ownership-'))
    const bundle = join(tmp, 'index.mjs')
    await writeFile(bundle, FIXTURE_BUNDLE)
    vi.stubEnv('AWS_ENDPOINT_URL', endpoint)
    vi.stubEnv('AWS_REGION', TEST_REGION)
    vi.stubEnv('AWS_ACCESS_KEY_ID', account.credentials.accessKeyId)
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', account.credentials.secretAccessKey)
    vi.stubEnv('AWS_SESSION_TOKEN', account.credentials.sessionToken)
    vi.stubEnv('GARMIN_S3_LAMBDA_BUNDLE', bundle)
  })

  afterAll(async () => {
    vi.unstubAllEnvs()
    await rm(tmp, { recursive: true, force: true })
  })

  it('deploy and destroy refuse untagged look-alikes with exit 2 and change nothing; --adopt lists and takes them', async () => {
    await lookalikeRole(clients.iam, 'lookalike', adminArn)
    await clients.ssm.send(
      new PutParameterCommand({ Name: '/lookalike/tokens', Value: 'mine', Type: 'String' }),
    )
    const before = await snapshot(clients)

    for (const argv of [
      ['deploy', '--bucket', BUCKET, '--name', 'lookalike'],
      ['deploy', '--bucket', BUCKET, '--name', 'lookalike', '--dry-run'],
      ['destroy', '--name', 'lookalike', '--yes'],
      ['destroy', '--name', 'lookalike', '--dry-run'],
    ] as const) {
      const [command, ...rest] = argv
      const refused = await run(command, rest)
      expect(refused.exitCode, argv.join(' ')).toBe(2)
      expect(refused.stderr).toContain('not tagged managed-by=garmin-s3 for the deployment "lookalike"')
      expect(refused.stderr).toContain(
        'iam-role lookalike-function (policies: hand-made (inline), admin-everything)',
      )
      expect(refused.stderr).toContain('ssm-parameter /lookalike/tokens')
      expect(refused.stderr).toContain('--adopt')
      expect(await snapshot(clients), argv.join(' ')).toEqual(before)
    }

    const adopted = await run('deploy', ['--bucket', BUCKET, '--name', 'lookalike', '--adopt'])
    expect(adopted.exitCode).toBe(0)
    expect(adopted.stdout).toMatch(
      /update +iam-role +lookalike-function \(adopted \(--adopt\).*detaches foreign policies: hand-made \(inline\), admin-everything\)/,
    )
    expect(adopted.stdout).toMatch(/update +ssm-parameter +\/lookalike\/tokens \(adopted \(--adopt\)/)
    const role = { RoleName: 'lookalike-function' }
    expect((await clients.iam.send(new ListRolePoliciesCommand(role))).PolicyNames).toEqual([
      'lookalike-access',
    ])
    expect((await clients.iam.send(new ListAttachedRolePoliciesCommand(role))).AttachedPolicies).toEqual([])
    expect((await clients.iam.send(new ListRoleTagsCommand(role))).Tags).toEqual(
      expect.arrayContaining([
        { Key: 'managed-by', Value: 'garmin-s3' },
        { Key: 'garmin-s3:deployment', Value: 'lookalike' },
      ]),
    )

    // Now ours: a rerun changes nothing, and destroy removes it without --adopt.
    const again = await run('deploy', ['--bucket', BUCKET, '--name', 'lookalike', '--dry-run'])
    expect(again.stdout).toContain('0 to create, 0 to update, 0 to delete')
    const gone = await run('destroy', ['--name', 'lookalike', '--yes'])
    expect(gone.exitCode).toBe(0)
  })

  it('a role tagged for another deployment is foreign too', async () => {
    await lookalikeRole(clients.iam, 'other', adminArn)
    await clients.iam.send(
      new TagRoleCommand({
        RoleName: 'other-function',
        Tags: [
          { Key: 'managed-by', Value: 'garmin-s3' },
          { Key: 'garmin-s3:deployment', Value: 'someone-else' },
        ],
      }),
    )
    const before = await snapshot(clients)
    const refused = await run('deploy', ['--bucket', BUCKET, '--name', 'other'])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain('iam-role other-function')
    expect(await snapshot(clients)).toEqual(before)
  })

  it('destroy --adopt plans and deletes a look-alike, listing its foreign policies in both runs', async () => {
    await lookalikeRole(clients.iam, 'gone', adminArn)
    const plan = await run('destroy', ['--name', 'gone', '--adopt', '--dry-run'])
    const real = await run('destroy', ['--name', 'gone', '--adopt', '--yes'])
    const line =
      /delete +iam-role +gone-function \(detaches foreign policies: hand-made \(inline\), admin-everything\)/
    expect(plan.exitCode).toBe(0)
    expect(plan.stdout).toMatch(line)
    expect(real.exitCode).toBe(0)
    expect(real.stdout).toMatch(line)
    const roles = (await clients.iam.send(new ListRolesCommand({}))).Roles?.map((r) => r.RoleName)
    expect(roles).not.toContain('gone-function')
  })
})
