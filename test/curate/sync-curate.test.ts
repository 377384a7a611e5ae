/**
 * `sync --curate` (the built CLI, `npm run build` first): the sync, then curate in the same run, in
 * the same --json report; a second run with nothing new rewrites no curated file.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { assertBuilt, cliEnv, runCli, signIn, tempDir } from '../e2e/sync-helpers.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { CURATED, duckdb } from './helpers.js'

let home: { path: string; remove: () => Promise<void> }
let sim: Simulator
let env: NodeJS.ProcessEnv

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('sync-curate')
  sim = await startSimulator({ activities: 60, years: 1, seed: 1818 })
  const tokens = join(home.path, 'tokens.json')
  await signIn(sim, tokens)
  env = cliEnv(sim, tokens, home.path)
})

afterAll(async () => {
  await sim.close()
  await home.remove()
})

it('sync --curate stores, then curates, and reports both; a run with nothing new rewrites nothing', async () => {
  const out = join(home.path, 'out')
  const first = await runCli(
    ['sync', '--out', out, '--data', 'activities,splits,sleep', '--days-back', '30', '--curate', '--json'],
    { env },
  )
  expect(first.code, first.stderr).toBe(0)
  const report = JSON.parse(first.stdout)
  expect(report.exitCode).toBe(0)
  expect(report.curate).toMatchObject({ exitCode: 0, stopReason: 'done', curatedPrefix: CURATED })
  expect(report.curate.written.map((f: { table: string }) => f.table)).toEqual(
    expect.arrayContaining(['activities', 'laps', 'sleep']),
  )
  const [row] = duckdb(`SELECT count(*) AS n FROM read_parquet('${CURATED}activities/*/*.parquet')`, out)
  expect(row!.n).toBe(report.created)

  const second = await runCli(
    ['sync', '--out', out, '--data', 'activities,splits,sleep', '--days-back', '30', '--curate'],
    { env },
  )
  expect(second.code, second.stderr).toBe(0)
  expect(second.stdout).toMatch(/✔ Curated: 0 file\(s\) rewritten, \d+ up to date/)
})
