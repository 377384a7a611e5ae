/**
 * `init github-actions --create-role` against moto_server with the real SDK: GitHub's OIDC provider,
 * a role only one repository branch can assume, the least-privilege policy, the tokens in SSM, the
 * workflow pointing at that role. A rerun sends no write call; --dry-run sends none either.
 */
import { mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListOpenIDConnectProvidersCommand,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { GetParameterCommand } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { AwsClients } from '../../src/deploy/index.js'
import { type PolicyDocument, parsePolicy } from '../../src/deploy/policy.js'
import {
  fixtureTokens,
  freshMotoAccount,
  MemoryTokenStore,
  type MotoAccount,
  motoClients,
  type RecordedCall,
  writeCalls,
} from '../deploy/helpers.js'
import { runInit } from './command.js'
import { expectValidWorkflow, readWorkflow } from './helpers.js'

const FILE = '.github/workflows/garmin-s3-sync.yml'

describe('init github-actions --create-role against moto', () => {
  const endpoint = inject('motoEndpoint')
  let account: MotoAccount
  let inspect: AwsClients
  let calls: RecordedCall[] = []
  let repo: string
  const tokens = new MemoryTokenStore(fixtureTokens())
  const aws = () => {
    const made = motoClients(endpoint, account)
    calls = made.calls
    return made.clients
  }
  const argv = (...extra: string[]) => [
    '--bucket',
    'gha-lake',
    '--create-role',
    '--repo',
    'octocat/garmin-data',
    '--timezone',
    'America/Chicago',
    '--dir',
    repo,
    '--json',
    ...extra,
  ]

  beforeAll(async () => {
    account = await freshMotoAccount(endpoint)
    inspect = motoClients(endpoint, account).clients
    repo = await mkdtemp(join(tmpdir(), 'garmin-s3-gha-role-'))
    await mkdir(join(repo, '.git'))
  })

  afterAll(async () => {
    for (const client of Object.values(inspect)) client.destroy()
    await rm(repo, { recursive: true, force: true })
  })

  const roleArn = () => `arn:aws:iam::${account.accountId}:role/garmin-s3-github`
  const providerArn = () =>
    `arn:aws:iam::${account.accountId}:oidc-provider/token.actions.githubusercontent.com`

  it('refuses without a local login (exit 3) and creates nothing', async () => {
    const run = await runInit(argv(), { tokens: new MemoryTokenStore(undefined), aws })
    expect(run.exitCode).toBe(3)
    expect((run.json?.error as { message?: string } | undefined)?.message).toContain(
      'run garmin-s3 login first',
    )
    const providers = await inspect.iam.send(new ListOpenIDConnectProvidersCommand({}))
    expect(providers.OpenIDConnectProviderList ?? []).toEqual([])
  })

  it('--dry-run plans every resource and the file, and writes nothing anywhere', async () => {
    const run = await runInit(argv('--dry-run'), { tokens, aws })
    expect(run.exitCode).toBe(0)
    expect(run.json?.changes).toEqual([
      expect.objectContaining({
        resource: 'iam-oidc-provider',
        name: 'token.actions.githubusercontent.com',
        action: 'create',
      }),
      expect.objectContaining({ resource: 'iam-role', name: 'garmin-s3-github', action: 'create' }),
      expect.objectContaining({
        resource: 'iam-role-policy',
        name: 'garmin-s3-github/garmin-s3-access',
        action: 'create',
      }),
      expect.objectContaining({ resource: 'ssm-parameter', name: '/garmin-s3/tokens', action: 'create' }),
      expect.objectContaining({ resource: 'workflow-file', name: FILE, action: 'create' }),
    ])
    expect(writeCalls(calls).filter((c) => !c.startsWith('sts:'))).toEqual([])
    expect(run.json?.workflow).toContain(`role-to-assume: ${roleArn()}`)
    await expect(stat(join(repo, '.github'))).rejects.toThrow(/ENOENT/)
  })

  it('creates the provider, a role only octocat/garmin-data main can assume, the policy and the tokens', async () => {
    const run = await runInit(argv(), { tokens, aws })
    expect(run.exitCode).toBe(0)
    expect(run.json).toMatchObject({
      file: 'create',
      roleArn: roleArn(),
      region: 'us-east-1',
      tokenParameter: '/garmin-s3/tokens',
      github: {
        repo: 'octocat/garmin-data',
        branch: 'main',
        subject: 'repo:octocat/garmin-data:ref:refs/heads/main',
        providerArn: providerArn(),
      },
    })

    const provider = await inspect.iam.send(
      new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: providerArn() }),
    )
    expect(provider.Url).toBe('token.actions.githubusercontent.com')
    expect(provider.ClientIDList).toEqual(['sts.amazonaws.com'])

    const { Role } = await inspect.iam.send(new GetRoleCommand({ RoleName: 'garmin-s3-github' }))
    const trust = parsePolicy(Role?.AssumeRolePolicyDocument) as PolicyDocument
    expect(trust.Statement).toHaveLength(1)
    expect(trust.Statement[0]).toEqual({
      Effect: 'Allow',
      Principal: { Federated: providerArn() },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com',
          'token.actions.githubusercontent.com:sub': 'repo:octocat/garmin-data:ref:refs/heads/main',
        },
      },
    })

    const inline = await inspect.iam.send(
      new GetRolePolicyCommand({ RoleName: 'garmin-s3-github', PolicyName: 'garmin-s3-access' }),
    )
    const policy = parsePolicy(inline.PolicyDocument) as PolicyDocument
    const list = (v: string | string[] | undefined) => (v === undefined ? [] : Array.isArray(v) ? v : [v])
    const actions = policy.Statement.flatMap((s) => list(s.Action))
    const resources = policy.Statement.flatMap((s) => list(s.Resource))
    expect(policy.Statement.every((s) => s.Effect === 'Allow')).toBe(true)
    expect(actions.sort()).toEqual([
      's3:GetObject',
      's3:ListBucket',
      's3:PutObject',
      'ssm:GetParameter',
      'ssm:PutParameter',
    ])
    expect(resources.sort()).toEqual([
      'arn:aws:s3:::gha-lake',
      'arn:aws:s3:::gha-lake/raw-data/_garmin-s3/*',
      // The workflow's sync follows edits: history and tombstones beside the data (docs/changes.md).
      'arn:aws:s3:::gha-lake/raw-data/garmin-json-deleted/*',
      'arn:aws:s3:::gha-lake/raw-data/garmin-json-history/*',
      'arn:aws:s3:::gha-lake/raw-data/garmin-json/*',
      `arn:aws:ssm:us-east-1:${account.accountId}:parameter/garmin-s3/tokens`,
    ])
    expect(actions.some((a) => a.includes('*'))).toBe(false)

    const parameter = await inspect.ssm.send(
      new GetParameterCommand({ Name: '/garmin-s3/tokens', WithDecryption: true }),
    )
    expect(parameter.Parameter?.Type).toBe('SecureString')
    expect(JSON.parse(parameter.Parameter?.Value ?? '')).toEqual(fixtureTokens())

    const text = await readFile(join(repo, FILE), 'utf8')
    expectValidWorkflow(text)
    const steps = readWorkflow(text).jobs.sync?.steps ?? []
    expect(steps[0]?.with).toEqual({ 'role-to-assume': roleArn(), 'aws-region': 'us-east-1' })
    // No secret reaches the output or the file.
    for (const secret of [fixtureTokens().accessToken, fixtureTokens().refreshToken]) {
      expect(run.stdout).not.toContain(secret)
      expect(text).not.toContain(secret)
    }
  })

  it('a rerun changes nothing: every resource and the file unchanged, no write call', async () => {
    const run = await runInit(argv(), { tokens, aws })
    expect(run.exitCode).toBe(0)
    expect(((run.json?.changes ?? []) as { action: string }[]).map((c) => c.action)).toEqual([
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
      'unchanged',
    ])
    expect(writeCalls(calls).filter((c) => !c.startsWith('sts:'))).toEqual([])
  })

  it('a rotated token in SSM is kept; another branch updates only the trust policy', async () => {
    const human = await runInit(
      argv('--branch', 'trunk').filter((a) => a !== '--json'),
      {
        tokens: new MemoryTokenStore(fixtureTokens({ obtainedAt: '2026-01-01T00:00:00.000Z' })),
        aws,
      },
    )
    expect(human.exitCode).toBe(0)
    expect(human.stdout).toMatch(/^ {2}unchanged +iam-oidc-provider +token\.actions\.githubusercontent\.com/m)
    expect(human.stdout).toMatch(/^ {2}update +iam-role +garmin-s3-github \(trust policy\)$/m)
    expect(human.stdout).toMatch(/^ {2}unchanged +ssm-parameter +\/garmin-s3\/tokens \(kept: /m)
    expect(writeCalls(calls).filter((c) => !c.startsWith('sts:'))).toEqual(['iam:UpdateAssumeRolePolicy'])
    const { Role } = await inspect.iam.send(new GetRoleCommand({ RoleName: 'garmin-s3-github' }))
    const trust = parsePolicy(Role?.AssumeRolePolicyDocument) as PolicyDocument
    expect(trust.Statement[0]?.Condition?.StringEquals?.['token.actions.githubusercontent.com:sub']).toBe(
      'repo:octocat/garmin-data:ref:refs/heads/trunk',
    )
  })

  it('refuses a hand-made role of the same name with exit 2 and changes nothing; --adopt takes it', async () => {
    const RoleName = 'lookalike-github'
    await inspect.iam.send(
      new CreateRoleCommand({
        RoleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }],
        }),
      }),
    )
    await inspect.iam.send(
      new PutRolePolicyCommand({
        RoleName,
        PolicyName: 'hand-made',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
        }),
      }),
    )
    const common = ['--name', 'lookalike', '--force']
    const refused = await runInit(
      argv(...common).filter((a) => a !== '--json'),
      { tokens, aws },
    )
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain('iam-role lookalike-github (policies: hand-made (inline))')
    expect(writeCalls(calls).filter((c) => !c.startsWith('sts:'))).toEqual([])

    const adopted = await runInit(
      argv(...common, '--adopt').filter((a) => a !== '--json'),
      { tokens, aws },
    )
    expect(adopted.exitCode).toBe(0)
    expect(adopted.stdout).toMatch(/detaches foreign policies: hand-made \(inline\)/)
    const { PolicyNames } = await inspect.iam.send(new ListRolePoliciesCommand({ RoleName }))
    expect(PolicyNames).toEqual(['lookalike-access'])
  })
})
