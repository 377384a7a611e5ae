/**
 * The pandas and polars recipes of docs/curated-tables.md, run with python3 in a curated folder built
 * from the simulator: each prints the answer of the SQL query of the same name, and it equals the same
 * question computed from the raw JSON. Without pandas, pyarrow and polars the file fails, it never skips.
 */
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import type { Simulator } from '../sim/server.js'
import { hrSamplesPerActivity, hrvTrend, round, weeklyDistance } from './answers.js'
import {
  CURATED_DOC,
  curate,
  docRecipes,
  pythonCsv,
  requireDataFrameLibraries,
  syncedFolder,
} from './helpers.js'

let sim: Simulator
let root: string

/** The recipe `name`'s printed rows; each recipe's test fails (never skips) without the libraries. */
const run = (name: string) => {
  requireDataFrameLibraries()
  const code = docRecipes('python').get(name)
  expect(code, `no \`# test: ${name}\` python block in the doc`).toBeDefined()
  return pythonCsv(code!, root)
}

/**
 * `got` is `exact` printed with one decimal by either rounding rule: pandas and polars round halves to
 * even, the JavaScript and DuckDB answers away from zero.
 */
function expectTenths(got: unknown, exact: number, what: string): void {
  expect(typeof got, what).toBe('number')
  expect(Math.abs((got as number) - exact), `${what}: ${got} against ${exact}`).toBeLessThanOrEqual(
    0.05 + 1e-9,
  )
  expect(got, `${what}: one decimal`).toBe(round(got as number, 1))
}

beforeAll(async () => {
  const synced = await syncedFolder()
  sim = synced.sim
  root = synced.root
  expect((await curate(synced.store)).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await sim?.close()
  if (root) await rm(root, { recursive: true, force: true })
})

it('every python block of the doc is a tested recipe', () => {
  const blocks = readFileSync(CURATED_DOC, 'utf8').match(/```python\n/g) ?? []
  expect([...docRecipes('python').keys()].sort()).toEqual([
    'hr-samples-per-activity',
    'hrv-trend',
    'weekly-distance',
  ])
  expect(blocks.length).toBe(docRecipes('python').size)
})

it('pandas: weekly distance by type, from the activities folder and its year partitions', () => {
  const want = weeklyDistance(root)
  const rows = run('weekly-distance')
  expect(rows.length).toBe(want.size)
  expect(rows.length).toBeGreaterThan(20)
  expect(rows.some((r) => r.km === 0)).toBe(true)
  for (const row of rows) {
    const key = `${row.week} ${row.type}`
    const w = want.get(key)
    expect(w, key).toBeDefined()
    expect(row.activities, key).toBe(w!.n)
    // pandas sums no value to 0 where SQL says NULL.
    expectTenths(row.km, (w!.m ?? 0) / 1000, key)
  }
})

it('polars: heart-rate samples per activity, from the lazy scan of every year', () => {
  const want = hrSamplesPerActivity(root)
  const rows = run('hr-samples-per-activity')
  expect(rows.map((r) => r.activity_id)).toEqual([...want.keys()].sort((a, b) => a - b))
  expect(rows.filter((r) => (r.hr_samples as number) > 0).length).toBeGreaterThan(20)
  for (const row of rows) {
    const w = want.get(row.activity_id as number)!
    expect(row.hr_samples, String(row.activity_id)).toBe(w.n)
    expect(row.max_hr_bpm, String(row.activity_id)).toBe(w.max)
    if (w.n === 0) expect(row.avg_hr_bpm).toBeNull()
    else expectTenths(row.avg_hr_bpm, w.sum / w.n, String(row.activity_id))
  }
})

it('polars: HRV month by month', () => {
  const want = hrvTrend(root)
  const rows = run('hrv-trend')
  expect(rows.map((r) => r.month)).toEqual([...want.keys()].sort())
  expect(rows.length).toBeGreaterThan(10)
  for (const row of rows) {
    const w = want.get(row.month as string)!
    expect(row.nights, row.month as string).toBe(w.nights)
    expectTenths(row.avg_hrv_ms, w.sum / w.nights, row.month as string)
  }
})
