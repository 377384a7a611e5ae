/**
 * `deploy --curate --athena` and `destroy --athena` against moto, through AWS_ENDPOINT_URL only: the
 * function gets CURATED_PREFIX and the catalog is made once (a second deploy makes no Glue write);
 * destroy removes both and never a bucket object.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetDatabaseCommand, GlueClient } from '@aws-sdk/client-glue'
import { GetFunctionConfigurationCommand, LambdaClient } from '@aws-sdk/client-lambda'
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect, inject, it, vi } from 'vitest'
import Deploy from '../../src/commands/deploy.js'
import Destroy from '../../src/commands/destroy.js'
import { TABLES } from '../../src/curate/tables.js'
import type { TokenStore } from '../../src/garmin/types.js'
import {
  FIXTURE_BUNDLE,
  fixtureTokens,
  freshMotoAccount,
  MemoryTokenStore,
  type MotoAccount,
} from '../deploy/helpers.js'
import { runCommand } from '../helpers/command.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'

const tokens = new MemoryTokenStore(fixtureTokens())
class TestDeploy extends Deploy {
  protected override tokenStore(): TokenStore {
    return tokens
  }
  protected override async checkTokens(): Promise<void> {}
}
/** Never the token file of the machine running the tests. */
class TestDestroy extends Destroy {
  protected override tokenStore(): TokenStore {
    return tokens
  }
}

let tmp: string
let account: MotoAccount

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-deploy-athena-'))
  const bundle = join(tmp, 'index.mjs')
  await writeFile(bundle, FIXTURE_BUNDLE)
  account = await freshMotoAccount(inject('motoEndpoint'))
  const s3 = testS3Client(inject('motoEndpoint'), { credentials: account.credentials })
  await s3.send(new CreateBucketCommand({ Bucket: 'athena-lake' }))
  await s3.send(
    new PutObjectCommand({
      Bucket: 'athena-lake',
      Key: 'processed-data/garmin/sleep/year=2026/sleep_2026.parquet',
      Body: 'x',
    }),
  )
  s3.destroy()
  vi.stubEnv('AWS_ENDPOINT_URL', inject('motoEndpoint'))
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

it('deploy --curate --athena, twice, then destroy --athena', async () => {
  const argv = [
    '--bucket',
    'athena-lake',
    '--name',
    'ath',
    '--data',
    'activities,sleep',
    '--curate',
    '--athena',
    '--json',
  ]
  const first = await runCommand(TestDeploy, argv)
  expect(first.exitCode, first.stdout).toBe(0)
  expect(first.json).toMatchObject({ athena: { database: 'garmin', writes: TABLES.length + 2 } })
  const lambda = new LambdaClient({ region: TEST_REGION })
  const config = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'ath' }))
  expect(config.Environment?.Variables).toMatchObject({
    CURATED_PREFIX: 'processed-data/garmin/',
    DATASETS: 'activities,sleep',
  })
  lambda.destroy()

  const again = await runCommand(TestDeploy, argv)
  expect(again.exitCode).toBe(0)
  expect(again.json).toMatchObject({ athena: { writes: 0 } })

  const gone = await runCommand(TestDestroy, ['--name', 'ath', '--yes', '--athena'])
  expect(gone.exitCode, gone.stderr).toBe(0)
  expect(gone.stdout).toContain('deleted database garmin')
  expect(gone.stdout).toContain('no S3 object was touched')
  const glue = new GlueClient({ region: TEST_REGION })
  await expect(glue.send(new GetDatabaseCommand({ Name: 'garmin' }))).rejects.toMatchObject({
    name: 'EntityNotFoundException',
  })
  glue.destroy()
  const s3 = testS3Client(inject('motoEndpoint'), { credentials: account.credentials })
  const left = await s3.send(new ListObjectsV2Command({ Bucket: 'athena-lake' }))
  expect(left.Contents?.map((o) => o.Key)).toEqual([
    'processed-data/garmin/sleep/year=2026/sleep_2026.parquet',
  ])
  s3.destroy()
})
