/**
 * `garmin-s3 login` and `logout`, run in-process against the simulator: every sign-in branch ends with
 * the right message and exit code and never retries the sign-in; nothing printed carries a secret.
 * The commands' outside world (environment, terminal, prompts, stdin) is replaced through their `io()`
 * / `env()` hooks, and their output is captured by overriding the log methods.
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import Login from '../src/commands/login.js'
import Logout from '../src/commands/logout.js'
import type { LoginIo } from '../src/garmin/login.js'
import { type CommandRun, runCommand } from './helpers/command.js'
import { type SimOptions, type Simulator, startSimulator } from './sim/server.js'

const MFA_USER = { email: 'mfa@example.com', password: 'mfa pass phrase 7', mfaCode: '246810' }

let tmp: string
const sims: Simulator[] = []
/** Everything any command printed in this file, for the leak scan at the end. */
const printed: string[] = []

interface Run extends CommandRun {
  prompts: string[]
}

interface Scenario {
  env?: Record<string, string>
  interactive?: boolean
  answers?: { email?: string; password?: string; mfa?: string }
  stdin?: string
}

async function run(command: 'login' | 'logout', argv: string[], scenario: Scenario = {}): Promise<Run> {
  const prompts: string[] = []
  const env = { HOME: tmp, ...scenario.env }
  const io: LoginIo = {
    env,
    interactive: scenario.interactive ?? false,
    promptEmail: async () => {
      prompts.push('email')
      return scenario.answers?.email ?? ''
    },
    promptPassword: async () => {
      prompts.push('password')
      return scenario.answers?.password ?? ''
    },
    promptMfa: async (method) => {
      prompts.push(`mfa:${method}`)
      return scenario.answers?.mfa ?? ''
    },
    readStdin: async () => scenario.stdin ?? '',
  }
  class TestLogin extends Login {
    protected override io(): LoginIo {
      return io
    }
  }
  class TestLogout extends Logout {
    protected override env(): NodeJS.ProcessEnv {
      return env
    }
  }
  const result = await runCommand(command === 'login' ? TestLogin : TestLogout, argv, { printed })
  return { ...result, prompts }
}

async function sim(options: SimOptions = {}): Promise<Simulator> {
  const s = await startSimulator({ activities: 5, ...options })
  sims.push(s)
  return s
}

const envFor = (s: Simulator, extra: Record<string, string> = {}) => ({
  GARMIN_S3_GARMIN_URL: s.url,
  GARMIN_EMAIL: s.user.email,
  GARMIN_PASSWORD: s.user.password,
  ...extra,
})

let storeCount = 0
const freshStore = () => join(tmp, `store-${++storeCount}`, 'tokens.json')

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-login-'))
})

afterEach(() => {
  process.exitCode = undefined
})

afterAll(async () => {
  // The leak scan: no password, ticket, access or refresh token in anything printed by this suite.
  const secrets = sims.flatMap((s) => s.secrets())
  expect(secrets.length).toBeGreaterThan(10)
  const all = printed.join('\n')
  expect(all.length).toBeGreaterThan(1000)
  for (const secret of secrets) expect(all).not.toContain(secret)
  await Promise.all(sims.map((s) => s.close()))
  await rm(tmp, { recursive: true, force: true })
})

describe('garmin-s3 login', () => {
  it('signs in, stores private tokens and says where and until when', async () => {
    const s = await sim()
    const store = freshStore()
    const r = await run('login', ['--token-store', store], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('as runner_1')
    expect(r.stdout).toContain(`Tokens stored in ${store}`)
    expect(r.stdout).toMatch(/expires \d{4}-\d\d-\d\dT.*refreshes it automatically from \d{4}-/)
    expect((await stat(store)).mode & 0o777).toBe(0o600)
    const saved = JSON.parse(await readFile(store, 'utf8')) as Record<string, unknown>
    expect(saved).toMatchObject({ version: 1, domain: 'garmin.com', displayName: 'runner_1' })
    expect(s.stats().byRoute.login).toEqual({ 200: 1 })
  })

  it('prints the same as one JSON object with --json, without secrets', async () => {
    const s = await sim()
    const store = freshStore()
    const r = await run('login', ['--json', '--token-store', store], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(r.json).toEqual({
      displayName: 'runner_1',
      domain: 'garmin.com',
      tokenStore: store,
      accessTokenExpiresAt: expect.any(String),
      refreshDueAt: expect.any(String),
      source: 'login',
    })
    expect(
      Date.parse(r.json!.accessTokenExpiresAt as string) - Date.parse(r.json!.refreshDueAt as string),
    ).toBe(15 * 60_000)
  })

  it('asks for the password (hidden prompt) and the MFA code on a terminal', async () => {
    const s = await sim({ user: MFA_USER })
    const r = await run('login', ['--token-store', freshStore(), '--email', MFA_USER.email], {
      env: { GARMIN_S3_GARMIN_URL: s.url },
      interactive: true,
      answers: { password: MFA_USER.password, mfa: MFA_USER.mfaCode },
    })
    expect(r.exitCode).toBe(0)
    expect(r.prompts).toEqual(['password', 'mfa:email'])
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 200: 1 } })
  })

  it('takes the MFA code from --mfa-code without a terminal', async () => {
    const s = await sim({ user: MFA_USER })
    const r = await run('login', ['--token-store', freshStore(), '--mfa-code', MFA_USER.mfaCode], {
      env: envFor(s),
    })
    expect(r.exitCode).toBe(0)
    expect(r.prompts).toEqual([])
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 200: 1 } })
  })

  it('exits 3 when MFA is needed and there is neither a terminal nor a code', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const r = await run('login', ['--token-store', store], { env: envFor(s) })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toMatch(/verification code/)
    expect(r.stderr).toMatch(/rerun interactively or pass --mfa-code/i)
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 } })
    await expect(stat(store)).rejects.toThrow()
  })

  it('exits 3 on a wrong MFA code', async () => {
    const s = await sim({ user: MFA_USER })
    const r = await run('login', ['--token-store', freshStore(), '--mfa-code', '111111'], { env: envFor(s) })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('did not accept the verification code')
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 }, mfa: { 200: 1 } })
  })

  it('exits 3 on a wrong password, without retrying', async () => {
    const s = await sim()
    const store = freshStore()
    const r = await run('login', ['--token-store', store], { env: envFor(s, { GARMIN_PASSWORD: 'not it' }) })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('rejected the email or password')
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 } })
    await expect(stat(store)).rejects.toThrow()
  })

  const blocked = [
    { name: 'a captcha', fault: { kind: 'captcha' }, exit: 4, says: /captcha/, hint: /--transport impit/ },
    {
      name: 'an HTML challenge',
      fault: { kind: 'html' },
      exit: 4,
      says: /challenge page/,
      hint: /--transport impit/,
    },
    {
      name: 'HTTP 403',
      fault: { kind: 'status', status: 403 },
      exit: 4,
      says: /HTTP 403/,
      hint: /wait about an hour/i,
    },
    {
      name: 'HTTP 429',
      fault: { kind: 'status', status: 429, retryAfter: 3600 },
      exit: 4,
      says: /429/,
      hint: /do not retry in a loop/,
    },
    {
      name: 'a 429 in the body',
      fault: { kind: 'rateLimitBody' },
      exit: 4,
      says: /429/,
      hint: /do not retry in a loop/,
    },
    {
      name: 'HTTP 503',
      fault: { kind: 'status', status: 503 },
      exit: 4,
      says: /HTTP 503/,
      hint: /try again later/i,
    },
  ] as const
  for (const c of blocked) {
    it(`exits ${c.exit} on ${c.name}, once, with advice`, async () => {
      const s = await sim()
      s.addFault({ route: 'login', fault: c.fault })
      const r = await run('login', ['--token-store', freshStore()], { env: envFor(s) })
      expect(r.exitCode).toBe(c.exit)
      const [message, hint] = r.stderr.split('\n')
      expect(message).toMatch(c.says)
      expect(hint).toMatch(c.hint)
      expect(s.stats().total).toBe(1)
    })
  }

  it('reports errors as JSON with --json', async () => {
    const s = await sim()
    s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
    const r = await run('login', ['--json', '--token-store', freshStore()], { env: envFor(s) })
    expect(r.exitCode).toBe(4)
    expect(r.json).toEqual({
      error: {
        name: 'RateLimitedError',
        message: expect.stringContaining('429'),
        hint: expect.any(String),
        exitCode: 4,
      },
    })
  })

  it('signs in through the impit transport', async () => {
    const s = await sim()
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('as runner_1')
  })

  it('never takes a password from a flag, and needs one from somewhere', async () => {
    const s = await sim()
    await expect(run('login', ['--password', 'x'], { env: envFor(s) })).rejects.toThrow(/Nonexistent flag/)
    const r = await run('login', ['--token-store', freshStore()], {
      env: { GARMIN_S3_GARMIN_URL: s.url, GARMIN_EMAIL: s.user.email },
    })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('GARMIN_PASSWORD')
    expect(s.stats().total).toBe(0)
  })

  it('refuses a non-loopback GARMIN_S3_GARMIN_URL and unknown domains', async () => {
    const r = await run('login', ['--token-store', freshStore()], {
      env: {
        GARMIN_S3_GARMIN_URL: 'http://garmin-elsewhere.invalid:80',
        GARMIN_EMAIL: 'a@b.c',
        GARMIN_PASSWORD: 'x',
      },
    })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('loopback')
    await expect(run('login', ['--domain', 'garmin.org'])).rejects.toThrow(/Expected --domain/)
  })
})

describe('garmin-s3 login --import', () => {
  async function issuedTokens(s: Simulator) {
    const store = freshStore()
    await run('login', ['--token-store', store], { env: envFor(s) })
    return JSON.parse(await readFile(store, 'utf8')) as {
      accessToken: string
      refreshToken: string
      clientId: string
    }
  }

  it('imports python-garminconnect tokens from their folder', async () => {
    const s = await sim()
    const t = await issuedTokens(s)
    const folder = join(tmp, '.garminconnect')
    await mkdir(folder, { recursive: true })
    await writeFile(
      join(folder, 'garmin_tokens.json'),
      JSON.stringify({ di_token: t.accessToken, di_refresh_token: t.refreshToken, di_client_id: t.clientId }),
    )
    s.resetStats()
    const store = freshStore()
    const r = await run('login', ['--import', '~/.garminconnect', '--token-store', store, '--json'], {
      env: { GARMIN_S3_GARMIN_URL: s.url },
    })
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({
      displayName: 'runner_1',
      source: 'import:python-garminconnect',
      tokenStore: store,
    })
    expect(s.stats().byRoute).toEqual({ socialProfile: { 200: 1 } })
    expect(JSON.parse(await readFile(store, 'utf8'))).toMatchObject({
      accessToken: t.accessToken,
      displayName: 'runner_1',
    })
  })

  it('imports our own format from standard input', async () => {
    const s = await sim()
    const source = freshStore()
    await run('login', ['--token-store', source], { env: envFor(s) })
    const r = await run('login', ['--import', '-', '--token-store', freshStore()], {
      env: { GARMIN_S3_GARMIN_URL: s.url },
      stdin: await readFile(source, 'utf8'),
    })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Imported tokens for Garmin Connect (garmin.com) as runner_1')
  })

  it('reads the python-garminconnect fixture and, its tokens being unknown to Garmin, asks for a login (exit 3)', async () => {
    const s = await sim()
    const store = freshStore()
    const r = await run(
      'login',
      ['--import', join(import.meta.dirname, 'fixtures/garminconnect_tokens.json'), '--token-store', store],
      {
        env: { GARMIN_S3_GARMIN_URL: s.url },
      },
    )
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('invalid_grant')
    expect(r.stderr).toContain('garmin-s3 login')
    // The fixture's token had expired, so it was refreshed first: one refresh, no login.
    expect(s.stats().byRoute).toEqual({ token: { 400: 1 } })
    await expect(stat(store)).rejects.toThrow()
    const raw = JSON.parse(
      await readFile(join(import.meta.dirname, 'fixtures/garminconnect_tokens.json'), 'utf8'),
    )
    expect(r.stderr).not.toContain(raw.di_refresh_token)
  })

  it('explains what it cannot read', async () => {
    const r = await run('login', ['--import', join(tmp, 'missing.json'), '--token-store', freshStore()])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('Cannot read')
    const notTokens = join(tmp, 'not-tokens.json')
    await writeFile(notTokens, '{"hello": "world"}')
    const r2 = await run('login', ['--import', notTokens, '--token-store', freshStore()])
    expect(r2.exitCode).toBe(1)
    expect(r2.stderr).toContain('not a token file')
  })
})

describe('garmin-s3 logout', () => {
  it('deletes the stored tokens, and is fine to run twice', async () => {
    const s = await sim()
    const store = freshStore()
    await run('login', ['--token-store', store], { env: envFor(s) })
    const first = await run('logout', ['--token-store', store])
    expect(first.exitCode).toBe(0)
    expect(first.stdout).toContain(`Deleted the Garmin tokens in ${store}`)
    await expect(stat(store)).rejects.toThrow()
    const second = await run('logout', ['--json'], { env: { GARMIN_S3_TOKEN_STORE: store } })
    expect(second.exitCode).toBe(0)
    expect(second.json).toEqual({ tokenStore: store, removed: false })
  })
})
