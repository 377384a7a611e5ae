/**
 * The curated layer read back by an independent engine, the DuckDB CLI: the five example questions of
 * docs/curated-tables.md answered from the Parquet files equal the same questions computed from the raw
 * JSON, every file's rows and schema are what curate says, and the documented schema is the code's.
 */
import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parquetSchemaOf } from '../../src/curate/parquet.js'
import type { CurateReport } from '../../src/curate/run.js'
import { TABLES } from '../../src/curate/tables.js'
import type { Simulator } from '../sim/server.js'
import {
  hrSamplesPerActivity,
  hrvTrend,
  lapsPerActivity,
  raw,
  round,
  sleepVsRestingHr,
  weeklyDistance,
} from './answers.js'
import { CURATED, CURATED_DOC, curate, docRecipes, duckdb, syncedFolder } from './helpers.js'
import { END, START, tablesSection } from './tables-doc.js'

let sim: Simulator
let root: string
let report: CurateReport

beforeAll(async () => {
  const synced = await syncedFolder()
  sim = synced.sim
  root = synced.root
  report = await curate(synced.store)
  expect(report.exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

describe('the five questions, from Parquet and from the raw JSON', () => {
  it('weekly distance by type', () => {
    const want = weeklyDistance(root)
    const rows = duckdb(docRecipes('sql').get('weekly-distance')!, root)
    expect(rows.length).toBe(want.size)
    expect(rows.length).toBeGreaterThan(20)
    for (const row of rows) {
      const w = want.get(`${row.week} ${row.type}`)
      expect(w, `${row.week} ${row.type}`).toBeDefined()
      expect(row.activities).toBe(w!.n)
      if (w!.m === null) expect(row.km).toBeNull()
      else expect(row.km).toBeCloseTo(round(w!.m / 1000, 1), 5)
    }
  })

  it('sleep score against resting heart rate', () => {
    const want = sleepVsRestingHr(root)
    const rows = duckdb(docRecipes('sql').get('sleep-vs-resting-hr')!, root)
    expect(rows.map((r) => r.resting_hr_bpm)).toEqual([...want.keys()].sort((a, b) => a - b))
    for (const row of rows) {
      const w = want.get(row.resting_hr_bpm as number)!
      expect(row.nights).toBe(w.nights)
      expect(row.avg_sleep_score).toBeCloseTo(round(w.score / w.nights, 1), 5)
    }
    expect(rows.reduce((n, r) => n + (r.nights as number), 0)).toBeGreaterThan(300)
  })

  it('HRV trend, month by month', () => {
    const want = hrvTrend(root)
    const rows = duckdb(docRecipes('sql').get('hrv-trend')!, root)
    expect(rows.map((r) => r.month)).toEqual([...want.keys()].sort())
    for (const row of rows) {
      const w = want.get(row.month as string)!
      expect(row.nights).toBe(w.nights)
      expect(row.avg_hrv_ms).toBeCloseTo(round(w.sum / w.nights, 1), 5)
    }
  })

  it('laps per activity', () => {
    const want = lapsPerActivity(root)
    const rows = duckdb(docRecipes('sql').get('laps-per-activity')!, root)
    expect(rows.map((r) => Number(r.activity_id))).toEqual([...want.keys()].sort((a, b) => a - b))
    for (const row of rows) {
      const w = want.get(Number(row.activity_id))!
      expect(row.laps).toBe(w.laps)
      expect(row.lap_distance_m).toBeCloseTo(round(w.m, 1), 5)
    }
  })

  it('heart-rate samples per activity', () => {
    const want = hrSamplesPerActivity(root)
    const rows = duckdb(docRecipes('sql').get('hr-samples-per-activity')!, root)
    expect(rows.map((r) => Number(r.activity_id))).toEqual([...want.keys()].sort((a, b) => a - b))
    expect(rows.filter((r) => (r.hr_samples as number) > 0).length).toBeGreaterThan(20)
    for (const row of rows) {
      const w = want.get(Number(row.activity_id))!
      expect(row.hr_samples).toBe(w.n)
      expect(row.max_hr_bpm).toBe(w.max)
      if (w.n === 0) expect(row.avg_hr_bpm).toBeNull()
      else expect(row.avg_hr_bpm).toBeCloseTo(round(w.sum / w.n, 1), 5)
    }
  })
})

/** What DuckDB reports for each column type of tables.ts. */
const DUCKDB_TYPE = {
  string: 'VARCHAR',
  int: 'INTEGER',
  bigint: 'BIGINT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  timestamp: 'TIMESTAMP',
  date: 'DATE',
} as const

it('DuckDB reads every file: its rows are the ones curate reports, its schema the table spec', () => {
  expect(report.written.map((f) => f.table).sort()).toEqual(
    [...TABLES.flatMap((t) => [t.name, t.name])].sort(),
  )
  for (const file of report.written) {
    const spec = TABLES.find((t) => t.name === file.table)!
    const [count] = duckdb(`SELECT count(*) AS n FROM read_parquet('${file.key}')`, root)
    expect(count!.n, file.key).toBe(file.rows)
    expect(file.rows, file.key).toBeGreaterThan(0)
    const columns = duckdb(
      `DESCRIBE SELECT * FROM read_parquet('${file.key}', hive_partitioning = false)`,
      root,
    )
    expect(columns.map((c) => [c.column_name, c.column_type])).toEqual(
      spec.columns.map((c) => [c.name, DUCKDB_TYPE[c.type]]),
    )
  }
  const years = duckdb(
    `SELECT DISTINCT year FROM read_parquet('${CURATED}*/*/*.parquet', hive_partitioning = true, union_by_name = true) ORDER BY year`,
    root,
  )
  expect(years.map((y) => y.year)).toEqual([2025, 2026])
})

it("the local wall time is the UTC instant moved by the activity's own offset", () => {
  const rows = duckdb(
    `SELECT a.activity_id, a.start_utc, a.start_local, min(s.timestamp_local - s.timestamp_utc) AS d1, max(s.timestamp_local - s.timestamp_utc) AS d2
     FROM read_parquet('${CURATED}activities/*/*.parquet') a JOIN read_parquet('${CURATED}activity_samples/*/*.parquet') s USING (activity_id)
     GROUP BY ALL`,
    root,
  )
  const entries = new Map(raw(root, 'garmin-json').map((a) => [a.activityId, a]))
  expect(rows.length).toBeGreaterThan(20)
  for (const row of rows) {
    const a = entries.get(Number(row.activity_id))
    expect(row.start_utc).toBe(a.startTimeGMT)
    expect(row.start_local).toBe(a.startTimeLocal)
    expect(row.d1).toBe(row.d2)
  }
})

it('raw_json holds the whole list entry', () => {
  const rows = duckdb(
    `SELECT activity_id, raw_json FROM read_parquet('${CURATED}activities/*/*.parquet')`,
    root,
  )
  const entries = new Map(raw(root, 'garmin-json').map((a) => [a.activityId, a]))
  expect(rows.length).toBe(entries.size)
  for (const row of rows)
    expect(JSON.parse(row.raw_json as string)).toEqual(entries.get(Number(row.activity_id)))
})

it('docs/curated-tables.md lists every table and column as the code defines them', () => {
  const text = readFileSync(CURATED_DOC, 'utf8')
  const section = text.slice(text.indexOf(START), text.indexOf(END) + END.length)
  expect(section, 'regenerate the section from test/curate/tables-doc.ts').toBe(tablesSection())
  expect(parquetSchemaOf(TABLES[0]!)[0]!.num_children).toBe(TABLES[0]!.columns.length)
})
