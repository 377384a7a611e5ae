/**
 * `garmin-s3 login` checks where the tokens go before it sends the password, in a process whose whole
 * environment the test sets: an SSM token store without any AWS region (no AWS_REGION, no profile
 * file) must stop with exit 2 before a single request reaches Garmin, not after a sign-in that would
 * cost a rate-limited attempt (and maybe an MFA code) only to lose the tokens.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProcess } from './helpers/process.js'
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

/** The CLI with no AWS region anywhere the SDK looks: not in the environment, not in a profile file. */
function cliWithoutRegion(args: string[]) {
  return runProcess(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: tmp,
      NO_COLOR: '1',
      AWS_CONFIG_FILE: join(tmp, 'no-such-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(tmp, 'no-such-credentials'),
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
