import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { HELP, parseCli } from './cli.js'
import { DEFAULT_USER } from './server.js'
import { loginToSim } from './session.js'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

function startCli(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'test/sim/cli.ts', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = ''
    child.stdout?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('utf8')
      const nl = buffered.indexOf('\n')
      if (nl >= 0) resolve(buffered.slice(0, nl))
    })
    child.once('exit', (code) => reject(new Error(`exited with ${code} before printing a line`)))
  })
}

// The two child processes start in parallel: each needs about a second to load tsx.
describe.concurrent('npm run sim', () => {
  it('prints its URL first, serves the account with the given options, and exits cleanly on SIGTERM', async ({
    expect,
  }) => {
    const child = startCli([
      '--port',
      '0',
      '--activities',
      '40',
      '--seed',
      '3',
      '--fault',
      'activityCount:503:times=1',
      '--latency-ms',
      '1',
    ])
    try {
      const line = await firstLine(child)
      expect(line).toMatch(/^garmin-sim listening on http:\/\/127\.0\.0\.1:\d+$/)
      const url = line.slice('garmin-sim listening on '.length)
      const { accessToken } = await loginToSim(url, DEFAULT_USER)
      const auth = { headers: { authorization: `Bearer ${accessToken}` } }
      expect((await fetch(`${url}/activitylist-service/activities/count`, auth)).status).toBe(503)
      const count = await fetch(`${url}/activitylist-service/activities/count`, auth)
      expect(await count.json()).toEqual({ totalCount: 40 })
      const stats = (await (await fetch(`${url}/__sim/stats`)).json()) as { byRoute: Record<string, unknown> }
      expect(stats.byRoute.activityCount).toEqual({ '503': 1, '200': 1 })
    } finally {
      child.kill('SIGTERM')
    }
    const [code, signal] = await once(child, 'exit')
    expect({ code, signal }).toEqual({ code: 0, signal: null })
  })

  it('exits with 2 and a hint on a bad option', async ({ expect }) => {
    const child = startCli(['--fault', 'nowhere:500'])
    let stderr = ''
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString('utf8')
    })
    const [code] = await once(child, 'exit')
    expect(code).toBe(2)
    expect(stderr).toMatch(/unknown route "nowhere"[\s\S]*--help/)
  })
})

describe('command-line options', () => {
  it('map onto simulator options', () => {
    const config = parseCli([
      '--port=8123',
      '--activities=5000',
      '--years=2',
      '--user=a@b.c',
      '--password=pw',
      '--mfa=sms',
      '--domain=garmin.cn',
      '--bot-check=html:diauth',
      '--activities-file=list.json',
      '--latency-ms=50',
      '--reject-client-id=A',
      '--reject-client-id=B',
      '--token-ttl=60',
      '--fault=download:reset:p=0.5',
    ])
    expect(config.port).toBe(8123)
    expect(config.options).toEqual({
      activities: 5000,
      years: 2,
      activitiesFile: 'list.json',
      latencyMs: 50,
      rejectedClientIds: ['A', 'B'],
      accessTokenTtlSeconds: 60,
      domain: 'garmin.cn',
      botCheck: { answer: 'html', diauth: true },
      user: { email: 'a@b.c', password: 'pw', mfa: 'sms', displayName: DEFAULT_USER.displayName },
    })
    expect(config.faults).toEqual([{ route: 'download', fault: { kind: 'reset' }, probability: 0.5 }])
  })

  it('refuse nonsense and document every option in --help', () => {
    expect(() => parseCli(['--activities=many'])).toThrow(/--activities must be an integer/)
    expect(() => parseCli(['--nope'])).toThrow()
    expect(() => parseCli(['--mfa=123456'])).toThrow(/--mfa must be one of email, sms/)
    expect(() => parseCli(['--bot-check=tls'])).toThrow(/--bot-check must be one of captcha, html/)
    expect(parseCli(['-h']).help).toBe(true)
    for (const option of [
      '--port',
      '--activities',
      '--latency-ms',
      '--user',
      '--password',
      '--mfa',
      '--bot-check',
      '--domain',
      '--activities-file',
      '/__sim/inbox',
      '--fault',
      '/__sim/stats',
    ]) {
      expect(HELP).toContain(option)
    }
  })
})
