/**
 * `--json` on the built CLI (bin/run.js), as a script reads it: stdout holds exactly one JSON document,
 * and the lines meant for a person (sign-in strategies, warnings) still go to stderr (docs/json.md).
 * oclif drops every `logToStderr` and `warn` line under --json; the base command must not.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, CLI, ROOT, tempDir } from '../e2e/sync-helpers.js'
import { runProcess } from '../helpers/process.js'
import { type Simulator, startSimulator } from '../sim/server.js'

let home: Awaited<ReturnType<typeof tempDir>>
let sim: Simulator

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('json-stderr')
  sim = await startSimulator({ activities: 3 })
})
afterAll(async () => {
  await sim?.close()
  await home?.remove()
})

function cli(args: string[]) {
  return runProcess(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: home.path,
      NO_COLOR: '1',
      GARMIN_S3_GARMIN_URL: sim.garminUrl,
      GARMIN_EMAIL: sim.user.email,
      GARMIN_PASSWORD: sim.user.password,
    },
  })
}

/** stdout is one JSON document and nothing else (JSON.parse refuses anything before or after it). */
function onlyJson(stdout: string): Record<string, unknown> {
  const value = JSON.parse(stdout) as unknown
  expect(typeof value).toBe('object')
  return value as Record<string, unknown>
}

describe('--json keeps stderr', () => {
  it('login --json: the JSON result on stdout, the sign-in strategy lines on stderr', async () => {
    const store = join(home.path, 'login', 'tokens.json')
    const r = await cli(['login', '--json', '--transport', 'fetch', '--token-store', store])
    expect(r.code).toBe(0)
    expect(onlyJson(r.stdout)).toMatchObject({ displayName: 'runner_1', source: 'login' })
    expect(r.stderr).toContain('sign-in: mobile: signed in')
    for (const secret of sim.secrets()) expect(r.stdout + r.stderr).not.toContain(secret)
  })

  it('sync --json signing in from the environment: the report on stdout, the warning on stderr', async () => {
    const store = join(home.path, 'sync', 'tokens.json')
    const out = join(home.path, 'sync', 'lake')
    const r = await cli(['sync', '--json', '--out', out, '--token-store', store])
    expect(r.code).toBe(0)
    expect(onlyJson(r.stdout)).toMatchObject({ created: 3, exitCode: 0 })
    expect(r.stderr).toContain(
      `warning: no Garmin tokens in ${store}; signing in with GARMIN_EMAIL/GARMIN_PASSWORD.`,
    )
    // Progress stays off under --json: only the warning and the sign-in lines.
    expect(
      r.stderr
        .trimEnd()
        .split('\n')
        .every((line) => /^(warning|sign-in): /.test(line)),
    ).toBe(true)
  })
})
