/**
 * Stage 7 of `garmin-s3 doctor` against moto after a real `deploy`: a whole deployment passes, and one
 * whose schedule was removed fails with exit 1 and the next step to deploy again.
 */
import { mkdir, mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { DeleteScheduleCommand } from '@aws-sdk/client-scheduler'
import { afterAll, beforeAll, expect, inject, it } from 'vitest'
import type { AwsClients } from '../../src/aws/clients.js'
import Doctor from '../../src/commands/doctor.js'
import { deploy } from '../../src/deploy/index.js'
import { EXIT } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import {
  deployOptions,
  FIXTURE_BUNDLE,
  fixtureTokens,
  freshMotoAccount,
  MemoryTokenStore,
  motoClients,
} from '../deploy/helpers.js'
import { runCommand } from '../helpers/command.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type Simulator, startSimulator } from '../sim/server.js'

const BUCKET = 'doctor-deploy-lake'
let clients: AwsClients
let sim: Simulator
let dir: string
let tokenPath: string

beforeAll(async () => {
  const endpoint = inject('motoEndpoint')
  clients = motoClients(endpoint, await freshMotoAccount(endpoint)).clients
  await clients.s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  const deps = {
    clients,
    tokenStore: new MemoryTokenStore(fixtureTokens()),
    bundle: FIXTURE_BUNDLE,
    clock: new FakeClock(),
  }
  for (const name of ['doctor-whole', 'doctor-broken']) {
    await deploy(deployOptions({ name, bucket: BUCKET }), deps)
  }
  await clients.scheduler.send(new DeleteScheduleCommand({ Name: 'doctor-broken' }))

  sim = await startSimulator({ activities: 2 })
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-doctor-moto-'))
  // The folder doctor checks exists: doctor never creates it.
  await mkdir(join(dir, 'lake'))
  tokenPath = join(dir, 'tokens.json')
  await new GarminClient({
    tokenStore: new FileTokenStore(tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
  }).login({ email: sim.user.email, password: sim.user.password })
}, 60_000)
afterAll(() => sim?.close())

async function doctor(name: string) {
  const environment = { HOME: dir, GARMIN_S3_GARMIN_URL: sim.url }
  class TestDoctor extends Doctor {
    protected override env(): NodeJS.ProcessEnv {
      return environment
    }
    protected override async awsClients(): Promise<AwsClients> {
      return clients
    }
  }
  const argv = ['--out', join(dir, 'lake'), '--token-store', tokenPath, '--name', name, '--json']
  const run = await runCommand(TestDoctor, argv)
  const stages = (
    run.json as { stages: { stage: string; result: string; detail: string; next: string | null }[] }
  ).stages
  return { exitCode: run.exitCode, deployment: stages.find((s) => s.stage === 'deployment')! }
}

it('stage 7 passes for a whole deployment and names its schedule', async () => {
  const { exitCode, deployment } = await doctor('doctor-whole')
  expect(exitCode).toBe(EXIT.ok)
  expect(deployment).toMatchObject({ result: 'ok', next: null })
  expect(deployment.detail).toMatch(/function, schedule \(cron\(.+\)\) and token parameter present/)
})

it('stage 7, a deployment without its schedule: exit 1, next step deploy again', async () => {
  const { exitCode, deployment } = await doctor('doctor-broken')
  expect(exitCode).toBe(EXIT.failure)
  expect(deployment.result).toBe('fail')
  expect(deployment.detail).toMatch(/schedule absent/)
  expect(deployment.next).toBe(
    'Run `garmin-s3 deploy --name doctor-broken` again to put back what is missing.',
  )
})
