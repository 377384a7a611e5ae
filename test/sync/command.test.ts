/**
 * `garmin-s3 sync` as a command, run in-process against the simulator into temp folders: flags and
 * environment, validation (one line, a next step, exit 2, nothing written), sign-in fallbacks, the
 * human summary and exit codes. The built-CLI runs against S3 live in test/e2e/sync*.test.ts.
 */
import { existsSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import Sync, { parseDuration } from '../../src/commands/sync.js'
import { signIn } from '../e2e/sync-helpers.js'
import { type CommandRun, runCommand } from '../helpers/command.js'
import { type Simulator, startSimulator } from '../sim/server.js'

let tmp: string
let sim: Simulator
let tokens: string
let n = 0
const printed: string[] = []

async function run(argv: string[], env: Record<string, string> = {}): Promise<CommandRun> {
  // The progress stream is stderr too, interleaved with the command's own lines.
  const stderr: string[] = []
  const progress = new PassThrough()
  progress.on('data', (chunk: Buffer) => stderr.push(chunk.toString().trimEnd()))
  const fullEnv = { HOME: tmp, GARMIN_S3_GARMIN_URL: sim.url, GARMIN_S3_TOKEN_STORE: tokens, ...env }
  class TestSync extends Sync {
    protected override env(): NodeJS.ProcessEnv {
      return fullEnv
    }
    protected override progressStream(): NodeJS.WriteStream {
      return progress as unknown as NodeJS.WriteStream
    }
  }
  return runCommand(TestSync, argv, { printed, stderr })
}

const folder = () => join(tmp, `out-${++n}`)

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-sync-cmd-'))
  sim = await startSimulator({ activities: 120, seed: 7 })
  tokens = join(tmp, 'tokens.json')
  await signIn(sim, tokens)
})

afterEach(() => {
  process.exitCode = undefined
})

afterAll(async () => {
  // Nothing printed by this suite carries a password or a token.
  for (const secret of sim.secrets()) for (const line of printed) expect(line).not.toContain(secret)
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

describe('garmin-s3 sync', () => {
  it('copies into a folder and closes with a summary of what happened and where', async () => {
    const out = folder()
    const first = await run(['--out', out])
    expect(first.exitCode).toBe(0)
    expect(first.stdout).toMatch(/✔ Copied 120 new activities to .*out-\d+\/raw-data\/garmin-json\//)
    expect(first.stdout).toMatch(/120 created · 0 already there · 0 failed · [\d.]+ s/)
    expect(first.stderr).toMatch(/page 1: 100 activities listed/)
    const second = await run(['--out', out])
    expect(second.stdout).toMatch(/✔ Up to date: nothing new/)
    expect(second.stdout).toMatch(/requests: Garmin 1 · storage 3/)
  })

  it('without --bucket or --out copies into ./garmin-data and says so', async () => {
    const cwd = process.cwd()
    const dir = await mkdtemp(join(tmp, 'cwd-'))
    process.chdir(dir)
    try {
      const result = await run([])
      expect(result.exitCode).toBe(0)
      expect(result.stderr).toContain(
        `No --bucket or --out given: copying into the folder ${join(dir, 'garmin-data')}`,
      )
      expect(await readdir(join(dir, 'garmin-data', 'raw-data', 'garmin-json'))).toHaveLength(120)
    } finally {
      process.chdir(cwd)
    }
  })

  it('--json prints the SyncReport and nothing else', async () => {
    const result = await run(['--out', folder(), '--json'])
    const report = JSON.parse(result.stdout)
    expect(report).toMatchObject({
      created: 120,
      exitCode: 0,
      partial: false,
      prefix: 'raw-data/garmin-json/',
    })
    expect(result.stderr).toBe('')
  })

  it('--report writes the JSON report whole, creating its folder; one that cannot be written stops the run before it starts', async () => {
    const out = folder()
    const reportPath = join(tmp, 'reports', 'nested', 'run.json')
    const ok = await run(['--out', out, '--report', reportPath])
    expect(ok.exitCode).toBe(0)
    expect(JSON.parse(await readFile(reportPath, 'utf8'))).toMatchObject({ created: 120, exitCode: 0 })
    expect(await readdir(join(tmp, 'reports', 'nested'))).toEqual(['run.json'])
    // A folder at the path, or a file in the way of its folder: exit 2, and the lake is not touched.
    const blocked = join(tmp, 'blocked')
    await writeFile(blocked, 'a file')
    for (const bad of [join(tmp, 'reports'), join(blocked, 'run.json')]) {
      const other = folder()
      const refused = await run(['--out', other, '--report', bad])
      expect(refused.exitCode).toBe(2)
      expect(refused.stderr).toContain(`Error: cannot write the report to ${bad}`)
      expect(refused.stderr).toContain('-> ')
      expect(refused.stderr).not.toContain('bug in garmin-s3')
      expect(existsSync(other)).toBe(false)
    }
  })

  it('DAYS_BACK works like --days-back, and --days-back wins over it', async () => {
    const recent = sim
      .listAll()
      .filter((a) => String(a.startTimeLocal).slice(0, 10) >= addDaysUtc(-60)).length
    const fromEnv = JSON.parse((await run(['--out', folder(), '--json'], { DAYS_BACK: '60' })).stdout)
    expect(fromEnv.created).toBe(recent)
    const fromFlag = JSON.parse(
      (await run(['--out', folder(), '--json', '--days-back', '0'], { DAYS_BACK: '60' })).stdout,
    )
    expect(fromFlag.created).toBeLessThan(recent)
  })

  it('--max-duration stops cleanly with a partial report and exit 5', async () => {
    const result = await run(['--out', folder(), '--max-duration', '1ms'])
    expect(result.exitCode).toBe(5)
    expect(result.stdout).toMatch(/⚠ Stopped before the time limit after copying 0 activities; run again/)
  })

  it.each([
    [['--since', '2024-02-30'], /--since must be a date like 2024-05-01/, /YYYY-MM-DD/],
    [['--days-back', '-2'], /--days-back must be a whole number of days, 0 or more/, /--days-back 7/],
    [['--days-back', 'week'], /--days-back must be a whole number of days/, /--days-back 7/],
    [['--prefix', '../elsewhere'], /invalid prefix/, /--prefix raw-data\/garmin-json\//],
    [['--prefix', '/abs/'], /invalid prefix/, /relative path/],
    [['--bucket', 'My_Bucket'], /invalid bucket name/, /existing bucket/],
    [['--max-duration', 'soon'], /--max-duration must be a duration/, /10m/],
    [['--full', '--since', '2024-01-01'], /--full rescans the whole history/, /Drop/],
    // Refused even when no daily dataset is asked for (issue 19 §7: it used to be ignored then).
    [['--revise-days', '-1'], /--revise-days must be a whole number from 0 to 60, got -1/, /default of 3/],
    [
      ['--revise-days', '61', '--data', 'sleep'],
      /--revise-days must be a whole number from 0 to 60/,
      /0 never/,
    ],
    [
      ['--reload-budget', '-1', '--data', 'heart-rate'],
      /--reload-budget must be a whole number from 0 to 1000, got -1/,
      /about 30 reloads a day/,
    ],
  ])('refuses %j with one line, a next step and exit 2, writing nothing', async (argv, message, hint) => {
    const out = folder()
    sim.resetStats()
    const result = await run(argv.includes('--bucket') ? argv : ['--out', out, ...argv])
    expect(result.exitCode).toBe(2)
    const lines = result.stderr.split('\n')
    expect(lines[0]).toMatch(/^Error: /)
    expect(lines[0]).toMatch(message)
    expect(lines[1]).toMatch(/^ {2}-> /)
    expect(lines[1]).toMatch(hint)
    expect(existsSync(out)).toBe(false)
    expect(sim.stats().total).toBe(0)
  })

  it('an output path that is a file, or lies under one, is refused before any Garmin request (exit 2)', async () => {
    const file = join(tmp, 'not-a-folder')
    await writeFile(file, 'x')
    for (const out of [file, join(file, 'sub', 'lake')]) {
      sim.resetStats()
      const result = await run(['--out', out])
      expect(result.exitCode, out).toBe(2)
      expect(result.stderr).toMatch(new RegExp(`^Error: .*${file}.* is a file, not a folder`, 'm'))
      expect(result.stderr).toMatch(/^ {2}-> .*--out/m)
      expect(sim.stats().total).toBe(0)
    }
  })

  it('an output folder on /proc is refused before any Garmin request (exit 2), without creating or hanging', async () => {
    // Node 20's recursive mkdir never returns on /proc: the check must not rely on it.
    const out = `/proc/self/garmin-s3-test-${process.pid}/lake`
    sim.resetStats()
    const result = await run(['--out', out])
    expect(result.exitCode).toBe(2)
    expect(result.stderr).toMatch(/^Error: .*\/proc\/self.* proc file system/m)
    expect(result.stderr).toMatch(/^ {2}-> .*--out/m)
    expect(sim.stats().total).toBe(0)
    expect(existsSync(out)).toBe(false)
  })

  it('with no stored tokens it asks for garmin-s3 login (exit 3) and leaves the lake untouched', async () => {
    const out = folder()
    const result = await run(['--out', out], { GARMIN_S3_TOKEN_STORE: join(tmp, 'none', 'tokens.json') })
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toMatch(/^Error: No Garmin tokens are stored/m)
    // The chosen path is named: a plain `garmin-s3 login` would sign in to the default file.
    expect(result.stderr).toContain(
      `  -> Run \`garmin-s3 login --token-store ${join(tmp, 'none', 'tokens.json')}\` first`,
    )
    // No state, no run record: status must not call the lake failed for a local mistake.
    expect(existsSync(out)).toBe(false)
  })

  it('with an unusable token file it exits 3 and writes nothing to the lake', async () => {
    const out = folder()
    const tokens = join(tmp, 'corrupt', 'tokens.json')
    await mkdir(join(tmp, 'corrupt'), { mode: 0o700 })
    await writeFile(tokens, '{"version": 1', { mode: 0o600 })
    const result = await run(['--out', out], { GARMIN_S3_TOKEN_STORE: tokens })
    expect(result.exitCode).toBe(3)
    expect(result.stderr).toMatch(/not valid JSON/)
    expect(existsSync(out)).toBe(false)
  })

  it('an error about an answer from GARMIN_S3_GARMIN_URL says so, where Garmin would be blamed', async () => {
    sim.addFault({ route: 'activityList', fault: { kind: 'malformed' }, times: 1 })
    try {
      const result = await run(['--out', folder()])
      expect(result.exitCode).not.toBe(0)
      expect(result.stderr).toMatch(
        /^Error: .*\(GARMIN_S3_GARMIN_URL is set: this was http:\/\/127\.0\.0\.1:\d+, not Garmin\.\)/m,
      )
    } finally {
      sim.clearFaults()
    }
  })

  it('with no stored tokens but GARMIN_EMAIL/GARMIN_PASSWORD it signs in once, warns and stores the tokens', async () => {
    const store = join(tmp, 'fresh', 'tokens.json')
    const env = {
      GARMIN_S3_TOKEN_STORE: store,
      GARMIN_EMAIL: sim.user.email,
      GARMIN_PASSWORD: sim.user.password,
    }
    sim.resetStats()
    const first = await run(['--out', folder()], env)
    expect(first.exitCode).toBe(0)
    expect(first.stderr).toMatch(/signing in with GARMIN_EMAIL\/GARMIN_PASSWORD.*garmin-s3 login/)
    expect(existsSync(store)).toBe(true)
    expect(sim.stats().byRoute.login).toEqual({ '200': 1 })
    const second = await run(['--out', folder()], env)
    expect(second.stderr).not.toMatch(/signing in/)
    expect(sim.stats().byRoute.login).toEqual({ '200': 1 })
  })

  it('follows an edit and a reconcile, and says so (docs/changes.md); --no-track-changes refuses --reconcile', async () => {
    const out = folder()
    expect((await run(['--out', out])).exitCode).toBe(0)
    const newest = sim.listAll()[0]!
    sim.editActivity(newest.activityId, { activityName: 'renamed from the command test' })
    const edited = await run(['--out', out])
    expect(edited.exitCode).toBe(0)
    expect(edited.stdout).toMatch(/· 1 changed in Garmin \(old versions kept\) ·/)
    expect(edited.stderr).toContain(`activity ${newest.activityId} changed in Garmin`)
    const reconciled = await run(['--out', out, '--reconcile', '--json'])
    expect(JSON.parse(reconciled.stdout)).toMatchObject({ exitCode: 0, reconciled: true })
    const refused = await run(['--out', out, '--reconcile', '--no-track-changes'])
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toMatch(/--no-track-changes cannot be combined with --reconcile/)
  })
})

describe('parseDuration', () => {
  it('reads 90s, 10m, 1h, 500ms and plain seconds', () => {
    expect(parseDuration('90s')).toBe(90_000)
    expect(parseDuration('10m')).toBe(600_000)
    expect(parseDuration('1h')).toBe(3_600_000)
    expect(parseDuration('500ms')).toBe(500)
    expect(parseDuration('45')).toBe(45_000)
    expect(() => parseDuration('0s')).toThrow(/--max-duration/)
  })
})

function addDaysUtc(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10)
}
