import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirStore } from '../../src/store/dir.js'
import { addDays } from '../../src/sync/time.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { NOW, signedInClient, syncer, TODAY } from './helpers.js'

const DOC = join(import.meta.dirname, '../../README.md')
const CHANGES_DOC = join(import.meta.dirname, '../../docs/changes.md')

/** The SQL blocks of the README (or another doc) marked `-- test: <name>`. */
function docQueries(doc = DOC): Map<string, string> {
  const text = readFileSync(doc, 'utf8')
  const out = new Map<string, string>()
  for (const m of text.matchAll(/```sql\n-- test: (\S+)\n([\s\S]*?)```/g)) out.set(m[1]!, m[2]!)
  return out
}

function duckdb(sql: string, cwd: string): Record<string, unknown>[] {
  const result = spawnSync('duckdb', ['-json', '-c', sql], { cwd, encoding: 'utf8' })
  expect(result.status, result.stderr).toBe(0)
  return JSON.parse(result.stdout.trim() || '[]')
}

interface ActivityFile {
  startTimeLocal: string
  activityType?: { typeKey?: string }
  distance?: number | null
}
interface SleepFile {
  dailySleepDTO: {
    calendarDate: string
    sleepTimeSeconds: number
    sleepScores: { overall: { value: number } }
  }
}
interface SummaryFile {
  calendarDate: string
  restingHeartRate: number
}

function readAll<T>(dir: string): T[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
}

/** Monday of the week (DuckDB's date_trunc('week')). */
function monday(date: string): string {
  const day = new Date(`${date}T00:00:00Z`).getUTCDay()
  return addDays(date, -((day + 6) % 7))
}

let sim: Simulator
let root: string

beforeAll(async () => {
  sim = await startSimulator({ activities: 150, years: 1, seed: 21, now: () => NOW })
  root = await mkdtemp(join(tmpdir(), 'garmin-s3-duckdb-'))
  const clock = new FakeClock(NOW)
  const { sync } = syncer(await signedInClient(sim, clock), new DirStore(root, { durable: false }), clock)
  const report = await sync({
    since: addDays(TODAY, -59),
    datasets: ['activities', 'sleep', 'daily-summary'],
  })
  expect(report.exitCode).toBe(0)
})

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

it('the weekly-distance example of the README returns the distances that were synced', () => {
  const activities = readAll<ActivityFile>(join(root, 'raw-data/garmin-json'))
  expect(activities.length).toBeGreaterThan(10)
  const expected = new Map<string, { week: string; type: string; activities: number; m: number }>()
  for (const a of activities) {
    const week = monday(String(a.startTimeLocal).slice(0, 10))
    const type = String(a.activityType?.typeKey)
    const row = expected.get(`${week} ${type}`) ?? { week, type, activities: 0, m: 0 }
    row.activities++
    row.m += typeof a.distance === 'number' ? a.distance : 0
    expected.set(`${week} ${type}`, row)
  }
  const rows = duckdb(docQueries().get('weekly-distance')!, root)
  expect(rows).toHaveLength(expected.size)
  for (const row of rows) {
    const want = expected.get(`${row.week} ${row.type}`)
    expect(want, `${row.week} ${row.type}`).toBeDefined()
    expect(row.activities).toBe(want!.activities)
    expect(row.km as number).toBeCloseTo(Math.round(want!.m / 100) / 10, 1)
  }
})

it('the sleep-against-resting-heart-rate example joins the two daily datasets night by night', () => {
  const sleep = readAll<SleepFile>(join(root, 'raw-data/garmin-sleep'))
  const summaries = new Map(
    readAll<SummaryFile>(join(root, 'raw-data/garmin-daily-summary')).map((d) => [
      d.calendarDate,
      d.restingHeartRate,
    ]),
  )
  const byHr = new Map<number, { nights: number; score: number; seconds: number }>()
  for (const s of sleep) {
    const hr = summaries.get(s.dailySleepDTO.calendarDate)
    if (hr === undefined) continue
    const row = byHr.get(hr) ?? { nights: 0, score: 0, seconds: 0 }
    row.nights++
    row.score += s.dailySleepDTO.sleepScores.overall.value
    row.seconds += s.dailySleepDTO.sleepTimeSeconds
    byHr.set(hr, row)
  }
  expect(sleep.length).toBeGreaterThan(50)
  const rows = duckdb(docQueries().get('sleep-vs-resting-hr')!, root)
  expect(rows.map((r) => r.resting_hr)).toEqual([...byHr.keys()].sort((a, b) => a - b))
  for (const row of rows) {
    const want = byHr.get(row.resting_hr as number)!
    expect(row.nights).toBe(want.nights)
    expect(row.avg_sleep_score as number).toBeCloseTo(want.score / want.nights, 1)
    expect(row.avg_sleep_hours as number).toBeCloseTo(want.seconds / want.nights / 3600, 2)
  }
  expect(rows.reduce((n, r) => n + (r.nights as number), 0)).toBe(sleep.length)
})

describe('the recipes of docs/changes.md, on a lake with an edited and a deleted activity', () => {
  let changes: Simulator
  let lake: string
  let edited: number
  let deleted: number
  const names: string[] = []

  beforeAll(async () => {
    changes = await startSimulator({ activities: 30, years: 1, seed: 23, now: () => NOW })
    lake = await mkdtemp(join(tmpdir(), 'garmin-s3-duckdb-changes-'))
    const clock = new FakeClock(NOW)
    const { sync } = syncer(
      await signedInClient(changes, clock),
      new DirStore(lake, { durable: false }),
      clock,
    )
    expect((await sync({ datasets: ['activities'] })).exitCode).toBe(0)
    const all = changes.listAll()
    edited = all[0]!.activityId
    deleted = all[4]!.activityId
    names.push(String(all[0]!.activityName))
    for (const name of ['second name', 'third name']) {
      clock.advance(60_000)
      changes.editActivity(edited, { activityName: name })
      names.push(name)
      expect((await sync({ datasets: ['activities'] })).changed).toBe(1)
    }
    changes.deleteActivity(deleted)
    clock.advance(60_000)
    expect((await sync({ datasets: ['activities'], reconcile: true })).deleted).toBe(1)
  })

  afterAll(async () => {
    await changes.close()
    await rm(lake, { recursive: true, force: true })
  })

  it('"current activities, without deleted ones" leaves the deleted one out and shows the new name', () => {
    const rows = duckdb(docQueries(CHANGES_DOC).get('current-activities')!, lake)
    const ids = rows.map((r) => Number(r.activityId))
    expect(ids).toHaveLength(29)
    expect(ids).not.toContain(deleted)
    expect(rows.find((r) => Number(r.activityId) === edited)?.activityName).toBe('third name')
  })

  it('"every version of one activity" lists each version once, oldest first, the current one last', () => {
    const sql = docQueries(CHANGES_DOC).get('versions-of-one')!.replaceAll('12345', String(edited))
    const rows = duckdb(sql, lake)
    expect(rows.map((r) => r.activityName)).toEqual(names)
    expect(rows.at(-1)?.until).toBeNull()
    expect(rows.slice(0, -1).every((r) => /^\d{8}T\d{6}\.\d{3}Z$/.test(String(r.until)))).toBe(true)
  })
})
