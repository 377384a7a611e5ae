/**
 * `garmin-s3 status` as a command, run in-process on folders: the short aligned report (colour only
 * on a terminal), the --json object's documented shape, exit codes, and no token in any output.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Config } from '@oclif/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AwsClientConfig, AwsClients } from '../../src/aws/clients.js'
import Status from '../../src/commands/status.js'
import Sync from '../../src/commands/sync.js'
import { DirStore } from '../../src/store/dir.js'
import { runSync } from '../../src/sync/index.js'
import { motoClients } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { startCannedS3 } from '../helpers/s3.js'
import { FakeGarmin } from '../sync/fake-garmin.js'
import { PREFIX, tokensRotatedAt } from './helpers.js'

let config: Config
let tmp: string
let tokenPath: string
const tokens = tokensRotatedAt(Date.now() - 3 * 86_400_000)
const printed: string[] = []

interface Run {
  exitCode: number
  stdout: string
  stderr: string
}

async function run(
  argv: string[],
  options: { color?: boolean; aws?: () => Promise<AwsClients> } = {},
): Promise<Run> {
  const out: string[] = []
  const err: string[] = []
  class TestStatus extends Status {
    protected override env(): NodeJS.ProcessEnv {
      return { HOME: tmp, GARMIN_S3_TOKEN_STORE: tokenPath }
    }
    protected override colorEnabled(): boolean {
      return options.color ?? false
    }
    protected override async awsClients(config: AwsClientConfig): Promise<AwsClients> {
      return options.aws ? options.aws() : super.awsClients(config)
    }
  }
  Object.assign(TestStatus.prototype, {
    log(this: Status, message = '') {
      if (!this.jsonEnabled()) out.push(message)
    },
    logToStderr(this: Status, message = '') {
      if (!this.jsonEnabled()) err.push(message)
    },
    logJson: (json: unknown) => void out.push(JSON.stringify(json)),
  })
  process.exitCode = undefined
  await TestStatus.run(argv, config)
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  printed.push(...out, ...err)
  return { exitCode, stdout: out.join('\n'), stderr: err.join('\n') }
}

let synced: string

beforeAll(async () => {
  config = await Config.load(join(import.meta.dirname, '..', '..'))
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-status-cmd-'))
  tokenPath = join(tmp, 'tokens.json')
  await writeFile(tokenPath, JSON.stringify(tokens), { mode: 0o600 })
  synced = join(tmp, 'synced')
  const clock = new FakeClock(Date.now() - 3_600_000)
  const report = await runSync(
    { prefix: PREFIX, runner: 'lambda', toolVersion: '0.0.0-test' },
    { garmin: new FakeGarmin({ count: 30, clock }), store: new DirStore(synced, { durable: false }), clock },
  )
  expect(report.created).toBe(30)
})

afterAll(async () => {
  for (const line of printed) {
    expect(line).not.toContain(tokens.accessToken)
    expect(line).not.toContain(tokens.refreshToken)
  }
  await rm(tmp, { recursive: true, force: true })
})

describe('garmin-s3 status', () => {
  it('prints a short aligned report without colour when not on a terminal', async () => {
    const result = await run(['--out', synced])
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.split('\n')
    expect(lines[0]).toBe(`Location     ${synced}/${PREFIX}`)
    expect(lines).toContainEqual(
      expect.stringMatching(/^Activities {3}30 stored, \d{4}-\d\d-\d\d to \d{4}-\d\d-\d\d, whole history$/),
    )
    expect(lines).toContainEqual(
      expect.stringMatching(/^Last run {5}.* on Lambda, .*: 30 created, 0 existing, 0 failed$/),
    )
    expect(lines).toContainEqual(
      'Deployment   garmin-s3: not checked (the target is a folder; pass --name to check a Lambda deployment)',
    )
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^Tokens {7}${tokenPath}: access token expired .*; refresh token rotated`),
      ),
    )
    expect(lines).toContain('Health       OK')
    // Every labelled line puts its value in the same column.
    for (const line of lines.filter((l) => /^[A-Z]/.test(l))) expect(line.slice(13, 14)).not.toBe(' ')
    expect(result.stdout).not.toContain('\u001b[')
    expect(lines.length).toBeLessThan(15)
  })

  it('colours the verdict on a terminal', async () => {
    const result = await run(['--out', synced], { color: true })
    expect(result.stdout).toContain('\u001b[32m\u001b[1mOK')
  })

  it('--json prints the documented object and nothing else', async () => {
    const result = await run(['--out', synced, '--deep', '--json'])
    expect(result.exitCode).toBe(0)
    const report = JSON.parse(result.stdout)
    expect(Object.keys(report)).toEqual([
      'schemaVersion',
      'generatedAt',
      'location',
      'prefix',
      'mode',
      'state',
      'activities',
      'datasets',
      'datasetsState',
      'archive',
      'lastRun',
      'lastSuccessAt',
      'recentRuns',
      'deep',
      'deployment',
      'tokens',
      'health',
      'requests',
    ])
    expect(report).toMatchObject({
      schemaVersion: 1,
      location: synced,
      prefix: PREFIX,
      mode: 'deep',
      state: { key: 'raw-data/_garmin-s3/state.json', present: true, readable: true },
      activities: { stored: 30, historyComplete: true },
      lastRun: { runner: 'lambda', created: 30, exitCode: 0 },
      deep: { activities: 30, uncatalogued: 0, drift: { detected: false } },
      deployment: { name: 'garmin-s3', checked: false },
      tokens: { local: { location: tokenPath, status: 'present', displayName: 'runner_1' }, deployed: null },
      health: { verdict: 'OK', causes: [] },
    })
    expect(report.deep.byType).toEqual({ running: 30 })
  })

  it('exits 1 on FAIL, with the next step: on an empty folder, sync, or point status elsewhere with --out', async () => {
    const result = await run(['--out', join(tmp, 'empty')])
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain('Health       FAIL')
    expect(result.stdout).toMatch(
      / {2}x Nothing has ever been synced here\.\n {4}-> Run `garmin-s3 login` once, then `garmin-s3 sync`/,
    )
    // An empty folder is often the wrong folder: the next step says how to point status elsewhere.
    expect(result.stdout).toMatch(
      /-> .*Synced elsewhere\? Point status at it: `--out <folder>`, or `--bucket <name>`/,
    )
    const json = await run(['--out', join(tmp, 'empty'), '--json'])
    expect(json.exitCode).toBe(1)
    expect(JSON.parse(json.stdout).health.verdict).toBe('FAIL')
  })

  it('without tokens, the next steps sign in to the --token-store given, in the text and in --json', async () => {
    const missing = join(tmp, 'elsewhere', 'tokens.json')
    const argv = ['--out', join(tmp, 'empty'), '--token-store', missing]
    const hint = `Run \`garmin-s3 login --token-store ${missing}\` first (or pass the right --token-store).`
    const result = await run(argv)
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toContain(`Tokens       ${missing}: none. ${hint}`)
    expect(result.stdout).toContain(`-> ${hint} Then \`garmin-s3 sync\`.`)
    const report = JSON.parse((await run([...argv, '--json'])).stdout)
    expect(report.tokens.local).toMatchObject({ location: missing, status: 'absent', next: hint })
    expect(report.health.causes[0]).toMatchObject({
      code: 'nothing-synced',
      next: expect.stringContaining(hint),
    })
  })

  it('--repair implies --deep; bad flags are usage errors', async () => {
    const result = await run(['--out', synced, '--repair', '--json'])
    expect(JSON.parse(result.stdout)).toMatchObject({
      mode: 'deep',
      deep: { repair: { written: false, message: 'The state matches the listing: nothing to repair.' } },
    })
    expect((await run(['--out', synced, '--prefix', '../x'])).exitCode).toBe(2)
    expect((await run(['--out', synced, '--name', '1bad'])).exitCode).toBe(2)
  })

  it('--name checks the deployment even for a folder; what AWS denies is "unknown", not a crash', async () => {
    const denied = await startCannedS3(() => ({
      status: 403,
      headers: { 'content-type': 'application/json', 'x-amzn-errortype': 'AccessDeniedException' },
      body: JSON.stringify({ __type: 'AccessDeniedException', message: 'not authorized' }),
    }))
    let clients: AwsClients | undefined
    const aws = async () => {
      clients = motoClients(denied.endpoint, {
        accountId: '123456789012',
        credentials: { accessKeyId: 'a', secretAccessKey: 'b', sessionToken: 'c' },
      }).clients
      return clients
    }
    try {
      const human = await run(['--out', synced, '--name', 'my-sync'], { aws })
      expect(human.exitCode).toBe(0)
      expect(human.stdout).toContain(
        'Deployment   my-sync: function unknown (access denied (lambda:GetFunctionConfiguration))',
      )
      expect(human.stdout).toContain('Health       OK')
      const json = JSON.parse((await run(['--out', synced, '--name', 'my-sync', '--json'], { aws })).stdout)
      expect(json.deployment).toMatchObject({ name: 'my-sync', checked: true, deployed: null })
      expect(json.deployment.schedule.status).toBe('unknown')
    } finally {
      await denied.close()
    }
    expect(clients).toBeDefined()
  })

  it('takes the same target flags as sync', () => {
    const target = ['bucket', 'out', 'prefix', 'profile', 'region', 'endpoint', 'path-style'] as const
    for (const name of target) {
      const [a, b] = [Status.flags[name], Sync.flags[name]]
      expect({ type: a.type, default: a.default }).toEqual({ type: b.type, default: b.default })
    }
  })
})
