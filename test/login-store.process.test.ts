/**
 * `garmin-s3 login` checks where the tokens go before it sends the password, in a process whose whole
 * environment the test sets: an SSM token store without any AWS region (no AWS_REGION, no profile
 * file) must stop with exit 2 before a single request reaches Garmin, not after a sign-in that would
 * cost a rate-limited attempt (and maybe an MFA code) only to lose the tokens.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { runProcess } from './helpers/process.js'
import { TEST_CREDENTIALS, TEST_REGION } from './helpers/servers.js'
import { type Simulator, startSimulator } from './sim/server.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(ROOT, 'bin', 'run.js')

let tmp: string
let sim: Simulator

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'login.js'))) throw new Error('run `npm run build` first')
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-login-store-'))
  sim = await startSimulator({ activities: 3 })
})
afterAll(async () => {
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

/** A home of its own and no AWS profile files: nothing of this machine's configuration reaches the CLI. */
function isolatedEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: tmp,
    NO_COLOR: '1',
    AWS_CONFIG_FILE: join(tmp, 'no-such-config'),
    AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'no-such-credentials'),
  }
}

/** The CLI with no AWS region anywhere the SDK looks: not in the environment, not in a profile file. */
function cliWithoutRegion(args: string[]) {
  return runProcess(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: {
      ...isolatedEnv(),
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-real-secret',
      GARMIN_S3_GARMIN_URL: sim.garminUrl,
      GARMIN_EMAIL: sim.user.email,
      GARMIN_PASSWORD: sim.user.password,
    },
  })
}

describe('login and logout with --token-store ssm:/... and no AWS region', () => {
  it('exits 2 naming the parameter and how to give a region, before any request to Garmin', async () => {
    sim.resetStats()
    const r = await cliWithoutRegion(['login', '--token-store', 'ssm:/x/tokens', '--transport', 'fetch'])
    expect(r.code).toBe(2)
    const [message, hint] = r.stderr.trim().split('\n').slice(-2)
    expect(message).toContain('ssm:/x/tokens')
    expect(message).toMatch(/no AWS region/i)
    expect(hint).toContain('AWS_REGION')
    // login has no --region flag: the hint must not send the user looking for one.
    expect(hint).not.toContain('--region')
    expect(sim.stats().total).toBe(0)
  })

  it('logout says the same, and no command is told to pass a --region it does not have', async () => {
    const r = await cliWithoutRegion(['logout', '--token-store', 'ssm:/x/tokens'])
    expect(r.code).toBe(2)
    const [message, hint] = r.stderr.trim().split('\n').slice(-2)
    expect(message).toContain('No AWS region configured for the SSM token store ssm:/x/tokens')
    expect(hint).toMatch(/AWS_REGION/)
    expect(hint).not.toContain('--region')
  })
})

/**
 * A token file that `deploy` turned into a pointer to the deployment's SSM parameter (moto here), when
 * that parameter is gone or cannot be read: the hint names commands, and those very commands, typed
 * as the hint gives them, must get the user signed in again (the next sync then works).
 */
describe('a token file pointing to an SSM parameter that is gone or unreadable', () => {
  let count = 0
  /** A pointer file at a path of the user's choosing, to a parameter that does not exist in moto. */
  async function pointerFile(): Promise<{ path: string; parameter: string }> {
    const dir = join(tmp, `pointer-${++count}`)
    await mkdir(dir, { mode: 0o700 })
    const path = join(dir, 'tokens.json')
    const parameter = `ssm:/gone-${process.pid}-${count}/tokens`
    const pointer = { kind: 'garmin-s3-token-pointer', version: 1, store: parameter, region: TEST_REGION }
    await writeFile(path, `${JSON.stringify(pointer)}\n`, { mode: 0o600 })
    return { path, parameter }
  }

  /** The CLI against the simulator; with `aws`, credentials for moto, else none anywhere. */
  function cli(args: string[], options: { aws: boolean; password?: boolean }) {
    return runProcess(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      env: {
        ...isolatedEnv(),
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_SSM: inject('motoEndpoint'),
        AWS_REGION: TEST_REGION,
        ...(options.aws
          ? {
              AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
              AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
            }
          : {}),
        GARMIN_S3_GARMIN_URL: sim.garminUrl,
        ...(options.password ? { GARMIN_EMAIL: sim.user.email, GARMIN_PASSWORD: sim.user.password } : {}),
      },
    })
  }

  /** The `garmin-s3 ...` commands a hint names, as argument lists. */
  const commandsIn = (hint: string) =>
    [...hint.matchAll(/`garmin-s3 ([^`]+)`/g)].map((m) => (m[1] ?? '').split(/\s+/).filter(Boolean))

  const sync = (path: string, aws: boolean) =>
    cli(['sync', '--out', join(dirname(path), 'lake'), '--token-store', path], { aws })

  it('the parameter is gone: each command the hint names signs in, and the next sync works', async () => {
    for (const which of [0, 1]) {
      const { path, parameter } = await pointerFile()
      const failed = await sync(path, true)
      expect(failed.code).toBe(3)
      const [message, hint = ''] = failed.stderr.trim().split('\n').slice(-2)
      expect(message).toContain(`No Garmin tokens are stored at ${parameter} (via ${path})`)
      expect(hint).toContain('replaces the pointer')
      const commands = commandsIn(hint)
      expect(commands.map((c) => c.join(' '))).toEqual([
        `login --token-store ${path}`,
        `login --token-store ${parameter}`,
      ])
      const login = await cli(commands[which] ?? [], {
        aws: true,
        password: true,
      })
      expect([login.code, login.stderr]).toEqual([0, expect.any(String)])
      const file = await readFile(path, 'utf8')
      // The first replaces the pointer with the tokens; the second signs the parameter in, pointer kept.
      expect(file.includes('garmin-s3-token-pointer')).toBe(which === 1)
      const again = await sync(path, true)
      expect([again.code, again.stderr]).toEqual([0, expect.any(String)])
    }
  })

  it('the parameter cannot be read (no AWS credentials): login alone stops before Garmin; the hint’s commands work', async () => {
    const { path, parameter } = await pointerFile()
    const failed = await sync(path, false)
    expect(failed.code).toBe(1)
    const [message, hint = ''] = failed.stderr.trim().split('\n').slice(-2)
    expect(message).toContain(parameter.slice('ssm:'.length))
    expect(message).toContain(`${path} points there`)
    const commands = commandsIn(hint)
    expect(commands.map((c) => c.join(' '))).toEqual([
      `logout --token-store ${path}`,
      `login --token-store ${path}`,
    ])
    // A login on its own would sign in and then fail to save through the pointer: it stops first.
    sim.resetStats()
    const alone = await cli(['login', '--token-store', path, '--transport', 'fetch'], {
      aws: false,
      password: true,
    })
    expect(alone.code).not.toBe(0)
    expect(alone.stderr).toContain('Nothing was sent to Garmin')
    expect(sim.stats().total).toBe(0)
    for (const command of commands) {
      // Literally as the hint gives it: no flag added.
      const r = await cli(command, { aws: false, password: true })
      expect([command.join(' '), r.code, r.stderr]).toEqual([command.join(' '), 0, expect.any(String)])
    }
    const again = await sync(path, false)
    expect([again.code, again.stderr]).toEqual([0, expect.any(String)])
  })
})
