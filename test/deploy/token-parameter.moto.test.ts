/**
 * The token parameter on moto: one token chain per deployment, and destroy deletes only a parameter
 * deploy made for that deployment and nothing else still uses. A second deployment never receives a
 * copy of the first one's session; a parameter from `login --token-store ssm:...`, or one the GitHub
 * Actions set-up (`<name>-github` role) refreshes, stays where it is.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { GetParameterCommand } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type AwsClients, deploy, destroy } from '../../src/deploy/index.js'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { testS3Client } from '../helpers/s3.js'
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
})
