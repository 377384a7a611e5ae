/**
 * Resumable MFA across processes, the way a user without a terminal (CI, a script, ssh without a tty)
 * runs it: `garmin-s3 login` (built CLI, bin/run.js) stops at the code and keeps the SSO session in a
 * private pending file; a second process with `--mfa-code` finishes it in that same session.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runProcess } from './helpers/process.js'
import { type Simulator, startSimulator } from './sim/server.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const CLI = join(ROOT, 'bin', 'run.js')
const USER = { email: 'mfa@example.com', password: 'mfa pass phrase 7', mfa: 'email' as const }

let tmp: string
let sim: Simulator

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'login.js'))) throw new Error('run `npm run build` first')
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-mfa-'))
  sim = await startSimulator({ activities: 3, user: USER })
})
afterAll(async () => {
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

/** `credentials: false`: no GARMIN_EMAIL or GARMIN_PASSWORD, so only a pending sign-in can be finished. */
function login(store: string, args: string[] = [], { credentials = true } = {}) {
  return runProcess(
    process.execPath,
    [CLI, 'login', '--token-store', store, '--transport', 'fetch', ...args],
    {
      cwd: ROOT,
      env: {
        PATH: process.env.PATH,
        HOME: tmp,
        NO_COLOR: '1',
        GARMIN_S3_GARMIN_URL: sim.garminUrl,
        ...(credentials ? { GARMIN_EMAIL: USER.email, GARMIN_PASSWORD: USER.password } : {}),
      },
    },
  )
}

const newestCode = () => sim.inbox().at(-1)?.code ?? 'none sent'

describe('login --mfa-code in a new process', () => {
  it('a login without a terminal exits 3 and leaves a 0600 pending file; the inbox code finishes it', async () => {
    const store = join(tmp, 'a', 'tokens.json')
    const first = await login(store)
    expect(first.code).toBe(3)
    expect(first.stderr).toContain(
      `a code was sent by email; run garmin-s3 login --mfa-code <code> --token-store ${store} --transport fetch within 10 minutes`,
    )
    const pending = join(dirname(store), 'signin-pending.json')
    expect((await stat(pending)).mode & 0o777).toBe(0o600)
    expect(await readFile(pending, 'utf8')).not.toContain(USER.password)
    await expect(stat(store)).rejects.toThrow()

    const second = await login(store, ['--mfa-code', newestCode(), '--json'])
    expect(second.code).toBe(0)
    expect(JSON.parse(second.stdout)).toMatchObject({ displayName: 'runner_1', source: 'login' })
    expect((await stat(store)).mode & 0o777).toBe(0o600)
    await expect(stat(pending)).rejects.toThrow()

    // The same code again: that sign-in is over, and it says so rather than asking for an email.
    const again = await login(store, ['--mfa-code', newestCode()], { credentials: false })
    expect(again.code).toBe(2)
    const [message, hint] = again.stderr.trim().split('\n').slice(-2)
    expect(message).toContain(
      `There is no pending sign-in for --mfa-code to finish: none waits in ${pending}`,
    )
    expect(hint).toContain(`Run \`garmin-s3 login --token-store ${store}\` to start one`)
  })

  it('a wrong code keeps the session; the right one then signs in', async () => {
    const store = join(tmp, 'b', 'tokens.json')
    expect((await login(store)).code).toBe(3)
    const sent = sim.inbox().length
    const code = newestCode()
    const wrong = await login(store, ['--mfa-code', code === '000000' ? '000001' : '000000'])
    expect(wrong.code).toBe(3)
    expect(wrong.stderr).toContain('did not accept the verification code')
    const right = await login(store, ['--mfa-code', code])
    expect(right.code).toBe(0)
    expect(right.stdout).toContain('Signed in to Garmin Connect (garmin.com) as runner_1')
    // No new code was sent: all three processes used the first one's session.
    expect(sim.inbox()).toHaveLength(sent)
  })
})
