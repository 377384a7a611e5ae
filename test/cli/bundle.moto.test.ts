/**
 * The bundled CLI (dist/bundle, scripts/bundle-cli.js) as a user runs it, on the commands that load
 * chunks only when they run: `deploy` (the deployment engine, the AWS SDK, archiver, and the Lambda
 * bundle found from dist/bundle), `status` of a bucket and `destroy`, against moto_server.
 */
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { freshMotoAccount, type MotoAccount } from '../deploy/helpers.js'
import { assertBuilt, type E2eAccount, e2eHome, runCli } from '../e2e/sync-helpers.js'
import { TEST_REGION } from '../helpers/servers.js'

const BUCKET = 'bundled-cli-lake'
let endpoint: string
let account: MotoAccount
let garmin: E2eAccount
const home = e2eHome('bundle')

beforeAll(async () => {
  assertBuilt()
  endpoint = inject('motoEndpoint')
  account = await freshMotoAccount(endpoint)
  const s3 = new S3Client({
    region: TEST_REGION,
    endpoint,
    forcePathStyle: true,
    credentials: account.credentials,
  })
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }))
  s3.destroy()
  // deploy checks the local sign-in with Garmin (the simulator) before it plans.
  garmin = await home.account('runner', { activities: 1 })
})

function env(): NodeJS.ProcessEnv {
  return {
    ...garmin.env,
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: TEST_REGION,
    AWS_ACCESS_KEY_ID: account.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: account.credentials.secretAccessKey,
    AWS_SESSION_TOKEN: account.credentials.sessionToken,
  }
}

describe('the bundled CLI', () => {
  it('plans a deployment (deploy --dry-run): the engine, the SDK and the Lambda bundle load when it runs', async () => {
    const r = await runCli(['deploy', '--bucket', BUCKET, '--dry-run', '--json'], { env: env() })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const plan = JSON.parse(r.stdout) as { dryRun: boolean; changes: { action: string; resource: string }[] }
    expect(plan.dryRun).toBe(true)
    expect(plan.changes.some((c) => c.resource === 'lambda-function' && c.action === 'create')).toBe(true)
  })

  it('checks a bucket and its deployment (status) and removes nothing that is not there (destroy)', async () => {
    const status = await runCli(['status', '--bucket', BUCKET, '--json'], { env: env() })
    expect(JSON.parse(status.stdout)).toMatchObject({
      location: `s3://${BUCKET}`,
      deployment: { checked: true, deployed: false },
    })
    const destroy = await runCli(['destroy', '--yes', '--json'], { env: env() })
    expect(destroy.code).toBe(0)
    const removed = JSON.parse(destroy.stdout) as { changes: { action: string }[] }
    expect(removed.changes.filter((c) => c.action !== 'unchanged')).toEqual([])
  })
})
