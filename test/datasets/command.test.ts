/** `sync --data` as a command, in-process against the simulator: validation and the JSON report. */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { stripVTControlCharacters } from 'node:util'
import { Config } from '@oclif/core'
import { afterAll, beforeAll, expect, it } from 'vitest'
import Sync from '../../src/commands/sync.js'
import { addDays, utcDate } from '../../src/sync/time.js'
import { signIn } from '../e2e/sync-helpers.js'
import { type Simulator, startSimulator } from '../sim/server.js'

let config: Config
let tmp: string
let sim: Simulator
let tokens: string

async function run(argv: string[]): Promise<{ exitCode: number; stdout: string; stderr: string }> {
  const out: string[] = []
  const err: string[] = []
  const env = { HOME: tmp, GARMIN_S3_GARMIN_URL: sim.url, GARMIN_S3_TOKEN_STORE: tokens }
  const progress = new PassThrough()
  progress.on('data', (chunk: Buffer) => err.push(chunk.toString().trimEnd()))
  class TestSync extends Sync {
    protected override env(): NodeJS.ProcessEnv {
      return env
    }
    protected override progressStream(): NodeJS.WriteStream {
      return progress as unknown as NodeJS.WriteStream
    }
  }
  Object.assign(TestSync.prototype, {
    log: (message = '') => void out.push(message),
    logToStderr: (message = '') => void err.push(message),
    logJson: (json: unknown) => void out.push(JSON.stringify(json)),
  })
  process.exitCode = undefined
  await TestSync.run(argv, config)
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  return { exitCode, stdout: out.join('\n'), stderr: err.join('\n') }
}

beforeAll(async () => {
  config = await Config.load(join(import.meta.dirname, '..', '..'))
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-data-cmd-'))
  sim = await startSimulator({ activities: 20, seed: 3 })
  tokens = join(tmp, 'tokens.json')
  await signIn(sim, tokens)
})

afterAll(async () => {
  await sim.close()
  await rm(tmp, { recursive: true, force: true })
})

it('refuses an unknown dataset with exit 2, naming the valid ones, before touching anything', async () => {
  const out = join(tmp, 'bad')
  const result = await run(['--out', out, '--data', 'activities,sleeep'])
  expect(result.exitCode).toBe(2)
  expect(result.stderr).toContain('Error: unknown dataset: sleeep (did you mean sleep?)')
  expect(result.stderr).toMatch(/activities, fit, details, splits, daily-summary, sleep/)
  expect(existsSync(out)).toBe(false)
})

it('copies the chosen datasets and reports counts per dataset in --json', async () => {
  const out = join(tmp, 'good')
  const since = addDays(utcDate(Date.now()), -2)
  const result = await run(['--out', out, '--data', 'sleep,hrv', '--since', since, '--json'])
  expect(result.exitCode).toBe(0)
  const report = JSON.parse(result.stdout)
  expect(Object.keys(report.datasets)).toEqual(['activities', 'sleep', 'hrv'])
  expect(report.datasets.sleep.requests).toBe(3)
  const files = await readdir(join(out, 'raw-data', 'garmin-sleep'))
  expect(files.length).toBe(report.datasets.sleep.created)
  expect(files.every((f) => /^sleep_\d{4}-\d{2}-\d{2}\.json$/.test(f))).toBe(true)
})

it('--dry-run with datasets writes nothing and caps the "would write" lines', async () => {
  const out = join(tmp, 'dry')
  const since = addDays(utcDate(Date.now()), -99)
  const result = await run(['--out', out, '--data', 'sleep,stress', '--since', since, '--dry-run'])
  expect(result.exitCode).toBe(0)
  expect(existsSync(out)).toBe(false)
  const lines = result.stderr.split('\n').filter((l) => l.startsWith('would write '))
  expect(lines.some((l) => l.startsWith('would write sleep raw-data/garmin-sleep/sleep_'))).toBe(true)
  // 2 datasets x 100 days would be 200 lines: the first 50 data lines, then a count.
  expect(lines.filter((l) => /^would write (activity|sleep|stress) /.test(l)).length).toBe(50)
})

it('a run with no new activity but new days of another dataset says so, not "nothing new"', async () => {
  const out = join(tmp, 'headline')
  await run(['--out', out])
  const withSleep = ['--out', out, '--data', 'activities,sleep', '--since', addDays(utcDate(Date.now()), -2)]
  const days = await run(withSleep)
  expect(days.exitCode).toBe(0)
  expect(days.stdout).not.toContain('nothing new')
  expect(days.stdout).toMatch(
    /✔ No new activities in .*garmin-json\/; 3 new or revised objects in the other datasets/,
  )
  const again = await run(withSleep)
  expect(again.stdout).toContain('✔ Up to date: nothing new')
})

it('a run whose dataset items failed exits 5 under a headline that says so, not a success mark', async () => {
  const out = join(tmp, 'partial')
  sim.addFault({ route: 'sleep', fault: { kind: 'status', status: 404 }, times: 2 })
  try {
    const since = addDays(utcDate(Date.now()), -4)
    const result = await run(['--out', out, '--data', 'activities,sleep', '--since', since])
    expect(result.exitCode).toBe(5)
    // CI=true turns colours on (supports-color): the mark is read without them.
    const headline = stripVTControlCharacters(result.stdout.split('\n')[0]!)
    expect(headline).not.toContain('✔')
    expect(headline).toMatch(/^⚠ .*2 items failed/)
    expect(result.stdout).toMatch(/sleep: 3 new · 2 failed/)
  } finally {
    sim.clearFaults()
  }
})
