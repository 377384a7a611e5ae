/**
 * One token chain per deployment (README "One sign-in per deployment"). The simulator rotates the
 * refresh token on every refresh and refuses the old one, as Garmin does. Its clock moves a day
 * ahead before each run, so every run finds its access token refused (401), refreshes once and
 * rotates the chain. Deploy, a local sync, the function's run, and a local sync again must all
 * succeed, which they cannot if deploy copies the tokens instead of moving the session; after
 * destroy, a local sync without AWS must too (destroy moves the session back).
 */
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { ListFunctionsCommand } from '@aws-sdk/client-lambda'
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest'
import { deploy, destroy } from '../../src/deploy/index.js'
import { checkSession } from '../../src/garmin/login.js'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import { createHandler } from '../../src/lambda/handler.js'
import { DirStore } from '../../src/store/dir.js'
import { awsClients, deployOptions, FIXTURE_BUNDLE, freshMotoAccount } from '../deploy/helpers.js'
import { cliEnv, e2eHome, runCli, signIn, syncJson } from '../e2e/sync-helpers.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { recordFigure } from './figures.js'

const home = e2eHome('token-chain')
let daysAhead = 0
/** The next run happens a day later, as the daily runs do. */
const nextDay = () => {
  daysAhead++
}
let sim: Simulator

beforeAll(async () => {
  sim = await startSimulator({ activities: 12, now: () => Date.now() + daysAhead * 86_400_000 })
})
afterAll(async () => {
  await sim.close()
})

/** A fresh moto account with its SDK clients and an empty bucket, for one deployment. */
async function freshDeployment(label: string) {
  const motoEndpoint = inject('motoEndpoint')
  const account = await freshMotoAccount(motoEndpoint)
  const clients = awsClients({
    region: TEST_REGION,
    endpoint: motoEndpoint,
    credentials: account.credentials,
  })
  const bucket = await createTestBucket(
    testS3Client(motoEndpoint, { credentials: account.credentials }),
    label,
  )
  return { motoEndpoint, account, clients, bucket }
}

describe('deploy moves the session into SSM: the laptop and the function share one chain', () => {
  it('deploy, local sync, the function, local sync, destroy, local sync: every run exits 0 and no refresh is refused', async () => {
    const { motoEndpoint, account, clients, bucket } = await freshDeployment('token-chain')
    const tokenPath = join(home.path(), 'config', 'tokens.json')
    await signIn(sim, tokenPath)
    const local = new FileTokenStore(tokenPath, { openSsm: (name) => new SsmTokenStore(name, clients.ssm) })
    const garminEnv = { GARMIN_S3_GARMIN_URL: sim.url }

    nextDay()
    const deployed = await deploy(deployOptions({ bucket }), {
      clients,
      tokenStore: local,
      checkTokens: (store) => checkSession(store, garminEnv),
      bundle: FIXTURE_BUNDLE,
    })
    expect(deployed.session).toBe('move')
    const pointer = JSON.parse(await readFile(tokenPath, 'utf8')) as Record<string, unknown>
    expect(pointer).toEqual({
      kind: 'garmin-s3-token-pointer',
      version: 1,
      store: `ssm:${deployed.tokenParameter}`,
      region: TEST_REGION,
    })

    // A local sync, as a person runs it: the CLI follows the pointer to the parameter (on moto).
    const env = {
      ...cliEnv(sim, tokenPath, home.path()),
      AWS_ENDPOINT_URL: motoEndpoint,
      AWS_ACCESS_KEY_ID: account.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: account.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: account.credentials.sessionToken,
    }
    const out = join(home.path(), 'lake')
    nextDay()
    const first = await syncJson(['--out', out], env)
    expect([first.result.code, first.report.created], first.result.stderr).toEqual([0, 12])

    // The function's run, in process, on the same parameter.
    const handler = createHandler({
      env: {
        BUCKET: bucket,
        PREFIX: 'raw-data/garmin-json/',
        TOKEN_PARAMETER: deployed.tokenParameter,
        ...garminEnv,
      },
      writeLine: () => undefined,
      tokenStore: (config) => new SsmTokenStore(config.tokenParameter, clients.ssm),
      store: () => new DirStore(join(home.path(), 'function-lake')),
    })
    nextDay()
    const fromLambda = await handler({}, { awsRequestId: 'r1', getRemainingTimeInMillis: () => 300_000 })
    expect([fromLambda.exitCode, fromLambda.created]).toEqual([0, 12])

    nextDay()
    const second = await syncJson(['--out', out], env)
    expect([second.result.code, second.report.existing], second.result.stderr).toEqual([0, 12])

    // The sign-in's exchange, then one refresh per run (the deploy's check, two local syncs, the
    // function), each with the newest refresh token: none refused.
    expect(sim.stats().byRoute.token).toEqual({ 200: 5 })
    recordFigure('token-chain runs', 4)
    recordFigure('token-chain refreshes', 4)

    // destroy gives the session back: the laptop stays signed in, and needs AWS no more.
    const session = { from: `ssm:${deployed.tokenParameter}`, to: tokenPath }
    const plan = await destroy(deployed.name, { clients, tokenStore: local }, { dryRun: true })
    expect(plan.session).toEqual({ action: 'would-return', ...session })
    expect(JSON.parse(await readFile(tokenPath, 'utf8'))).toEqual(pointer)
    // As a person runs it: the CLI follows the pointer, and says where the session went.
    const destroyed = await runCli(['destroy', '--name', deployed.name, '--yes'], { env })
    expect(destroyed.code, destroyed.stderr).toBe(0)
    expect(destroyed.stdout).toContain(
      `Sign-in: moved your session back from ${session.from} into ${tokenPath}; you stay signed in`,
    )
    const file = JSON.parse(await readFile(tokenPath, 'utf8')) as Record<string, unknown>
    expect([file.kind, typeof file.refreshToken]).toEqual([undefined, 'string'])
    expect((await stat(tokenPath)).mode & 0o777).toBe(0o600)
    nextDay()
    const after = await syncJson(['--out', out], cliEnv(sim, tokenPath, home.path()))
    expect([after.result.code, after.report.existing], after.result.stderr).toEqual([0, 12])
    expect(sim.stats().byRoute.token).toEqual({ 200: 6 })
  })

  it('with --keep-local, asks for a login of the deployment its own (exit 2) and changes nothing; destroy leaves the local file alone', async () => {
    const { clients, bucket } = await freshDeployment('keep-local')
    const own = await startSimulator({ activities: 3 })
    onTestFinished(() => own.close())
    const tokenPath = join(home.path(), 'keep', 'tokens.json')
    await signIn(own, tokenPath)
    const before = await readFile(tokenPath, 'utf8')
    const refused = await deploy(
      deployOptions({ bucket }),
      { clients, tokenStore: new FileTokenStore(tokenPath), bundle: FIXTURE_BUNDLE },
      { keepLocal: true },
    ).catch((e: unknown) => e)
    expect(refused).toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('garmin-s3 login --token-store ssm:/garmin-s3/tokens'),
    })
    expect(await readFile(tokenPath, 'utf8')).toBe(before)
    const functions = await clients.lambda.send(new ListFunctionsCommand({}))
    expect(functions.Functions ?? []).toEqual([])
    // With its own login in the parameter, the deploy goes ahead and the local file stays as it is.
    await new SsmTokenStore('/garmin-s3/tokens', clients.ssm).save(JSON.parse(before))
    const done = await deploy(
      deployOptions({ bucket }),
      { clients, tokenStore: new FileTokenStore(tokenPath), bundle: FIXTURE_BUNDLE },
      { keepLocal: true },
    )
    expect(done.session).toBe('separate')
    expect(await readFile(tokenPath, 'utf8')).toBe(before)
    // destroy leaves a local login that never pointed to the deployment alone, and a pointer to the
    // same parameter name in another region too.
    const gone = await destroy(done.name, { clients, tokenStore: new FileTokenStore(tokenPath) })
    expect([gone.session, await readFile(tokenPath, 'utf8')]).toEqual([undefined, before])
    const elsewhere = new FileTokenStore(join(home.path(), 'keep', 'elsewhere.json'))
    await elsewhere.pointTo('ssm:/garmin-s3/tokens', 'eu-west-1')
    await new SsmTokenStore('/garmin-s3/tokens', clients.ssm).save(JSON.parse(before))
    const redeployed = await deploy(
      deployOptions({ bucket }),
      { clients, tokenStore: new FileTokenStore(tokenPath), bundle: FIXTURE_BUNDLE },
      { keepLocal: true },
    )
    const pointer = await readFile(elsewhere.path, 'utf8')
    expect((await destroy(redeployed.name, { clients, tokenStore: elsewhere })).session).toBeUndefined()
    expect(await readFile(elsewhere.path, 'utf8')).toBe(pointer)
  })
})
