/**
 * `garmin-s3 login` and `logout`, run in-process against the simulator: every sign-in branch ends with
 * the right message and exit code and never retries the sign-in; nothing printed carries a secret.
 * The commands' outside world (environment, terminal, prompts, stdin) is replaced through their `io()`
 * / `env()` hooks, and their output is captured by overriding the log methods.
 */
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import Login from '../src/commands/login.js'
import Logout from '../src/commands/logout.js'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import type { LoginIo } from '../src/garmin/login.js'
import { openTokenStore } from '../src/garmin/tokens.js'
import { readTokenSummary } from '../src/status/tokens.js'
import { type CommandRun, runCommand } from './helpers/command.js'
import { FakeClock } from './helpers/fake-clock.js'
import { impitLoads } from './helpers/impit.js'
import { DI_CLIENT_IDS } from './sim/auth.js'
import { type SimOptions, type Simulator, startSimulator } from './sim/server.js'

const MFA_USER = { email: 'mfa@example.com', password: 'mfa pass phrase 7', mfa: 'email' as const }
/** One clock for the simulators and the commands: MFA expiry and the anti-bot pauses cost no time. */
const clock = new FakeClock()

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
  /** `mfa`: the answers to the code prompt, one per question (a function reads the sim's inbox then). */
  answers?: { email?: string; password?: string; mfa?: (string | (() => string))[] }
  stdin?: string
  /** Stands in for `import('impit')`: a platform where impit cannot load. */
  importImpit?: () => Promise<unknown>
  tokenStoreOptions?: LoginIo['tokenStoreOptions']
  /** The prompt the person presses Ctrl-C at: it rejects as @inquirer's prompts do. */
  cancelAt?: 'email' | 'password' | 'mfa'
}

/** What @inquirer's prompts reject with on Ctrl-C or a closed terminal (@inquirer/core's ExitPromptError). */
class ExitPromptError extends Error {
  override name = 'ExitPromptError'
}
const ctrlC = () => Promise.reject(new ExitPromptError('User force closed the prompt with SIGINT'))

async function run(command: 'login' | 'logout', argv: string[], scenario: Scenario = {}): Promise<Run> {
  const prompts: string[] = []
  const env = { HOME: tmp, ...scenario.env }
  const io: LoginIo = {
    env,
    interactive: scenario.interactive ?? false,
    promptEmail: async () => {
      prompts.push('email')
      if (scenario.cancelAt === 'email') return ctrlC()
      return scenario.answers?.email ?? ''
    },
    promptPassword: async () => {
      prompts.push('password')
      if (scenario.cancelAt === 'password') return ctrlC()
      return scenario.answers?.password ?? ''
    },
    promptMfa: async (method) => {
      if (scenario.cancelAt === 'mfa') {
        prompts.push(`mfa:${method}`)
        return ctrlC()
      }
      const answer = scenario.answers?.mfa?.[prompts.filter((p) => p.startsWith('mfa:')).length] ?? ''
      prompts.push(`mfa:${method}`)
      return typeof answer === 'function' ? answer() : answer
    },
    readStdin: async () => scenario.stdin ?? '',
    clock,
    ...(scenario.importImpit ? { importImpit: scenario.importImpit } : {}),
    ...(scenario.tokenStoreOptions ? { tokenStoreOptions: scenario.tokenStoreOptions } : {}),
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
  const s = await startSimulator({ activities: 5, now: () => clock.now(), ...options })
  sims.push(s)
  return s
}

/** The newest code the simulator sent. */
const newestCode = (s: Simulator) => () => s.inbox().at(-1)?.code ?? 'none sent'
const wrongCode = (s: Simulator) => () => ((s.inbox().at(-1)?.code ?? '') === '000000' ? '000001' : '000000')

/** The per-host listeners: a request sent to the wrong Garmin host fails, as it would at Garmin. */
const envFor = (s: Simulator, extra: Record<string, string> = {}) => ({
  GARMIN_S3_GARMIN_URL: s.garminUrl,
  GARMIN_EMAIL: s.user.email,
  GARMIN_PASSWORD: s.user.password,
  ...extra,
})

/** The first sign-in strategy of the default transport: browser-like TLS wherever impit loads. */
const FIRST = impitLoads ? 'mobile (impit)' : 'mobile'

/** The names in a folder; none when it was never created. */
const readdirOrEmpty = (dir: string) => readdir(dir).catch(() => [])

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
      requests: 3,
      strategies: [{ strategy: FIRST, outcome: 'signed in' }],
    })
    expect(
      Date.parse(r.json!.accessTokenExpiresAt as string) - Date.parse(r.json!.refreshDueAt as string),
    ).toBe(15 * 60_000)
  })

  it('asks for the password (hidden prompt) and the MFA code on a terminal', async () => {
    const s = await sim({ user: MFA_USER })
    const r = await run('login', ['--token-store', freshStore(), '--email', MFA_USER.email], {
      env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
      interactive: true,
      answers: { password: MFA_USER.password, mfa: [newestCode(s)] },
    })
    expect(r.exitCode).toBe(0)
    expect(r.prompts).toEqual(['password', 'mfa:email'])
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 200: 1 } })
  })

  it('Ctrl-C at the email, password or code prompt: one quiet line, exit 130, nothing written', async () => {
    for (const cancelAt of ['email', 'password', 'mfa'] as const) {
      const s = await sim({ user: MFA_USER })
      const store = freshStore()
      const scenario: Scenario = {
        env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
        interactive: true,
        answers: { email: MFA_USER.email, password: MFA_USER.password },
        cancelAt,
      }
      const r = await run('login', ['--token-store', store], scenario)
      expect(r.prompts.at(-1)).toBe(cancelAt === 'mfa' ? 'mfa:email' : cancelAt)
      expect([r.exitCode, r.stdout]).toEqual([130, ''])
      // After the strategy lines (at the code prompt), one line: no error, no "bug", no stack.
      const lines = r.stderr.split('\n')
      expect(lines.at(-1)).toBe('Cancelled; nothing was changed.')
      expect(lines.slice(0, -1).every((line) => line.startsWith('sign-in: '))).toBe(true)
      // No tokens, and no pending sign-in (whose cookies would finish the sign-in with the code).
      expect(await readdirOrEmpty(dirname(store))).toEqual([])
      expect(s.stats().byRoute.login ?? {}).toEqual(cancelAt === 'mfa' ? { 200: 1 } : {})

      const json = await run('login', ['--json', '--token-store', store], scenario)
      expect(json.exitCode).toBe(130)
      expect(json.stderr).not.toContain('Cancelled')
      expect(json.json).toEqual({
        error: { name: 'Cancelled', message: 'Cancelled; nothing was changed.', hint: null, exitCode: 130 },
      })
    }
  })

  it('lets the terminal prompt try a code three times in the same session', async () => {
    const s = await sim({ user: MFA_USER })
    const ok = await run('login', ['--token-store', freshStore()], {
      env: envFor(s),
      interactive: true,
      answers: { mfa: [wrongCode(s), wrongCode(s), newestCode(s)] },
    })
    expect(ok.exitCode).toBe(0)
    expect(ok.prompts).toEqual(['mfa:email', 'mfa:email', 'mfa:email'])
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 200: 3 } })
    expect(s.inbox()).toHaveLength(1)
    const three = await run('login', ['--token-store', freshStore()], {
      env: envFor(s),
      interactive: true,
      answers: { mfa: [wrongCode(s), wrongCode(s), wrongCode(s), newestCode(s)] },
    })
    expect(three.exitCode).toBe(3)
    expect(three.prompts).toHaveLength(3)
    expect(three.stderr).toContain('did not accept the verification code')
  })

  it('without a terminal, keeps the MFA session in a private pending file (no password) and exits 3', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const r = await run('login', ['--token-store', store], { env: envFor(s) })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain(
      `a code was sent by email; run garmin-s3 login --mfa-code <code> --token-store ${store} within 10 minutes`,
    )
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 } })
    await expect(stat(store)).rejects.toThrow()
    const pending = join(dirname(store), 'signin-pending.json')
    expect((await stat(pending)).mode & 0o777).toBe(0o600)
    const text = await readFile(pending, 'utf8')
    expect(text).not.toContain(MFA_USER.password)
    expect(JSON.parse(text)).toMatchObject({
      strategy: FIRST,
      method: 'email',
      cookies: expect.any(Array),
    })
  })

  it('resumes that session with --mfa-code: a wrong code leaves it pending, the right one signs in', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const env = envFor(s)
    expect((await run('login', ['--token-store', store], { env })).exitCode).toBe(3)
    const wrong = await run('login', ['--token-store', store, '--mfa-code', wrongCode(s)()], { env })
    expect(wrong.exitCode).toBe(3)
    expect(wrong.stderr).toContain('did not accept the verification code')
    expect(wrong.stderr).toContain('--mfa-code')
    const right = await run('login', ['--token-store', store, '--mfa-code', newestCode(s)(), '--json'], {
      env,
    })
    expect(right.exitCode).toBe(0)
    expect(right.json).toMatchObject({ displayName: 'runner_1', source: 'login' })
    // One sign-in, one code sent: the second and third runs went on with the first run's session.
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 200: 2 }, token: { 200: 1 } })
    expect(s.inbox()).toHaveLength(1)
    await expect(stat(join(dirname(store), 'signin-pending.json'))).rejects.toThrow()
    expect((await stat(store)).mode & 0o777).toBe(0o600)
  })

  it('the command the MFA message gives, typed with the code, finishes that sign-in (a chosen --token-store)', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const env = envFor(s)
    const first = await run('login', ['--token-store', store, '--transport', 'fetch'], { env })
    expect(first.exitCode).toBe(3)
    const command = /run garmin-s3 login (.*?) within 10 minutes/.exec(first.stderr)?.[1]
    expect(command, first.stderr).toBeDefined()
    const argv = (command ?? '').replace('<code>', newestCode(s)()).split(/\s+/)
    const second = await run('login', argv, { env })
    expect([second.exitCode, second.stderr]).toEqual([0, expect.any(String)])
    expect(await openTokenStore(store, env).load()).toMatchObject({ displayName: 'runner_1' })
    // The first run's session: no second code, no second password.
    expect(s.inbox()).toHaveLength(1)
    expect(s.stats().byRoute.login).toEqual({ 200: 1 })
  })

  it('says when the pending session has expired (exit 3), and sends nothing to Garmin', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const env = envFor(s)
    expect((await run('login', ['--token-store', store], { env })).exitCode).toBe(3)
    const code = newestCode(s)()
    clock.advance(11 * 60_000)
    s.resetStats()
    const late = await run('login', ['--token-store', store, '--mfa-code', code], { env })
    expect(late.exitCode).toBe(3)
    expect(late.stderr).toMatch(/pending sign-in expired/i)
    expect(late.stderr).toContain(`Run \`garmin-s3 login --token-store ${store}\` again`)
    expect(s.stats().total).toBe(0)
  })

  it('--mfa-code with no sign-in pending (never started, or already finished) says so and how to start one: exit 2, nothing sent', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    // No email or password anywhere: --mfa-code alone can only finish a pending sign-in.
    const env = { GARMIN_S3_GARMIN_URL: s.garminUrl }
    const nothingPending = async () => {
      s.resetStats()
      const r = await run('login', ['--token-store', store, '--mfa-code', '123456'], { env })
      expect(r.exitCode).toBe(2)
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect(message).toMatch(/no pending sign-in/i)
      expect(message).toContain(join(dirname(store), 'signin-pending.json'))
      expect(r.stderr).not.toContain('No Garmin email given')
      expect(hint).toContain(`garmin-s3 login --token-store ${store}`)
      expect(s.stats().total).toBe(0)
    }
    await nothingPending()
    expect((await run('login', ['--token-store', store], { env: envFor(s) })).exitCode).toBe(3)
    const done = await run('login', ['--token-store', store, '--mfa-code', newestCode(s)()], { env })
    expect(done.exitCode).toBe(0)
    await nothingPending()
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
    it(`exits ${c.exit} on ${c.name} from every sign-in, trying each once, with advice`, async () => {
      const s = await sim()
      s.addFault({ route: 'login', fault: c.fault })
      s.addFault({ route: 'portalLogin', fault: c.fault })
      const r = await run('login', ['--token-store', freshStore(), '--transport', 'fetch'], {
        env: envFor(s),
      })
      expect(r.exitCode).toBe(c.exit)
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect(message).toMatch(c.says)
      expect(hint).toMatch(c.hint)
      const requests = Object.entries(s.stats().byRoute).map(([route, byStatus]) => [
        route,
        Object.values(byStatus ?? {}).reduce((x, y) => x + y, 0),
      ])
      expect(Object.fromEntries(requests)).toEqual({ login: 1, portalPage: 1, portalLogin: 1 })
    })
  }

  it('reports errors as JSON with --json', async () => {
    const s = await sim()
    for (const route of ['login', 'widgetLogin', 'portalLogin'] as const) {
      s.addFault({ route, fault: { kind: 'status', status: 429 } })
    }
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

  it.runIf(impitLoads)('signs in through the impit transport', async () => {
    const s = await sim()
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('as runner_1')
  })

  it('where impit cannot load, --transport impit exits 2 saying how to get it, and sends nothing', async () => {
    const s = await sim()
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], {
      env: envFor(s),
      importImpit: () => Promise.reject(new Error("Cannot find package 'impit'")),
    })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/optional package "impit"/)
    expect(r.stderr).toMatch(/optional dependencies/)
    expect(s.stats().byRoute).toEqual({})
  })
})

/** The strategy lines a login printed (stderr), e.g. "sign-in: mobile (impit): rate-limited (HTTP 429)". */
const strategyLines = (r: Run) => r.stderr.split('\n').filter((line) => line.startsWith('sign-in: '))

describe('garmin-s3 login: the sign-in strategies', () => {
  it.runIf(impitLoads)(
    'gets past the bot check with the default transport (impit where it loads)',
    async () => {
      const s = await sim({ botCheck: { answer: 'captcha' } })
      const r = await run('login', ['--token-store', freshStore()], { env: envFor(s) })
      expect(r.exitCode).toBe(0)
      expect(strategyLines(r)).toEqual([expect.stringMatching(/^sign-in: mobile \(impit\): signed in/)])
    },
  )

  it('where impit cannot load, the default transport says so once and signs in with fetch', async () => {
    const s = await sim()
    const r = await run('login', ['--token-store', freshStore()], {
      env: envFor(s),
      importImpit: () => Promise.reject(new Error("Cannot find package 'impit'")),
    })
    expect(r.exitCode).toBe(0)
    expect(strategyLines(r)).toEqual([
      expect.stringMatching(
        /^sign-in: impit \(browser-like TLS\) could not be loaded here \(Cannot find package 'impit'\): skipping mobile \(impit\), widget \(impit\), portal \(impit\)$/,
      ),
      expect.stringMatching(/^sign-in: mobile: signed in/),
    ])
  })

  it.runIf(impitLoads)('gets past the bot check with the impit transport', async () => {
    const s = await sim({ botCheck: { answer: 'captcha' } })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit', '--json'], {
      env: envFor(s),
    })
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({
      displayName: 'runner_1',
      requests: 3,
      strategies: [{ strategy: 'mobile (impit)', outcome: 'signed in' }],
    })
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 }, token: { 200: 1 }, socialProfile: { 200: 1 } })
  })

  it('exits 4 with the challenge message when only fetch is allowed, saying the impersonated ways were skipped', async () => {
    const s = await sim({ botCheck: { answer: 'captcha' } })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'fetch'], { env: envFor(s) })
    expect(r.exitCode).toBe(4)
    const lines = strategyLines(r)
    expect(lines).toEqual([
      expect.stringMatching(
        /^sign-in: .*--transport fetch.* skipping mobile \(impit\), widget \(impit\), portal \(impit\)/,
      ),
      expect.stringMatching(/^sign-in: mobile: bot challenge/),
      expect.stringMatching(/^sign-in: portal: bot challenge/),
    ])
    expect(r.stderr).toMatch(/bot protection|captcha/)
    expect(r.stderr).toMatch(/--transport impit/)
  })

  it.runIf(impitLoads)(
    'with 429 on the mobile login only (and the bot check on), moves on and signs in through the embed widget',
    async () => {
      const s = await sim({ botCheck: { answer: 'html' } })
      s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
      const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], {
        env: envFor(s),
      })
      expect(r.exitCode).toBe(0)
      expect(strategyLines(r)).toEqual([
        expect.stringMatching(/^sign-in: mobile \(impit\): rate-limited \(HTTP 429\)/),
        // Cloudflare stands in front of the rate limit: plain TLS meets the challenge first.
        expect.stringMatching(/^sign-in: mobile: bot challenge \(challenge page\)/),
        expect.stringMatching(/^sign-in: widget \(impit\): signed in/),
      ])
      expect(s.stats().byRoute).toMatchObject({
        login: { 429: 1, 403: 1 },
        widgetEmbed: { 200: 1 },
        widgetPage: { 200: 1 },
        widgetLogin: { 200: 1 },
        token: { 200: 1 },
      })
      expect(clock.sleeps.some((ms) => ms >= 3000 && ms <= 8000)).toBe(true)
    },
  )

  it('with 429 on the mobile login and fetch only, signs in through the portal', async () => {
    const s = await sim()
    s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'fetch', '--json'], {
      env: envFor(s),
    })
    expect(r.exitCode).toBe(0)
    expect(r.json).toMatchObject({
      strategies: [
        { strategy: 'mobile', outcome: 'rate-limited (HTTP 429)' },
        { strategy: 'portal', outcome: 'signed in' },
      ],
    })
    expect(s.stats().byRoute).toMatchObject({
      login: { 429: 1 },
      portalPage: { 200: 1 },
      portalLogin: { 200: 1 },
    })
  })

  it.runIf(impitLoads)('stops at once on a wrong password: exactly one login request, exit 3', async () => {
    const s = await sim({ botCheck: { answer: 'captcha' } })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], {
      env: envFor(s, { GARMIN_PASSWORD: 'not it' }),
    })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('rejected the email or password')
    expect(s.stats().byRoute).toEqual({ login: { 200: 1 } })
    expect(strategyLines(r)).toEqual([
      expect.stringMatching(/^sign-in: mobile \(impit\): wrong email or password/),
    ])
  })

  /** How many times the password went to Garmin: the credential posts of every strategy. */
  const passwordPosts = (s: Simulator) =>
    (['login', 'widgetLogin', 'portalLogin'] as const)
      .flatMap((route) => Object.values(s.stats().byRoute[route] ?? {}))
      .reduce((a, b) => a + b, 0)
  const LOCKED = { email: 'locked@example.com', password: 'locked pass phrase 9', locked: true }

  for (const transport of ['auto', 'fetch'] as const) {
    it(`stops at once on a locked account (--transport ${transport}): one password sent, exit 3, says to unlock it at Garmin`, async () => {
      const s = await sim({ user: LOCKED })
      const store = freshStore()
      const r = await run('login', ['--token-store', store, '--transport', transport], { env: envFor(s) })
      expect(r.exitCode).toBe(3)
      expect(passwordPosts(s)).toBe(1)
      expect(strategyLines(r).filter((line) => !line.includes('impit is not in use'))).toEqual([
        expect.stringMatching(/^sign-in: mobile( \(impit\))?: account locked/),
      ])
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect(message).toMatch(/Garmin says the account is locked/)
      expect(hint).toMatch(/connect\.garmin\.com/)
      expect(hint).toMatch(/do not retry/i)
      await expect(stat(store)).rejects.toThrow()
    })
  }

  it.runIf(impitLoads)('stops at the embed widget when its page says the account is locked', async () => {
    const s = await sim({ user: LOCKED })
    s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'impit'], { env: envFor(s) })
    expect(r.exitCode).toBe(3)
    expect(strategyLines(r).at(-1)).toMatch(/^sign-in: widget \(impit\): account locked/)
    // The mobile posts met the 429 before any password check; the widget's was the one answered.
    expect(s.stats().byRoute.widgetLogin).toEqual({ 200: 1 })
    expect(s.stats().byRoute.portalLogin).toBeUndefined()
    expect(r.stderr).toMatch(/Garmin says the account is locked/)
  })

  it('moves on when the API does not accept the token a strategy got', async () => {
    const s = await sim()
    s.addFault({ route: 'socialProfile', fault: { kind: 'status', status: 401 }, times: 1 })
    const r = await run('login', ['--token-store', freshStore(), '--transport', 'fetch'], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(strategyLines(r)).toEqual([
      expect.stringMatching(/skipping mobile \(impit\)/),
      expect.stringMatching(/^sign-in: mobile: token refused by the API/),
      expect.stringMatching(/^sign-in: portal: signed in/),
    ])
  })

  it.runIf(impitLoads)(
    'finishes an MFA sign-in in the widget’s session when the mobile login is rate-limited, in a later run too',
    async () => {
      const s = await sim({ user: MFA_USER })
      s.addFault({ route: 'login', fault: { kind: 'status', status: 429 } })
      const store = freshStore()
      const env = envFor(s)
      const first = await run('login', ['--token-store', store, '--transport', 'impit'], { env })
      expect(first.exitCode).toBe(3)
      expect(strategyLines(first).at(-1)).toMatch(
        /^sign-in: widget \(impit\): verification code sent by email/,
      )
      const pending = JSON.parse(await readFile(join(dirname(store), 'signin-pending.json'), 'utf8'))
      expect(pending).toMatchObject({ strategy: 'widget (impit)', state: { csrf: expect.any(String) } })
      const wrong = await run(
        'login',
        ['--token-store', store, '--transport', 'impit', '--mfa-code', wrongCode(s)()],
        { env },
      )
      expect(wrong.exitCode).toBe(3)
      const right = await run(
        'login',
        ['--token-store', store, '--transport', 'impit', '--mfa-code', newestCode(s)()],
        { env },
      )
      expect(right.exitCode).toBe(0)
      expect(s.stats().byRoute).toMatchObject({
        widgetLogin: { 200: 1 },
        widgetMfa: { 200: 2 },
        token: { 200: 1 },
      })
      expect(s.inbox()).toHaveLength(1)
    },
  )

  it('sends the code to the portal’s verifyCode when the mobile one answers 429, in the same session', async () => {
    const s = await sim({ user: MFA_USER })
    s.addFault({ route: 'mfa', fault: { kind: 'status', status: 429 } })
    const r = await run('login', ['--token-store', freshStore()], {
      env: envFor(s),
      interactive: true,
      answers: { mfa: [newestCode(s)] },
    })
    expect(r.exitCode).toBe(0)
    expect(s.stats().byRoute).toMatchObject({ login: { 200: 1 }, mfa: { 429: 1 }, portalMfa: { 200: 1 } })
  })

  it('keeps the pending sign-in of an SSM token store in the local config folder', async () => {
    const s = await sim({ user: MFA_USER })
    const home = join(tmp, 'ssm-home')
    const r = await run('login', ['--token-store', 'ssm:/garmin-s3/tokens'], {
      env: { ...envFor(s), HOME: home, AWS_REGION: 'eu-west-1' },
    })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain(
      'run garmin-s3 login --mfa-code <code> --token-store ssm:/garmin-s3/tokens within',
    )
    const pending = join(home, '.config', 'garmin-s3', 'signin-pending.json')
    expect((await stat(pending)).mode & 0o777).toBe(0o600)
    expect(JSON.parse(await readFile(pending, 'utf8'))).toMatchObject({ tokenStore: 'ssm:/garmin-s3/tokens' })
  })

  it('with an SSM token store, refuses a config folder that cannot keep a pending sign-in before any request (exit 2)', async () => {
    // Without a terminal, a code Garmin sends can only be finished from the pending file: a folder
    // that cannot take it would lose the sign-in after the code was sent.
    const file = join(tmp, 'config-is-a-file')
    await writeFile(file, 'not a folder\n')
    const cases: { env: Record<string, string>; options?: LoginIo['tokenStoreOptions']; says: string }[] = [
      { env: { XDG_CONFIG_HOME: file }, says: file },
      {
        env: { XDG_CONFIG_HOME: join(tmp, 'read-only-config') },
        options: {
          openExclusive: async (path: string) => {
            throw Object.assign(new Error(`EROFS: read-only file system, open '${path}'`), { code: 'EROFS' })
          },
        },
        says: 'EROFS',
      },
    ]
    for (const c of cases) {
      const s = await sim({ user: MFA_USER })
      const r = await run('login', ['--token-store', 'ssm:/x/tokens'], {
        env: { ...envFor(s), AWS_REGION: 'eu-west-1', ...c.env },
        ...(c.options ? { tokenStoreOptions: c.options } : {}),
      })
      expect(r.exitCode).toBe(2)
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect(message).toContain('signin-pending.json')
      expect(message).toContain(c.says)
      expect(hint).toMatch(/XDG_CONFIG_HOME/)
      expect(hint).toContain('Nothing was sent to Garmin')
      expect(s.stats().total).toBe(0)
      expect(s.inbox()).toHaveLength(0)
    }
  })

  it('tries the next app client id on any answer but 200 from the token exchange, except 429', async () => {
    const s = await sim()
    s.addFault({ route: 'exchange', fault: { kind: 'status', status: 500 }, times: 1 })
    s.addFault({ route: 'exchange', fault: { kind: 'html' }, times: 1 })
    const store = freshStore()
    const r = await run('login', ['--token-store', store, '--transport', 'fetch'], { env: envFor(s) })
    expect(r.exitCode).toBe(0)
    expect(s.stats().byRoute.token).toEqual({ 500: 1, 403: 1, 200: 1 })
    expect(JSON.parse(await readFile(store, 'utf8'))).toMatchObject({ clientId: DI_CLIENT_IDS[2] })
  })

  it('never takes a password from a flag, and needs one from somewhere', async () => {
    const s = await sim()
    const flag = await run('login', ['--password', 'x'], { env: envFor(s) })
    expect(flag.exitCode).toBe(2)
    expect(flag.stderr).toMatch(/^Error: Nonexistent flag: --password/)
    expect(flag.stderr).not.toContain('x\n')
    const r = await run('login', ['--token-store', freshStore()], {
      env: { GARMIN_S3_GARMIN_URL: s.garminUrl, GARMIN_EMAIL: s.user.email },
    })
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toContain('GARMIN_PASSWORD')
    expect(s.stats().total).toBe(0)
  })

  it('takes an empty GARMIN_DOMAIN as unset (garmin.com), as the Lambda does', async () => {
    const s = await sim()
    for (const blank of ['', '  ']) {
      const r = await run('login', ['--json', '--token-store', freshStore()], {
        env: envFor(s, { GARMIN_DOMAIN: blank }),
      })
      expect(r.exitCode).toBe(0)
      expect(r.json).toMatchObject({ domain: 'garmin.com', displayName: 'runner_1' })
    }
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
    const domain = await run('login', ['--domain', 'garmin.org'])
    expect(domain.exitCode).toBe(2)
    expect(domain.stderr).toContain('Expected --domain=garmin.org to be one of: garmin.com, garmin.cn')
  })
})

describe('garmin-s3 login: the command it gives to finish a pending sign-in', () => {
  let configs = 0
  interface Case {
    name: string
    /** `home`: this case's config folder's default token file; `other`: a file elsewhere. */
    given: (files: { home: string; other: string }) => { argv: string[]; env: Record<string, string> }
    /** The token file the command names (`--token-store`), or undefined for none; the tokens land there. */
    named: 'home' | 'other' | undefined
  }
  const cases: Case[] = [
    {
      name: 'the default token file: no --token-store',
      given: () => ({ argv: [], env: {} }),
      named: undefined,
    },
    {
      name: '--token-store <file>: names it',
      given: ({ other }) => ({ argv: ['--token-store', other], env: {} }),
      named: 'other',
    },
    {
      name: 'GARMIN_S3_TOKEN_STORE=<file>: names it',
      given: ({ other }) => ({ argv: [], env: { GARMIN_S3_TOKEN_STORE: other } }),
      named: 'other',
    },
    {
      // Without the flag the command would finish the sign-in for GARMIN_S3_TOKEN_STORE's file instead.
      name: '--token-store <the default file> while GARMIN_S3_TOKEN_STORE names another: names the default file',
      given: ({ home, other }) => ({ argv: ['--token-store', home], env: { GARMIN_S3_TOKEN_STORE: other } }),
      named: 'home',
    },
  ]
  for (const c of cases) {
    it(`${c.name}, and that command with the code signs in to that store`, async () => {
      const s = await sim({ user: MFA_USER })
      // A config folder of this case's own: the default token file is nobody else's.
      const config = join(tmp, `config-${++configs}`)
      const files = { home: join(config, 'garmin-s3', 'tokens.json'), other: freshStore() }
      const { argv, env: given } = c.given(files)
      const env = envFor(s, { XDG_CONFIG_HOME: config, ...given })
      const first = await run('login', argv, { env })
      expect(first.exitCode).toBe(3)
      const command = /run (garmin-s3 login .*?) within 10 minutes/.exec(first.stderr)?.[1]
      const flag = c.named ? ` --token-store ${files[c.named]}` : ''
      expect(command).toBe(`garmin-s3 login --mfa-code <code>${flag}`)
      const typed = (command ?? '').replace('<code>', newestCode(s)()).split(/\s+/).slice(2)
      const second = await run('login', typed, { env })
      expect([second.exitCode, second.stderr]).toEqual([0, expect.any(String)])
      const landed = files[c.named ?? 'home']
      expect(await openTokenStore(landed, env).load()).toMatchObject({ displayName: 'runner_1' })
      const elsewhere = files[landed === files.home ? 'other' : 'home']
      await expect(stat(elsewhere)).rejects.toThrow()
    })
  }
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
      env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
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
      env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
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
        env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
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

  it('a missing file and one that is no token file are both bad input: exit 2, saying what to pass, nothing sent', async () => {
    const s = await sim()
    const file = (name: string, text: string) => {
      const path = join(tmp, name)
      return writeFile(path, text).then(() => path)
    }
    const inputs: { name: string; path: string; says: string }[] = [
      { name: 'missing', path: join(tmp, 'missing.json'), says: 'Cannot read' },
      { name: 'a folder without garmin_tokens.json', path: tmp, says: 'garmin_tokens.json (ENOENT)' },
      {
        name: 'other JSON',
        path: await file('other.json', '{"hello": "world"}'),
        says: 'is not a token file',
      },
      { name: 'not JSON', path: await file('page.html', '<html></html>'), says: 'is not JSON' },
      {
        name: 'python-garminconnect without its refresh token',
        path: await file('half.json', '{"di_token": "x", "di_client_id": "y"}'),
        says: 'lacks di_token, di_refresh_token or di_client_id',
      },
      {
        name: 'a garmin-s3 file missing a field',
        path: await file('ours.json', '{"version": 1, "domain": "garmin.com"}'),
        says: 'are not usable',
      },
    ]
    for (const input of inputs) {
      s.resetStats()
      const store = freshStore()
      const r = await run('login', ['--import', input.path, '--token-store', store], {
        env: { GARMIN_S3_GARMIN_URL: s.garminUrl },
      })
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect([input.name, r.exitCode]).toEqual([input.name, 2])
      expect(message).toContain(input.says)
      expect(hint).toContain('garmin_tokens.json')
      expect(s.stats().total).toBe(0)
      await expect(stat(store)).rejects.toThrow()
    }
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

  it('also deletes a sign-in left waiting for its MFA code (it holds Garmin session cookies)', async () => {
    const store = freshStore()
    const pending = join(dirname(store), 'signin-pending.json')
    await mkdir(dirname(store), { recursive: true, mode: 0o700 })
    await writeFile(pending, '{"cookies": []}\n', { mode: 0o600 })
    const r = await run('logout', ['--token-store', store, '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.json).toEqual({ tokenStore: store, removed: false, pendingSignin: pending })
    await expect(stat(pending)).rejects.toThrow()
  })

  it('removes an empty token file (it holds no tokens) and says no tokens were stored', async () => {
    const store = freshStore()
    await mkdir(dirname(store), { recursive: true, mode: 0o700 })
    await writeFile(store, '\n', { mode: 0o600 })
    const r = await run('logout', ['--token-store', store, '--json'])
    expect(r.exitCode).toBe(0)
    expect(r.json).toEqual({ tokenStore: store, removed: false })
    await expect(stat(store)).rejects.toThrow()
    const text = await run('logout', ['--token-store', store])
    expect(text.stdout).toContain(`No Garmin tokens were stored in ${store}.`)
  })

  it('refuses to delete a file that holds no tokens (exit 2), unless --force', async () => {
    const key = join(tmp, 'ssh', 'id_ed25519')
    await mkdir(dirname(key), { mode: 0o700 })
    await writeFile(key, '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n', { mode: 0o600 })
    const refused = await run('logout', ['--token-store', key])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain('not a garmin-s3 token file')
    expect(refused.stderr).toContain('--force')
    expect(await readFile(key, 'utf8')).toContain('PRIVATE KEY')
    expect((await run('logout', ['--token-store', key, '--force'])).exitCode).toBe(0)
    await expect(stat(key)).rejects.toThrow()
  })
})

describe('garmin-s3 login checks the token store before it signs in', () => {
  it('will not overwrite an unrelated file (exit 2, no request to Garmin), unless --force', async () => {
    const s = await sim()
    const config = join(tmp, 'project', 'config.json')
    await mkdir(dirname(config), { mode: 0o700 })
    await writeFile(config, '{"editor.tabSize": 2}\n', { mode: 0o600 })
    const refused = await run('login', ['--token-store', config], { env: envFor(s) })
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain('--force')
    expect(await readFile(config, 'utf8')).toContain('tabSize')
    expect(s.stats().byRoute.login).toBeUndefined()
    const forced = await run('login', ['--token-store', config, '--force'], { env: envFor(s) })
    expect(forced.exitCode).toBe(0)
    expect(JSON.parse(await readFile(config, 'utf8'))).toMatchObject({ version: 1 })
  })

  it('refuses a folder at the token path and a folder others can write, before any sign-in', async () => {
    const s = await sim()
    const folderAtPath = freshStore()
    await mkdir(folderAtPath, { recursive: true })
    const open = join(tmp, 'shared-folder', 'tokens.json')
    await mkdir(dirname(open), { mode: 0o777 })
    await chmod(dirname(open), 0o777)
    for (const [store, says] of [
      [folderAtPath, 'is a folder, not a file'],
      [open, `chmod 700 ${dirname(open)}`],
    ] as const) {
      const r = await run('login', ['--token-store', store], { env: envFor(s) })
      expect([r.exitCode, r.stderr]).toEqual([2, expect.stringContaining(says)])
    }
    expect(s.stats().total).toBe(0)
  })

  /** What creating a file in a folder marked immutable (`chattr +i`) or on a read-only mount answers, even for root. */
  const refusesNewFiles = (code: 'EPERM' | 'EROFS') => ({
    openExclusive: async (path: string) => {
      throw Object.assign(new Error(`${code}: operation not permitted, open '${path}'`), { code })
    },
  })

  it('refuses a token folder that cannot take a new file (immutable, read-only): exit 2 with the path, nothing sent to Garmin', async () => {
    for (const code of ['EPERM', 'EROFS'] as const) {
      const s = await sim()
      const store = freshStore()
      const r = await run('login', ['--token-store', store], {
        env: envFor(s),
        tokenStoreOptions: refusesNewFiles(code),
      })
      expect(r.exitCode).toBe(2)
      const [message, hint] = r.stderr.trim().split('\n').slice(-2)
      expect(message).toContain(`Cannot write the token file ${store}`)
      expect(message).toContain(code)
      expect(hint).toMatch(/--token-store/)
      expect(s.stats().total).toBe(0)
    }
  })

  it('refuses a token path below a regular file before any sign-in (exit 2, no request to Garmin)', async () => {
    const s = await sim()
    const file = join(tmp, 'a-file')
    await writeFile(file, 'not a folder\n')
    for (const store of [join(file, 'tokens.json'), join(file, 'garmin-s3', 'tokens.json')]) {
      const r = await run('login', ['--token-store', store], { env: envFor(s) })
      expect([r.exitCode, r.stderr]).toEqual([2, expect.stringContaining(`${file}, which is not a folder`)])
    }
    expect(s.stats().total).toBe(0)
  })
})

describe('an unusable or empty token file', () => {
  /** A token file signed in by the simulator, then changed by `edit`. */
  async function tokenFile(s: Simulator, edit: (tokens: Record<string, unknown>) => string): Promise<string> {
    const store = freshStore()
    expect((await run('login', ['--token-store', store], { env: envFor(s) })).exitCode).toBe(0)
    await writeFile(store, edit(JSON.parse(await readFile(store, 'utf8'))), { mode: 0o600 })
    return store
  }

  const unusable = [
    { name: 'an unrelated JSON object', edit: () => '{"foo":1}\n', says: /"version" field is not 1/ },
    {
      name: 'a future format (version 2)',
      edit: (t: Record<string, unknown>) => JSON.stringify({ ...t, version: 2 }),
      says: /version 2, written by a newer garmin-s3/,
    },
    { name: 'text that is not JSON', edit: () => 'tokens go here\n', says: /not valid JSON/ },
    {
      name: 'a broken pointer to a deployment',
      edit: () => '{"kind":"garmin-s3-token-pointer","version":1,"store":"somewhere"}\n',
      says: /"store" field is not ssm/,
    },
    {
      name: 'our format with a field missing',
      edit: (t: Record<string, unknown>) => JSON.stringify({ ...t, displayName: undefined }),
      says: /"displayName" field is missing/,
    },
  ]
  for (const c of unusable) {
    it(`${c.name}: exit 3, and the command the hint gives replaces it`, async () => {
      const s = await sim()
      const store = await tokenFile(s, c.edit)
      const env = envFor(s, { HOME: tmp })
      const error = await openTokenStore(store, env)
        .load()
        .then(
          () => undefined,
          (e: unknown) => e as { message: string; hint?: string; exitCode: number },
        )
      expect(error?.exitCode).toBe(3)
      expect(error?.message).toMatch(c.says)
      const command = /`garmin-s3 login([^`]*)`/.exec(error?.hint ?? '')?.[1]?.trim()
      expect(command, error?.hint).toBeDefined()
      // The very command the hint names, as the user would type it: it must do the job.
      const r = await run('login', (command ?? '').split(/\s+/).filter(Boolean), { env })
      expect([r.exitCode, r.stderr]).toEqual([0, expect.any(String)])
      expect(await openTokenStore(store, env).load()).toMatchObject({ version: 1, displayName: 'runner_1' })
    })
  }

  it('an empty file is "no tokens" everywhere, with the same next step, whatever its mode', async () => {
    const s = await sim()
    for (const mode of [0o600, 0o644]) {
      const store = freshStore()
      await mkdir(dirname(store), { recursive: true, mode: 0o700 })
      await writeFile(store, mode === 0o600 ? '' : '  \n', { mode })
      await chmod(store, mode)
      const env = envFor(s, { HOME: tmp })
      // sync and every command that reads the tokens:
      const client = new GarminClient({
        tokenStore: openTokenStore(store, env),
        endpoints: resolveEndpoints({ env }),
      })
      await expect(client.profile()).rejects.toMatchObject({
        exitCode: 3,
        message: expect.stringContaining(`No Garmin tokens are stored at ${store}.`),
        hint: expect.stringContaining(`Run \`garmin-s3 login --token-store ${store}\``),
      })
      // status:
      expect(await readTokenSummary(openTokenStore(store, env), clock.now())).toMatchObject({
        status: 'absent',
      })
      // login takes the file without --force:
      const r = await run('login', ['--token-store', store], { env })
      expect(r.exitCode).toBe(0)
      expect((await stat(store)).mode & 0o777).toBe(0o600)
    }
  })
})

describe('garmin-s3 login: a hint that says to sign in again names the token store', () => {
  let configs = 0
  /** The `garmin-s3 login ...` commands a hint gives, as the user would copy them. */
  const loginCommands = (hint: string | undefined) =>
    [...(hint ?? '').matchAll(/`(garmin-s3 login[^`]*)`/g)].map((m) => m[1] ?? '')
  const lastHint = (r: Run) => r.stderr.trim().split('\n').at(-1)
  /** A config folder of the case's own: its default token file is nobody else's. */
  const ownConfig = () => {
    const config = join(tmp, `hint-config-${++configs}`)
    return { config, home: join(config, 'garmin-s3', 'tokens.json') }
  }

  it('an expired pending sign-in of --token-store <file>: the hint names the file, and that command starts over for it', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const { config, home } = ownConfig()
    const env = envFor(s, { XDG_CONFIG_HOME: config })
    expect((await run('login', ['--token-store', store], { env })).exitCode).toBe(3)
    const code = newestCode(s)()
    clock.advance(11 * 60_000)
    const late = await run('login', ['--token-store', store, '--mfa-code', code], { env })
    expect(late.exitCode).toBe(3)
    expect(late.stderr).toMatch(/pending sign-in expired/i)
    expect(loginCommands(lastHint(late))).toEqual([`garmin-s3 login --token-store ${store}`])
    // The command as typed: a new sign-in for that file (its pending file beside it), not the default one.
    const typed = (loginCommands(lastHint(late))[0] ?? '').split(/\s+/).slice(2)
    const again = await run('login', typed, { env })
    expect(again.exitCode).toBe(3)
    expect(again.stderr).toContain(`--mfa-code <code> --token-store ${store}`)
    await expect(stat(join(dirname(store), 'signin-pending.json'))).resolves.toBeDefined()
    await expect(stat(join(dirname(home), 'signin-pending.json'))).rejects.toThrow()
  })

  it('a sign-in left pending for GARMIN_S3_TOKEN_STORE=<file>: "starts over" names the file', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const r = await run('login', [], { env: envFor(s, { GARMIN_S3_TOKEN_STORE: store }) })
    expect(r.exitCode).toBe(3)
    const hint = lastHint(r)
    expect(hint).toContain('starts over')
    expect(loginCommands(hint)).toEqual([`garmin-s3 login --token-store ${store}`])
  })

  it('three wrong codes at the prompt for --token-store <file>: the hint names the file', async () => {
    const s = await sim({ user: MFA_USER })
    const store = freshStore()
    const r = await run('login', ['--token-store', store], {
      env: envFor(s),
      interactive: true,
      answers: { mfa: [wrongCode(s), wrongCode(s), wrongCode(s)] },
    })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('did not accept the verification code')
    expect(loginCommands(lastHint(r))).toEqual([`garmin-s3 login --token-store ${store}`])
  })

  it('a wrong password for --token-store <file>: the hint says to try once more with that file', async () => {
    const s = await sim()
    const store = freshStore()
    const r = await run('login', ['--token-store', store], { env: envFor(s, { GARMIN_PASSWORD: 'not it' }) })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toContain('rejected the email or password')
    expect(loginCommands(lastHint(r))).toEqual([`garmin-s3 login --token-store ${store}`])
  })

  it('a locked account for ssm:/x/tokens: the hint names the parameter', async () => {
    const s = await sim({
      user: { email: 'locked@example.com', password: 'locked pass phrase 9', locked: true },
    })
    const { config } = ownConfig()
    const r = await run('login', ['--token-store', 'ssm:/x/tokens', '--transport', 'fetch'], {
      env: envFor(s, { XDG_CONFIG_HOME: config, AWS_REGION: 'us-east-1' }),
    })
    expect(r.exitCode).toBe(3)
    expect(r.stderr).toMatch(/account is locked/)
    expect(loginCommands(lastHint(r))).toEqual(['garmin-s3 login --token-store ssm:/x/tokens'])
  })

  it('a wrong password for the default token file: the hint gives a plain `garmin-s3 login`', async () => {
    const s = await sim()
    const { config } = ownConfig()
    const r = await run('login', [], {
      env: envFor(s, { XDG_CONFIG_HOME: config, GARMIN_PASSWORD: 'not it' }),
    })
    expect(r.exitCode).toBe(3)
    expect(loginCommands(lastHint(r))).toEqual(['garmin-s3 login'])
  })
})
