/**
 * curate is incremental: a second run with nothing new makes no write at all, and one new activity
 * rewrites only the table-years whose raw objects changed, each with exactly one PUT. Also the command:
 * --json, progress on stderr, exit codes 0, 2 and 5.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import Curate from '../../src/commands/curate.js'
import { curatedKey, runCurate } from '../../src/curate/run.js'
import { TABLES } from '../../src/curate/tables.js'
import type { DirStore } from '../../src/store/dir.js'
import type { CasResult, ObjectInfo, PutResult, Store, StoredObject } from '../../src/store/types.js'
import { datasetPrefix } from '../../src/sync/datasets.js'
import { NOW, PREFIX } from '../datasets/helpers.js'
import { runCommand } from '../helpers/command.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { Simulator } from '../sim/server.js'
import { CURATED, curate, duckdb, syncedFolder } from './helpers.js'

/** A store that records the key of every write it passes on. */
class WriteLog implements Store {
  readonly puts: string[] = []
  constructor(private readonly inner: Store) {}
  get location() {
    return this.inner.location
  }
  putIfAbsent(key: string, body: Uint8Array | string, type: string): Promise<PutResult> {
    this.puts.push(key)
    return this.inner.putIfAbsent(key, body, type)
  }
  putIfMatch(key: string, body: Uint8Array | string, type: string, etag: string | null): Promise<CasResult> {
    this.puts.push(key)
    return this.inner.putIfMatch(key, body, type, etag)
  }
  delete(key: string) {
    return this.inner.delete(key)
  }
  probe(key: string, body: Uint8Array | string, type: string): Promise<PutResult> {
    return this.inner.probe(key, body, type)
  }
  get(key: string): Promise<StoredObject | undefined> {
    return this.inner.get(key)
  }
  head(key: string): Promise<ObjectInfo | undefined> {
    return this.inner.head(key)
  }
  list(prefix: string) {
    return this.inner.list(prefix)
  }
  stats() {
    return this.inner.stats()
  }
}

let sim: Simulator
let root: string
let store: DirStore
let sync: Awaited<ReturnType<typeof syncedFolder>>['sync']

beforeAll(async () => {
  ;({ sim, root, store, sync } = await syncedFolder(400, 120))
}, 120_000)

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

/** Every raw object's key and ETag, by the table-year it belongs to (`<table>/<year>`, as curate groups them). */
async function rawVersions(): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  for (const table of TABLES)
    for await (const info of store.list(datasetPrefix(PREFIX, table.source))) out.set(info.key, info.etag)
  return out
}

it('a run stopped before its first file writes no file, exits 5, and the next run finishes', async () => {
  const stopped = new AbortController()
  stopped.abort()
  const log = new WriteLog(store)
  const first = await runCurate(
    { rawPrefix: PREFIX, curatedPrefix: CURATED },
    { store: log, clock: new FakeClock(NOW), signal: stopped.signal },
  )
  expect(first).toMatchObject({ exitCode: 5, stopReason: 'interrupted', written: [], remaining: 22 })
  expect(log.puts.filter((k) => k.endsWith('.parquet'))).toEqual([])

  const again = new WriteLog(store)
  const report = await curate(again)
  expect(report.exitCode).toBe(0)
  expect(report.written).toHaveLength(22)
  const parquet = again.puts.filter((k) => k.endsWith('.parquet'))
  // One PUT per table-year file, and each file once.
  expect(parquet).toHaveLength(22)
  expect(new Set(parquet).size).toBe(22)
  for (const table of TABLES)
    for (const year of [2025, 2026]) expect(parquet).toContain(curatedKey(CURATED, table.name, year))
})

it('a second run with nothing new writes nothing, not even its state', async () => {
  const log = new WriteLog(store)
  const report = await curate(log)
  expect(report).toMatchObject({ exitCode: 0, written: [], unchanged: 22, remaining: 0 })
  expect(log.puts).toEqual([])
  expect(report.requests.GetObject ?? 0).toBeGreaterThan(0) // the state, once
})

it('one new activity rewrites only the table-years it touched, each with one PUT', async () => {
  const before = await rawVersions()
  const [added] = sim.addActivities(1)
  expect((await sync({ datasets: ['all'] })).exitCode).toBe(0)
  const after = await rawVersions()
  const changed = [...after].filter(([key, etag]) => before.get(key) !== etag).map(([key]) => key)
  expect(changed).toContain(`${PREFIX}activity_${added!.activityId}.json`)

  const log = new WriteLog(store)
  const report = await curate(log)
  expect(report.exitCode).toBe(0)
  const parquet = log.puts.filter((k) => k.endsWith('.parquet')).sort()
  // The activity and its laps and samples (this year), and the daily datasets sync brought along.
  const dailyYears = new Set(
    changed.flatMap((key) => {
      const table = TABLES.find(
        (t) => t.source !== 'activities' && key.startsWith(datasetPrefix(PREFIX, t.source)),
      )
      const m = /_(\d{4})-\d{2}-\d{2}\.json$/.exec(key)
      return table && m ? [curatedKey(CURATED, table.name, Number(m[1]))] : []
    }),
  )
  const expected = [
    curatedKey(CURATED, 'activities', 2026),
    curatedKey(CURATED, 'laps', 2026),
    curatedKey(CURATED, 'activity_samples', 2026),
    ...dailyYears,
  ].sort()
  expect(parquet).toEqual(expected)
  expect(parquet.some((k) => k.includes('year=2025'))).toBe(false)
  expect(report.unchanged).toBe(22 - expected.length)
  // The rewritten file holds the whole year: every activity of 2026, the new one among them.
  const activities = report.written.find((f) => f.table === 'activities')!
  const of2026 = readdirSync(join(root, PREFIX)).filter((f) =>
    JSON.parse(readFileSync(join(root, PREFIX, f), 'utf8')).startTimeLocal.startsWith('2026'),
  )
  expect(activities.rows).toBe(of2026.length)
})

class SteppingClock extends FakeClock {
  override now(): number {
    this.advance(600_000)
    return super.now()
  }
}

it('the command: usage errors exit 2, a run past --max-duration exits 5, --json reports, progress goes to stderr', async () => {
  const bad = await runCommand(Curate, ['--out', root, '--tables', 'activities,nope'])
  expect(bad.exitCode).toBe(2)
  expect(bad.stderr).toContain('unknown table: nope')
  const inside = await runCommand(Curate, ['--out', root, '--curated-prefix', 'raw-data/garmin-parquet/'])
  expect(inside.exitCode).toBe(2)
  expect(inside.stderr).toContain('outside the raw data')

  sim.addActivities(1)
  expect((await sync({ datasets: ['activities', 'splits', 'details'] })).exitCode).toBe(0)
  class Late extends Curate {
    protected override clock() {
      return new SteppingClock(NOW)
    }
  }
  const late = await runCommand(Late, ['--out', root, '--max-duration', '1s', '--json'])
  expect(late.exitCode).toBe(5)
  expect(late.json).toMatchObject({ stopReason: 'deadline', written: [], remaining: 3 })

  const done = await runCommand(Curate, ['--out', root])
  expect(done.exitCode).toBe(0)
  expect(done.stderr).toContain('Curating: 3 table-year file(s) to build, 19 up to date.')
  expect(done.stderr).toContain(`[1/3] ${curatedKey(CURATED, 'activities', 2026)}`)
  expect(done.stdout).toMatch(/✔ Wrote 3 file\(s\), [\d,]+ rows/)

  const json = await runCommand(Curate, ['--out', root, '--json'])
  expect(json.exitCode).toBe(0)
  expect(json.json).toMatchObject({ written: [], unchanged: 22, stopReason: 'done', curatedPrefix: CURATED })
  const text = await runCommand(Curate, ['--out', root])
  expect(text.stdout).toContain('✔ Up to date')
  const empty = await runCommand(Curate, ['--out', join(root, 'nothing-here')])
  expect(empty.exitCode).toBe(0)
  expect(empty.stdout).toContain('Nothing to curate: no raw data under')
  expect(empty.stdout).toContain('Run garmin-s3 sync first')
  expect(existsSync(join(root, 'nothing-here'))).toBe(false)
})

it('an activity sync replaced (edited in Garmin) is read again: moved to another year, its files follow', async () => {
  const key = readdirSync(join(root, PREFIX))
    .map((f) => `${PREFIX}${f}`)
    .find((k) => JSON.parse(readFileSync(join(root, k), 'utf8')).startTimeLocal.startsWith('2026-0'))!
  const current = (await store.get(key))!
  const entry = JSON.parse(Buffer.from(current.body).toString('utf8'))
  // The same edit sync stores as a replacement (docs/changes.md): a new name, a start a year earlier.
  entry.activityName = 'Edited in Garmin'
  entry.startTimeLocal = entry.startTimeLocal.replace(/^2026/, '2025')
  entry.startTimeGMT = entry.startTimeGMT.replace(/^2026/, '2025')
  expect((await store.putIfMatch(key, JSON.stringify(entry), 'application/json', current.etag)).ok).toBe(true)

  const log = new WriteLog(store)
  const report = await curate(log)
  expect(report.exitCode).toBe(0)
  const files = ['activities', 'laps', 'activity_samples'].flatMap((t) =>
    [2025, 2026].map((y) => curatedKey(CURATED, t, y)),
  )
  expect(log.puts.filter((k) => k.endsWith('.parquet')).sort()).toEqual(files.sort())
  const [row] = duckdb(
    `SELECT name, year FROM read_parquet('${CURATED}activities/*/*.parquet', hive_partitioning = true) WHERE activity_id = ${entry.activityId}`,
    root,
  )
  expect(row).toEqual({ name: 'Edited in Garmin', year: 2025 })
})
