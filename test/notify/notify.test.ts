/**
 * `sync --notify`: the message reaches a local receiver in the shape its URL asks for (ntfy, Slack,
 * Discord, plain JSON), carries no token or password, and a receiver that fails or never answers is a
 * warning that changes nothing else: not the exit code, not what was stored.
 */

import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import Sync from '../../src/commands/sync.js'
import { type NotifyDeps, parseNotifyTargets, shapeFor } from '../../src/notify/index.js'
import { signIn } from '../e2e/sync-helpers.js'
import { type CommandRun, runCommand } from '../helpers/command.js'
import { type Simulator, startSimulator } from '../sim/server.js'

interface Received {
  path: string
  headers: IncomingMessage['headers']
  body: string
}

let sim: Simulator
let tmp: string
let tokens: string
let receiver: Server
let base: string
const received: Received[] = []
/** Requests the "hang" route holds open: they are answered only when the test is over. */
const held: (() => void)[] = []

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-notify-'))
  sim = await startSimulator({ activities: 4 })
  tokens = join(tmp, 'config', 'tokens.json')
  await signIn(sim, tokens)
  receiver = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => {
      received.push({ path: req.url ?? '', headers: req.headers, body })
      if (req.url?.startsWith('/fail')) res.writeHead(500).end('no')
      else if (req.url?.startsWith('/hang')) held.push(() => res.end())
      else res.writeHead(200).end('ok')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`
})

afterAll(async () => {
  for (const release of held) release()
  await new Promise((resolve) => receiver.close(resolve))
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

let n = 0
async function sync(argv: string[], deps: NotifyDeps = {}): Promise<CommandRun> {
  const env = { HOME: tmp, GARMIN_S3_GARMIN_URL: sim.url, GARMIN_S3_TOKEN_STORE: tokens }
  class TestSync extends Sync {
    protected override env(): NodeJS.ProcessEnv {
      return env
    }
    protected override notifyDeps(): NotifyDeps {
      return deps
    }
  }
  return runCommand(TestSync, ['--out', join(tmp, `out-${++n}`), ...argv])
}

describe('sync --notify', () => {
  it('picks the shape from the URL, and a #fragment forces one', () => {
    expect(shapeFor(new URL('https://hooks.slack.com/services/T/B/x'))).toBe('slack')
    expect(shapeFor(new URL('https://discord.com/api/webhooks/1/abc'))).toBe('discord')
    expect(shapeFor(new URL('https://ntfy.sh/my-topic'))).toBe('ntfy')
    expect(shapeFor(new URL('https://ntfy.example.invalid/t'))).toBe('ntfy')
    expect(shapeFor(new URL('https://hooks.example.invalid/x'))).toBe('json')
    expect(parseNotifyTargets(['http://127.0.0.1:1/x#slack, http://127.0.0.1:1/y'])).toMatchObject([
      { shape: 'slack', url: new URL('http://127.0.0.1:1/x') },
      { shape: 'json' },
    ])
    expect(() => parseNotifyTargets(['file:///etc/passwd'])).toThrow(/http or https/)
  })

  it('sends ntfy, Slack, Discord and JSON messages with --notify-on always, and no secret', async () => {
    received.length = 0
    const r = await sync([
      '--json',
      '--notify-on',
      'always',
      ...['ntfy', 'slack', 'discord', 'json'].flatMap((shape) => ['--notify', `${base}/${shape}#${shape}`]),
    ])
    expect(r.exitCode).toBe(0)
    const by = (path: string) => received.find((x) => x.path === path)
    expect(by('/ntfy')?.headers.title).toBe('garmin-s3 sync succeeded (exit 0)')
    expect(by('/ntfy')?.body).toMatch(/^garmin-s3 sync succeeded \(exit 0\): 4 created, 0 failed/)
    expect(JSON.parse(by('/slack')?.body ?? '{}').text).toMatch(/4 created/)
    expect(JSON.parse(by('/discord')?.body ?? '{}').content).toMatch(/4 created/)
    expect(JSON.parse(by('/json')?.body ?? '{}')).toMatchObject({
      source: 'garmin-s3',
      exitCode: 0,
      created: 4,
    })
    const all = JSON.stringify(received)
    for (const secret of sim.secrets()) expect(all).not.toContain(secret)
    expect(r.json?.notifications).toHaveLength(4)
  })

  it('by default stays quiet after a good run', async () => {
    received.length = 0
    expect((await sync(['--notify', `${base}/json`])).exitCode).toBe(0)
    expect(received).toEqual([])
  })

  it('a receiver that answers 500 or never answers is a warning; the exit code and the data stay', async () => {
    const args = ['--notify-on', 'always', '--notify', `${base}/fail`, '--notify', `${base}/hang`]
    const r = await sync(args, { timeoutMs: 300 })
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/4 created/)
    expect(r.stderr).toContain(`warning: could not notify 127.0.0.1:${new URL(base).port} (json): HTTP 500`)
    expect(r.stderr).toContain('no answer within 300 ms')
    // Only the host is printed: a webhook's path can be its credential.
    expect(r.stderr).not.toContain('/fail')
    const json = await sync(['--json', ...args], { timeoutMs: 300 })
    expect([json.exitCode, json.json?.created]).toEqual([0, 4])
    expect(json.json?.notifications).toMatchObject([
      { ok: false, status: 500, error: 'HTTP 500' },
      { ok: false, error: 'no answer within 300 ms' },
    ])
    // Under --json the warning still goes to stderr (docs/json.md); stdout held only the report.
    expect(json.stderr).toContain(
      `warning: could not notify 127.0.0.1:${new URL(base).port} (json): HTTP 500`,
    )
  })

  it('refuses a URL that is not http(s) before anything runs (exit 2)', async () => {
    const r = await sync(['--notify', 'ftp://example.invalid/x'])
    expect(r.exitCode).toBe(2)
    expect(r.stderr).toMatch(/http or https/)
  })
})
