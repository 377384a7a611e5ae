/**
 * One exit-code rule for every AWS caller (src/aws/errors.ts): a missing region is exit 2 whether the S3
 * store, the SSM token store or deploy meets it, with a next step the command can follow (--region
 * only where it reaches that client), and the error's name reads
 * the same way everywhere. The built CLI too: `sync` and `status` on a bucket without a region exit 2.
 */

import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import { SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { createAwsClients } from '../../src/aws/clients.js'
import { awsErrorIs, awsErrorName, awsExitCode } from '../../src/aws/errors.js'
import { discoverAccount } from '../../src/deploy/index.js'
import { SsmTokenStore } from '../../src/garmin/tokens.js'
import { S3Store } from '../../src/store/s3.js'
import { cliEnv, runCli, signIn, tempDir } from '../e2e/sync-helpers.js'
import { TEST_CREDENTIALS } from '../helpers/servers.js'
import { type Simulator, startSimulator } from '../sim/server.js'

/** What a user of the command would see: exit 2, told to give --region. */
const noRegion = { exitCode: 2, hint: expect.stringMatching(/--region/) }

describe('a missing AWS region', () => {
  beforeEach(() => {
    // No region anywhere: not in the environment, not in a config file.
    vi.stubEnv('AWS_REGION', undefined)
    vi.stubEnv('AWS_DEFAULT_REGION', undefined)
    vi.stubEnv('AWS_PROFILE', undefined)
    vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config')
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', '/nonexistent/aws-credentials')
  })
  afterEach(() => {
    vi.unstubAllEnvs()
  })
  const credentials = TEST_CREDENTIALS
  // Never contacted: the SDK stops before any request when it has no region.
  const endpoint = 'http://127.0.0.1:9'

  it('exits 2 from the S3 store, with --region in the hint', async () => {
    const store = new S3Store({ bucket: 'my-lake', client: new S3Client({ credentials, endpoint }) })
    await expect(store.get('raw/a.json')).rejects.toMatchObject(noRegion)
  })

  it('exits 2 from the SSM token store, naming it and AWS_REGION (no command applies --region to it)', async () => {
    const store = new SsmTokenStore('/garmin-s3/tokens', new SSMClient({ credentials, endpoint }))
    for (const call of [() => store.load(), () => store.checkWritable()]) {
      await expect(call()).rejects.toMatchObject({
        exitCode: 2,
        message: expect.stringContaining('ssm:/garmin-s3/tokens'),
        hint: expect.stringMatching(/^Set AWS_REGION(?!.*--region)/),
      })
    }
  })

  it('exits 2 from deploy (before any AWS call)', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL', endpoint)
    const clients = createAwsClients({})
    await expect(discoverAccount(clients)).rejects.toMatchObject({
      ...noRegion,
      message: expect.stringMatching(/No AWS region/),
    })
  })
})

describe('a missing AWS region, through the built CLI', () => {
  let sim: Simulator
  let home: Awaited<ReturnType<typeof tempDir>>
  let env: NodeJS.ProcessEnv
  beforeAll(async () => {
    home = await tempDir('no-region')
    sim = await startSimulator({ activities: 3 })
    const tokens = join(home.path, 'tokens.json')
    await signIn(sim, tokens)
    // Signed in, credentials set: only the region is missing, in the environment and in any config file.
    const { AWS_REGION: _region, ...rest } = cliEnv(sim, tokens, home.path)
    env = {
      ...rest,
      AWS_CONFIG_FILE: join(home.path, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home.path, 'no-aws-credentials'),
    }
  })
  afterAll(async () => {
    await sim?.close()
    await home?.remove()
  })

  it('sync --bucket and status --bucket exit 2 (as the README promises), saying to pass --region', async () => {
    for (const command of ['sync', 'status']) {
      const r = await runCli([command, '--bucket', 'my-lake', '--endpoint', 'http://127.0.0.1:9'], { env })
      expect(r.code, `${command}: ${r.stderr}`).toBe(2)
      expect(r.stderr).toMatch(/^Error: .*region/im)
      expect(r.stderr).toMatch(/^ {2}-> Pass --region/m)
    }
    // The run stopped before Garmin's activity list: a local mistake costs no Garmin request.
    expect(sim.stats().byRoute.activityList ?? {}).toEqual({})
  })
})

describe('one naming rule', () => {
  it('prefers the service code, matches either spelling, and gives 1 for anything but a missing region', () => {
    const iam = Object.assign(new Error('Role not found'), {
      name: 'NoSuchEntityException',
      Code: 'NoSuchEntity',
    })
    expect(awsErrorName(iam)).toBe('NoSuchEntity')
    expect(awsErrorIs(iam, 'NoSuchEntityException')).toBe(true)
    expect(awsErrorIs(iam, 'NoSuchEntity')).toBe(true)
    expect(awsExitCode(iam)).toBe(1)
    expect(awsExitCode(new Error('Region is missing'))).toBe(2)
  })
})
