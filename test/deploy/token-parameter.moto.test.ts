/**
 * The token parameter on moto: one token chain per deployment, and destroy deletes only a parameter
 * deploy made for that deployment and nothing else still uses. A second deployment never receives a
 * copy of the first one's session; a parameter from `login --token-store ssm:...`, or one the GitHub
 * Actions set-up (`<name>-github` role) refreshes, stays where it is.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  GetRoleCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import {
  AddTagsToResourceCommand,
  GetParameterCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
} from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type AwsClients, deploy, destroy } from '../../src/deploy/index.js'
import { destroySummary } from '../../src/deploy/render.js'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import { ensureGitHubRole } from '../../src/github/role.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import {
  deployOptions,
  FIXTURE_BUNDLE,
  fixtureTokens,
  freshMotoAccount,
  type MotoAccount,
  motoClients,
  type RecordedCall,
  writeCalls,
} from './helpers.js'

const BUCKET = 'token-parameter-lake'

describe('the token parameter: one chain per deployment, deleted only when deploy made it', () => {
  const endpoint = inject('motoEndpoint')
  let account: MotoAccount
  let clients: AwsClients
  let calls: RecordedCall[]
  let tmp: string

  beforeAll(async () => {
    account = await freshMotoAccount(endpoint)
    ;({ clients, calls } = motoClients(endpoint, account))
    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
    s3.destroy()
    tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-token-parameter-'))
  })
  afterAll(async () => {
    await rm(tmp, { recursive: true, force: true })
  })

  /** A local token file holding a fresh login, whose pointer (once deploy writes one) opens moto. */
  async function localLogin(file: string): Promise<FileTokenStore> {
    const store = new FileTokenStore(join(tmp, file), {
      openSsm: (name) => new SsmTokenStore(name, clients.ssm),
    })
    await store.save(fixtureTokens())
    return store
  }
  const run = (
    name: string,
    tokenStore: FileTokenStore | SsmTokenStore,
    flags: { dryRun?: boolean; keepLocal?: boolean } = {},
  ) =>
    deploy(
      deployOptions({ name, bucket: BUCKET }),
      { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock: new FakeClock() },
      flags,
    )
  const parameter = (name: string) =>
    clients.ssm
      .send(new GetParameterCommand({ Name: `/${name}/tokens`, WithDecryption: true }))
      .then((out) => out.Parameter?.Value)
      .catch((error: Error) => error.name)

  it('a second deployment from the same sign-in is refused (exit 2) and gets no copy of the session; a redeploy of the first still works', async () => {
    const local = await localLogin('two-deployments.json')
    const first = await run('chain-a', local)
    expect(first.session).toBe('move')
    const pointer = await readFile(local.path, 'utf8')

    calls.length = 0
    const second = await run('chain-b', local).catch((e: unknown) => e)
    expect(second).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('ssm:/chain-a/tokens'),
      hint: expect.stringContaining('garmin-s3 login --token-store ssm:/chain-b/tokens'),
    })
    expect((second as { hint: string }).hint).toContain('--keep-local')
    // Nothing was written anywhere: no parameter for chain-b, the pointer still names chain-a.
    expect(writeCalls(calls)).toEqual([])
    expect(await parameter('chain-b')).toBe('ParameterNotFound')
    expect(await readFile(local.path, 'utf8')).toBe(pointer)
    // --dry-run says the same before anything.
    await expect(run('chain-b', local, { dryRun: true })).rejects.toMatchObject({ exitCode: 2 })

    // The same deployment again: its parameter is where the pointer goes.
    const again = await run('chain-a', local)
    expect([again.session, again.changes.every((c) => c.action === 'unchanged')]).toEqual([
      'already-moved',
      true,
    ])

    // The same parameter name in another region is another deployment's parameter.
    const otherRegion = await localLogin('other-region.json')
    await otherRegion.pointTo('ssm:/chain-a/tokens', 'eu-west-1')
    await expect(run('chain-a', otherRegion)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('ssm:/chain-a/tokens in eu-west-1'),
    })

    // The way out the hint gives: a login of chain-b's own, then --keep-local.
    await new SsmTokenStore('/chain-b/tokens', clients.ssm).save(
      fixtureTokens({ refreshToken: 'refresh-token-of-chain-b-0123456789' }),
    )
    const own = await run('chain-b', local, { keepLocal: true })
    expect(own.session).toBe('separate')
    expect(JSON.parse((await parameter('chain-b')) as string).refreshToken).toBe(
      'refresh-token-of-chain-b-0123456789',
    )
    await destroy('chain-b', { clients, tokenStore: local })
    await destroy('chain-a', { clients, tokenStore: local })
  })

  it('without tokens, the hint signs in to the store deploy reads: the --token-store file, or the parameter', async () => {
    // A --token-store file that holds nothing: `garmin-s3 login` alone would sign in to the default file.
    const path = join(tmp, 'no-tokens-yet.json')
    const local = await run('tp-none', new FileTokenStore(path, { named: true })).catch((e: unknown) => e)
    expect(local).toMatchObject({
      exitCode: 3,
      hint: `Run \`garmin-s3 login --token-store ${path}\` first (or pass the right --token-store). deploy then moves the session (never the password) into SSM.`,
    })
    // --token-store ssm:/<name>/tokens, the deployment's own parameter, still empty.
    const own = await run('tp-none', new SsmTokenStore('/tp-none/tokens', clients.ssm)).catch(
      (e: unknown) => e,
    )
    expect(own).toMatchObject({
      exitCode: 3,
      hint: expect.stringContaining('Run `garmin-s3 login --token-store ssm:/tp-none/tokens` first'),
    })
    // --keep-local: the deployment needs a login of its own, into its parameter.
    const kept = await run('tp-none', await localLogin('tp-none-local.json'), { keepLocal: true }).catch(
      (e: unknown) => e,
    )
    expect(kept).toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('Run `garmin-s3 login --token-store ssm:/tp-none/tokens` first'),
    })
    expect(await parameter('tp-none')).toBe('ParameterNotFound')
  })

  it('a token store that is another SSM parameter is not copied into the deployment (exit 2)', async () => {
    const elsewhere = new SsmTokenStore('/my/tokens', clients.ssm)
    await elsewhere.save(fixtureTokens())
    calls.length = 0
    const refused = await run('from-ssm', elsewhere).catch((e: unknown) => e)
    expect(refused).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('ssm:/my/tokens'),
      hint: expect.stringContaining('--token-store ssm:/from-ssm/tokens'),
    })
    expect(writeCalls(calls)).toEqual([])
    expect(await parameter('from-ssm')).toBe('ParameterNotFound')
  })

  it('destroy keeps a parameter made by login --token-store (not by deploy), in --dry-run too, and says so', async () => {
    // `garmin-s3 login --token-store ssm:/own-login/tokens`: an untagged parameter with tokens.
    const login = new SsmTokenStore('/own-login/tokens', clients.ssm)
    await login.save(fixtureTokens())
    const local = await localLogin('own-login.json')
    const deployed = await run('own-login', local, { keepLocal: true })
    expect(deployed.session).toBe('separate')

    const plan = await destroy('own-login', { clients, tokenStore: local }, { dryRun: true })
    const kept = plan.changes.find((c) => c.resource === 'ssm-parameter')
    expect(kept).toMatchObject({
      action: 'unchanged',
      kept: true,
      note: expect.stringContaining('not created by deploy'),
    })
    expect(kept?.note).toContain('aws ssm delete-parameter --name /own-login/tokens')
    const done = await destroy('own-login', { clients, tokenStore: local })
    expect(done.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({ kept: true })
    expect(done.changes.find((c) => c.resource === 'lambda-function')?.action).toBe('delete')
    expect(JSON.parse((await parameter('own-login')) as string).refreshToken).toBe(
      fixtureTokens().refreshToken,
    )
    // Never deleted without deploy having made it, also when no deployment ever used it.
    const untouched = await destroy('own-login', { clients })
    expect(untouched.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({ kept: true })
    expect(await parameter('own-login')).not.toBe('ParameterNotFound')
    const tags = await clients.ssm.send(
      new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/own-login/tokens' }),
    )
    expect(tags.TagList?.find((t) => t.Key === 'garmin-s3:created-by')?.Value).toBe('login')
  })

  const tagsOf = async (name: string) =>
    Object.fromEntries(
      (
        (
          await clients.ssm.send(
            new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: `/${name}/tokens` }),
          )
        ).TagList ?? []
      ).map((t) => [t.Key, t.Value]),
    )
  /** What a version before `garmin-s3:created-by` left: the parameter with the two deploy tags only. */
  const legacyTags = (name: string) =>
    clients.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: `/${name}/tokens`,
        Tags: [
          { Key: 'managed-by', Value: 'garmin-s3' },
          { Key: 'garmin-s3:deployment', Value: name },
        ],
      }),
    )

  it("deploy --token-store ssm:/<name>/tokens on the untagged parameter an older login made takes it as login's: tagged created-by=login, kept by destroy", async () => {
    // `garmin-s3 login --token-store ssm:/login-store/tokens` before garmin-s3:created-by existed.
    const store = new SsmTokenStore('/login-store/tokens', clients.ssm)
    await store.save(fixtureTokens())
    const deployed = await run('login-store', store)
    expect(deployed.session).toBe('already-moved')
    expect(deployed.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({
      action: 'update',
      fields: ['deployment tag'],
    })
    expect(await tagsOf('login-store')).toEqual({
      'managed-by': 'garmin-s3',
      'garmin-s3:deployment': 'login-store',
      'garmin-s3:created-by': 'login',
    })
    const done = await destroy('login-store', { clients, tokenStore: store })
    expect(destroySummary(done)).toContainEqual(
      'Kept ssm-parameter /login-store/tokens: not created by deploy (garmin-s3 login --token-store made it); delete it yourself once nothing uses it: aws ssm delete-parameter --name /login-store/tokens.',
    )
    expect((await store.load())?.refreshToken).toBe(fixtureTokens().refreshToken)
  })

  it('a parameter an older version tagged without created-by: kept by destroy when its history does not show deploy made it, with the commands that settle it', async () => {
    // An older `login --token-store ssm:/legacy-login/tokens`, then an older deploy took it over.
    await new SsmTokenStore('/legacy-login/tokens', clients.ssm).save(fixtureTokens())
    await legacyTags('legacy-login')
    const local = await localLogin('legacy-login.json')
    await run('legacy-login', local, { keepLocal: true })
    // deploy could tell from the first version (written by login) and recorded it.
    expect(await tagsOf('legacy-login')).toMatchObject({ 'garmin-s3:created-by': 'login' })
    const done = await destroy('legacy-login', { clients, tokenStore: local })
    expect(done.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({
      kept: true,
      note: expect.stringContaining('not created by deploy'),
    })
    expect(await parameter('legacy-login')).not.toBe('ParameterNotFound')

    // Its first version does not show who made it (nor would a history that no longer has it: SSM keeps
    // the last 100 versions).
    await clients.ssm.send(
      new PutParameterCommand({
        Name: '/legacy-unknown/tokens',
        Type: 'SecureString',
        Value: 'placeholder',
        Description: 'made by someone',
      }),
    )
    await new SsmTokenStore('/legacy-unknown/tokens', clients.ssm).save(fixtureTokens())
    await legacyTags('legacy-unknown')
    const unknown = await destroy('legacy-unknown', { clients }, { dryRun: true })
    const kept = unknown.changes.find((c) => c.resource === 'ssm-parameter')
    expect(kept).toMatchObject({ action: 'unchanged', kept: true })
    expect(kept?.note).toContain('cannot tell whether deploy or garmin-s3 login --token-store made it')
    expect(kept?.note).toContain(
      'aws ssm add-tags-to-resource --resource-type Parameter --resource-id /legacy-unknown/tokens --tags Key=garmin-s3:created-by,Value=deploy',
    )
    expect(kept?.note).toContain('aws ssm delete-parameter --name /legacy-unknown/tokens')
    await destroy('legacy-unknown', { clients })
    expect(await parameter('legacy-unknown')).not.toBe('ParameterNotFound')
    // The command the note gives settles it: the next destroy deletes it.
    await clients.ssm.send(
      new AddTagsToResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: '/legacy-unknown/tokens',
        Tags: [{ Key: 'garmin-s3:created-by', Value: 'deploy' }],
      }),
    )
    const settled = await destroy('legacy-unknown', { clients })
    expect(settled.changes.find((c) => c.resource === 'ssm-parameter')?.action).toBe('delete')
    expect(await parameter('legacy-unknown')).toBe('ParameterNotFound')
  })

  it('a parameter deploy made is marked created-by=deploy, also one an older deploy made (its first version shows it), and destroy deletes it', async () => {
    const fresh = await run('made-here', await localLogin('made-here.json'))
    expect(fresh.changes.find((c) => c.resource === 'ssm-parameter')?.action).toBe('create')
    expect(await tagsOf('made-here')).toMatchObject({ 'garmin-s3:created-by': 'deploy' })
    // An older deploy: the same parameter without the created-by tag.
    await clients.ssm.send(
      new PutParameterCommand({
        Name: '/made-before/tokens',
        Type: 'SecureString',
        Value: JSON.stringify(fixtureTokens()),
        Description: 'garmin-s3: Garmin Connect OAuth tokens (rotated by the function)',
      }),
    )
    // The function rotated the tokens since (its write carries login's description).
    await new SsmTokenStore('/made-before/tokens', clients.ssm).save(
      fixtureTokens({ refreshToken: 'refresh-token-rotated-0123456789' }),
    )
    await legacyTags('made-before')
    const plan = await destroy('made-before', { clients }, { dryRun: true })
    expect(plan.changes.find((c) => c.resource === 'ssm-parameter')?.action).toBe('delete')
    await destroy('made-before', { clients })
    expect(await parameter('made-before')).toBe('ParameterNotFound')
    await destroy('made-here', { clients })
    expect(await parameter('made-here')).toBe('ParameterNotFound')
  })

  /** A role of the user's own, as `init github-actions --role-arn` takes it, and iam.md describes. */
  async function ownRole(roleName: string, trusted: string, grant: { inline?: string; managed?: string }) {
    const provider = `arn:aws:iam::${account.accountId}:oidc-provider/token.actions.githubusercontent.com`
    await clients.iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: trusted === 'github' ? { Federated: provider } : { Service: trusted },
              Action: trusted === 'github' ? 'sts:AssumeRoleWithWebIdentity' : 'sts:AssumeRole',
            },
          ],
        }),
      }),
    )
    const document = (resource: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${BUCKET}/*` },
          { Effect: 'Allow', Action: ['ssm:GetParameter', 'ssm:PutParameter'], Resource: resource },
        ],
      })
    if (grant.inline) {
      await clients.iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: 'garmin',
          PolicyDocument: document(grant.inline),
        }),
      )
    }
    if (grant.managed) {
      const { Policy } = await clients.iam.send(
        new CreatePolicyCommand({
          PolicyName: `${roleName}-policy`,
          PolicyDocument: document(grant.managed),
        }),
      )
      await clients.iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: Policy?.Arn }))
    }
  }

  it('destroy keeps a parameter that a GitHub Actions role the user brought (init github-actions --role-arn) may write, names the role and leaves it', async () => {
    const arn = (name: string) => `arn:aws:ssm:${TEST_REGION}:${account.accountId}:parameter/${name}/tokens`
    // Another role with the same grant that GitHub cannot assume does not keep anything.
    await ownRole('brought-lambda-role', 'lambda.amazonaws.com', { inline: arn('brought') })
    await run('brought', await localLogin('brought.json'), { keepLocal: false })
    const before = await destroy('brought', { clients }, { dryRun: true })
    expect(before.changes.find((c) => c.resource === 'ssm-parameter')?.action).toBe('delete')

    await ownRole('my-github-sync', 'github', { inline: arn('brought') })
    const plan = await destroy('brought', { clients }, { dryRun: true })
    const kept = plan.changes.find((c) => c.resource === 'ssm-parameter')
    expect(kept).toMatchObject({ action: 'unchanged', kept: true })
    expect(destroySummary(plan)).toContainEqual(
      'Would keep ssm-parameter /brought/tokens: the GitHub Actions role my-github-sync (yours, not made by garmin-s3: destroy leaves it; the role, its trust and the workflow file .github/workflows/garmin-s3-sync.yml are yours to remove) still uses it; delete it yourself once nothing uses it: aws ssm delete-parameter --name /brought/tokens.',
    )
    const done = await destroy('brought', { clients })
    expect(done.changes.find((c) => c.resource === 'lambda-function')?.action).toBe('delete')
    expect(done.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({ kept: true })
    expect(await parameter('brought')).not.toBe('ParameterNotFound')
    expect((await clients.iam.send(new GetRoleCommand({ RoleName: 'my-github-sync' }))).Role?.RoleName).toBe(
      'my-github-sync',
    )

    // A managed policy with a wildcard counts as much as an inline one naming the parameter.
    await run('brought-wild', await localLogin('brought-wild.json'))
    await ownRole('my-github-wild', 'github', {
      managed: `arn:aws:ssm:*:${account.accountId}:parameter/brought-wild/*`,
    })
    const wild = await destroy('brought-wild', { clients })
    expect(wild.changes.find((c) => c.resource === 'ssm-parameter')?.note).toContain(
      'the GitHub Actions role my-github-wild (yours',
    )
  })

  it('destroy keeps the parameter the GitHub Actions set-up (<name>-github role) refreshes, and says so', async () => {
    const local = await localLogin('shared.json')
    const deployed = await run('shared', local)
    expect(deployed.session).toBe('move')
    await ensureGitHubRole(
      {
        name: 'shared',
        bucket: BUCKET,
        prefix: 'raw-data/garmin-json/',
        controlPrefix: 'raw-data/_garmin-s3/',
        repo: { owner: 'octocat', name: 'garmin-data' },
        branch: 'main',
      },
      {
        clients,
        account: { accountId: account.accountId, partition: 'aws', region: TEST_REGION },
        tokens: fixtureTokens(),
      },
    )
    const pointer = await readFile(local.path, 'utf8')

    const plan = await destroy('shared', { clients, tokenStore: local }, { dryRun: true })
    expect(plan.changes.find((c) => c.resource === 'ssm-parameter')).toMatchObject({
      action: 'unchanged',
      kept: true,
      note: expect.stringContaining('shared-github'),
    })
    expect(plan.session).toBeUndefined()
    expect(destroySummary(plan)).toContainEqual(
      expect.stringMatching(
        /^Would keep ssm-parameter \/shared\/tokens: the GitHub Actions set-up \(role shared-github, policy shared-access\) still uses it; delete it yourself once nothing uses it: aws ssm delete-parameter --name \/shared\/tokens\.$/,
      ),
    )
    const done = await destroy('shared', { clients, tokenStore: local })
    expect(done.changes.find((c) => c.resource === 'lambda-function')?.action).toBe('delete')
    expect(await parameter('shared')).not.toBe('ParameterNotFound')
    // The local pointer still leads to the session, which the workflow goes on refreshing.
    expect(await readFile(local.path, 'utf8')).toBe(pointer)
    expect((await local.load())?.refreshToken).toBe(fixtureTokens().refreshToken)
  })
})
