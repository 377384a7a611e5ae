/**
 * The user journey of the GitHub Actions scheduler, end to end: log in (to the simulator), run
 * `init github-actions --create-role` (moto), then execute the generated workflow's `run:` script,
 * unmodified, with the environment a GitHub runner gives it (bash -e, CI=true, GITHUB_ACTIONS=true,
 * no TTY, AWS credentials in the environment as configure-aws-credentials leaves them). `npx` is a
 * stand-in that checks it was asked for this version of garmin-s3 and runs the built CLI instead of
 * downloading it. Two "scheduled days": the rotated refresh token saved to SSM by the first run is
 * what the second run signs in with.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import type { StoredTokens } from '../../src/garmin/types.js'
import { freshMotoAccount, type MotoAccount, motoClients } from '../deploy/helpers.js'
import { assertBuilt, CLI, signIn, tempDir } from '../e2e/sync-helpers.js'
import { type ProcessResult, runProcess } from '../helpers/process.js'
import { TEST_REGION } from '../helpers/servers.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { runInit } from './command.js'
import { readWorkflow, syncStep } from './helpers.js'

const PREFIX = 'raw-data/garmin-json/'

type ScriptRun = ProcessResult

describe('the generated workflow, run as GitHub would run it', () => {
  const endpoint = inject('motoEndpoint')
  let sim: Simulator
  let account: MotoAccount
  let home: { path: string; remove: () => Promise<void> }
  let s3: S3Client
  let ssm: SSMClient
  let bucket: string
  let script: string
  let version: string

  beforeAll(async () => {
    assertBuilt()
    // Access tokens that are already due for refresh: every run rotates the refresh token.
    sim = await startSimulator({ activities: 25, seed: 7, accessTokenTtlSeconds: 60 })
    account = await freshMotoAccount(endpoint)
    home = await tempDir('gha')
    const config = { region: TEST_REGION, endpoint, credentials: account.credentials }
    s3 = new S3Client({ ...config, forcePathStyle: true })
    ssm = new SSMClient(config)
    bucket = `gha-run-${account.accountId}`
    await s3.send(new CreateBucketCommand({ Bucket: bucket }))

    const tokenPath = join(home.path, 'tokens.json')
    await signIn(sim, tokenPath)
    const repo = join(home.path, 'repo')
    await mkdir(join(repo, '.git'), { recursive: true })
    const init = await runInit(
      ['--bucket', bucket, '--create-role', '--repo', 'octocat/garmin-data', '--dir', repo, '--json'],
      { tokens: new FileTokenStore(tokenPath), aws: () => motoClients(endpoint, account).clients },
    )
    expect(init.exitCode).toBe(0)
    version = String(init.json?.packageVersion)
    const workflow = readWorkflow(await readFile(String(init.json?.path), 'utf8'))
    script = syncStep(workflow)?.run ?? ''
  })

  afterAll(async () => {
    s3?.destroy()
    ssm?.destroy()
    await sim?.close()
    await home?.remove()
  })

  async function runnerEnv(): Promise<NodeJS.ProcessEnv> {
    const bin = join(home.path, 'bin')
    await mkdir(bin, { recursive: true })
    // `npx --yes garmin-s3@<version> <args>` -> the built CLI with <args>; anything else fails the step.
    await writeFile(
      join(bin, 'npx'),
      [
        '#!/usr/bin/env bash',
        'set -eu',
        `if [ "$1" != "--yes" ] || [ "$2" != "garmin-s3@${version}" ]; then echo "unexpected npx $*" >&2; exit 97; fi`,
        'shift 2',
        `exec "${process.execPath}" "${CLI}" "$@"`,
        '',
      ].join('\n'),
    )
    await chmod(join(bin, 'npx'), 0o755)
    return {
      PATH: `${bin}:${process.env.PATH}`,
      HOME: join(home.path, 'runner-home'),
      CI: 'true',
      GITHUB_ACTIONS: 'true',
      GITHUB_REPOSITORY: 'octocat/garmin-data',
      GITHUB_EVENT_NAME: 'schedule',
      RUNNER_OS: 'Linux',
      RUNNER_TEMP: home.path,
      // What configure-aws-credentials exports after assuming the role.
      AWS_ACCESS_KEY_ID: account.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: account.credentials.secretAccessKey,
      AWS_SESSION_TOKEN: account.credentials.sessionToken,
      AWS_REGION: TEST_REGION,
      AWS_DEFAULT_REGION: TEST_REGION,
      // Test-only: the emulators instead of AWS and Garmin.
      AWS_ENDPOINT_URL: endpoint,
      GARMIN_S3_GARMIN_URL: sim.url,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    }
  }

  function runScript(env: NodeJS.ProcessEnv): Promise<ScriptRun> {
    return runProcess('bash', ['-e', '-c', script], { env })
  }

  async function keys(prefix: string): Promise<string[]> {
    const out: string[] = []
    let token: string | undefined
    do {
      const page = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      )
      for (const o of page.Contents ?? []) if (o.Key) out.push(o.Key)
      token = page.NextContinuationToken
    } while (token)
    return out.sort()
  }

  async function storedTokens(): Promise<StoredTokens> {
    const out = await ssm.send(new GetParameterCommand({ Name: '/garmin-s3/tokens', WithDecryption: true }))
    return JSON.parse(out.Parameter?.Value ?? '') as StoredTokens
  }

  it('syncs into the bucket, keeps the rotated token in SSM, and the next scheduled run picks up only what is new', async () => {
    const env = await runnerEnv()
    const seeded = await storedTokens()

    const first = await runScript(env)
    expect(first.code, first.stderr).toBe(0)
    const activities = (await keys(PREFIX)).filter((k) => /activity_\d+\.json$/.test(k))
    expect(activities).toEqual(
      sim
        .listAll()
        .map((a) => `${PREFIX}activity_${a.activityId}.json`)
        .sort(),
    )
    expect(activities).toHaveLength(25)

    const manifests = await keys('raw-data/_garmin-s3/runs/')
    expect(manifests).toHaveLength(1)
    const body = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: manifests[0] }))
    const manifest = JSON.parse((await body.Body?.transformToString()) ?? '{}') as Record<string, unknown>
    expect(manifest).toMatchObject({ runner: 'github-actions', toolVersion: version, prefix: PREFIX })

    // The refresh rotated the token, and it was written back to SSM (a GitHub secret could not be).
    const rotated = await storedTokens()
    expect(rotated.refreshToken).not.toBe(seeded.refreshToken)

    // The next day: two new activities; the run signs in with the token the first run saved.
    const added = sim.addActivities(2)
    const second = await runScript(env)
    expect(second.code, second.stderr).toBe(0)
    const after = (await keys(PREFIX)).filter((k) => /activity_\d+\.json$/.test(k))
    expect(after).toHaveLength(27)
    for (const a of added) expect(after).toContain(`${PREFIX}activity_${a.activityId}.json`)
    expect((await storedTokens()).refreshToken).not.toBe(rotated.refreshToken)
    expect(await keys('raw-data/_garmin-s3/runs/')).toHaveLength(2)

    // Nothing secret in what GitHub would show in the log.
    for (const secret of sim.secrets()) {
      for (const output of [first.stdout, first.stderr, second.stdout, second.stderr]) {
        expect(output).not.toContain(secret)
      }
    }
  })
})
