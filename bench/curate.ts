/**
 * `npm run bench:curate`: the curated layer on ten years of every dataset. The simulator's account
 * (3,000 activities over ten years by default) is synced with `--data all` into a folder (not timed),
 * then the built CLI runs `garmin-s3 curate --out` in a process of its own: its wall time, peak RSS
 * (goal <= 400 MB) and the bytes it wrote. Then the same two DuckDB queries over the raw JSON and
 * over the Parquet files (answers checked equal), and the speed-up. Last, the size of the Lambda bundle
 * with the curate code in it (goal <= 1 MB zipped). `npm run build` first.
 *
 *   npm run bench:curate [-- --activities 3000 --years 10 --repeat 3 --keep]
 */
import { spawnSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { deflateRawSync } from 'node:zlib'
import { build } from 'esbuild'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { DirStore } from '../src/store/dir.js'
import { runSyncWithDatasets } from '../src/sync/index.js'
import { addDays } from '../src/sync/time.js'
import { MemoryTokenStore } from '../test/garmin/helpers.js'
import { FakeClock } from '../test/helpers/fake-clock.js'
import { startSimulator } from '../test/sim/server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const NOW = Date.UTC(2026, 10, 28, 12, 0, 0)
const TODAY = '2026-11-28'
const GOALS = { peakRssMb: 400, zipKb: 1024 }

const { values: flags } = parseArgs({
  options: {
    activities: { type: 'string', default: '3000' },
    years: { type: 'string', default: '10' },
    repeat: { type: 'string', default: '3' },
    keep: { type: 'boolean', default: false },
  },
})
const ACTIVITIES = Number(flags.activities)
const YEARS = Number(flags.years)
const REPEAT = Number(flags.repeat)

function bytesUnder(dir: string): { files: number; bytes: number } {
  let files = 0
  let bytes = 0
  for (const name of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    const s = statSync(join(dir, name))
    if (s.isFile()) {
      files++
      bytes += s.size
    }
  }
  return { files, bytes }
}

function duckdb(sql: string, cwd: string): { rows: unknown[] } {
  const result = spawnSync('duckdb', ['-json', '-c', sql], { cwd, encoding: 'utf8', maxBuffer: 1 << 28 })
  if (result.status !== 0) throw new Error(`duckdb: ${result.stderr}`)
  return { rows: JSON.parse(result.stdout.trim() || '[]') }
}

/** DuckDB's own timing of `sql` (`.timer on`: the query, without the CLI's start-up), in ms. */
function duckdbMs(sql: string, cwd: string): number {
  const result = spawnSync('duckdb', ['-c', '.mode trash', '-c', '.timer on', '-c', sql], {
    cwd,
    encoding: 'utf8',
  })
  const m = /Run Time \(s\): real ([\d.]+)/.exec(result.stdout)
  if (result.status !== 0 || !m) throw new Error(`duckdb: ${result.stderr}${result.stdout}`)
  return Number(m[1]) * 1000
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

/** The same question over the raw JSON and over the Parquet files. */
const QUERIES = [
  {
    name: 'weekly distance by type',
    raw: `SELECT date_trunc('week', CAST(startTimeLocal AS TIMESTAMP))::DATE AS week, activityType.typeKey AS type, count(*) AS n, round(sum(distance) / 1000, 1) AS km
          FROM read_json('raw-data/garmin-json/*.json', columns = {startTimeLocal: 'VARCHAR', activityType: 'STRUCT(typeKey VARCHAR)', distance: 'DOUBLE'})
          GROUP BY ALL ORDER BY week, type`,
    parquet: `SELECT date_trunc('week', start_local)::DATE AS week, type, count(*) AS n, round(sum(distance_m) / 1000, 1) AS km
          FROM read_parquet('processed-data/garmin/activities/*/*.parquet') GROUP BY ALL ORDER BY week, type`,
  },
  {
    name: 'daily mean of the all-day heart rate',
    raw: `SELECT calendarDate AS date, round(avg(v[2]), 2) AS bpm, count(*) AS n
          FROM (SELECT calendarDate, unnest(heartRateValues) AS v
                FROM read_json('raw-data/garmin-heart-rate/*.json', columns = {calendarDate: 'VARCHAR', heartRateValues: 'BIGINT[][]'}))
          WHERE v[2] IS NOT NULL GROUP BY ALL ORDER BY date`,
    parquet: `SELECT strftime(date, '%Y-%m-%d') AS date, round(avg(heart_rate_bpm), 2) AS bpm, count(*) AS n
          FROM read_parquet('processed-data/garmin/heart_rate_samples/*/*.parquet') GROUP BY ALL ORDER BY date`,
  },
]

/**
 * What Athena would scan for the five example queries of docs/curated-tables.md: Parquet is columnar,
 * so it reads (and bills) the compressed column chunks a query names, in every file of the table.
 */
const ATHENA_QUERIES: { name: string; columns: Record<string, string[]> }[] = [
  { name: 'weekly distance by type', columns: { activities: ['start_local', 'type', 'distance_m'] } },
  {
    name: 'sleep score against resting HR',
    columns: { sleep: ['date', 'sleep_score'], daily_summary: ['date', 'resting_hr_bpm'] },
  },
  { name: 'HRV trend', columns: { hrv: ['date', 'last_night_avg_ms'] } },
  { name: 'laps per activity', columns: { laps: ['activity_id', 'distance_m'] } },
  {
    name: 'heart-rate samples per activity',
    columns: { activity_samples: ['activity_id', 'heart_rate_bpm'] },
  },
]
/** Athena's price (us-east-1) and its minimum per query. */
const ATHENA_USD_PER_TB = 5
const ATHENA_MIN_BYTES = 10 * 1024 * 1024

function athenaScans(dir: string) {
  return ATHENA_QUERIES.map((q) => {
    let bytes = 0
    for (const [table, columns] of Object.entries(q.columns)) {
      const list = columns.map((c) => `'${c}'`).join(', ')
      const [row] = duckdb(
        `SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata('processed-data/garmin/${table}/*/*.parquet') WHERE path_in_schema IN (${list})`,
        dir,
      ).rows as { b: number }[]
      bytes += Number(row?.b ?? 0)
    }
    const billed = Math.max(bytes, ATHENA_MIN_BYTES)
    return { name: q.name, bytesScanned: bytes, usd: (billed / 1024 ** 4) * ATHENA_USD_PER_TB }
  })
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-bench-curate-'))
  console.error(`bench:curate: ${ACTIVITIES} activities over ${YEARS} years, every dataset, into ${dir}`)
  const sim = await startSimulator({ activities: ACTIVITIES, years: YEARS, seed: 1818, now: () => NOW })
  try {
    // 1. The raw layer (not timed): a full sync of every dataset over the whole account.
    const clock = new FakeClock(NOW)
    const garmin = new GarminClient({
      tokenStore: new MemoryTokenStore(),
      endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
      clock,
      random: () => 0.5,
    })
    await garmin.login({ email: sim.user.email, password: sim.user.password })
    const store = new DirStore(dir, { durable: false })
    const syncStarted = performance.now()
    for (let run = 1; ; run++) {
      const report = await runSyncWithDatasets(
        {
          prefix: 'raw-data/garmin-json/',
          runner: 'cli',
          toolVersion: 'bench',
          datasets: ['all'],
          since: addDays(TODAY, -(365 * YEARS + 2)),
          concurrency: 16,
        },
        { garmin, store, clock, newRunId: () => `bench${run}` },
      )
      if (report.exitCode === 0) break
      if (run >= 5) throw new Error(`sync did not finish: exit ${report.exitCode}`)
    }
    const syncMs = performance.now() - syncStarted
    const raw = bytesUnder(join(dir, 'raw-data'))
    console.error(
      `  raw layer: ${raw.files} objects, ${(raw.bytes / 1e6).toFixed(1)} MB (sync ${(syncMs / 1000).toFixed(0)} s)`,
    )

    // 2. curate, the built CLI in its own process; its peak RSS from GNU time.
    const run = spawnSync(
      '/usr/bin/time',
      ['-f', '%M', process.execPath, join(ROOT, 'bin/run.js'), 'curate', '--out', dir, '--json'],
      {
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    )
    if (run.status !== 0) throw new Error(`curate failed: ${run.stderr}`)
    const report = JSON.parse(run.stdout)
    const peakRssMb = Number(run.stderr.trim().split('\n').pop()) / 1024
    const again = spawnSync(process.execPath, [join(ROOT, 'bin/run.js'), 'curate', '--out', dir, '--json'], {
      encoding: 'utf8',
    })
    const second = JSON.parse(again.stdout)

    // 3. DuckDB: raw JSON against Parquet, the same answers.
    const queries = QUERIES.map((q) => {
      const rawAnswer = duckdb(q.raw, dir).rows
      const same = JSON.stringify(rawAnswer) === JSON.stringify(duckdb(q.parquet, dir).rows)
      const rawMs = median(Array.from({ length: REPEAT }, () => duckdbMs(q.raw, dir)))
      const parquetMs = median(Array.from({ length: REPEAT }, () => duckdbMs(q.parquet, dir)))
      return {
        name: q.name,
        rows: rawAnswer.length,
        sameAnswer: same,
        rawMs,
        parquetMs,
        speedup: rawMs / parquetMs,
      }
    })

    const athena = athenaScans(dir)

    // 4. The Lambda bundle with the curate code (the handler plus runCurate), minified, and deflated as in a zip.
    const entry = join(dir, 'lambda-with-curate.ts')
    await writeFile(
      entry,
      `export { handler } from '${join(ROOT, 'src/lambda/handler.ts')}'\nexport { runCurate } from '${join(ROOT, 'src/curate/run.ts')}'\n`,
    )
    const bundle = await build({
      entryPoints: [entry],
      bundle: true,
      platform: 'node',
      target: 'node22',
      format: 'esm',
      minify: true,
      write: false,
      mainFields: ['module', 'main'],
      external: ['impit'],
      legalComments: 'none',
      logLevel: 'silent',
    })
    const code = bundle.outputFiles[0]!.contents
    const zipKb = deflateRawSync(code, { level: 9 }).byteLength / 1024

    const results = {
      machine: { cpus: cpus().length, node: process.version },
      account: { activities: ACTIVITIES, years: YEARS },
      raw: { objects: raw.files, bytes: raw.bytes, syncSeconds: Math.round(syncMs / 1000) },
      curate: {
        seconds: report.durationMs / 1000,
        peakRssMb: Math.round(peakRssMb),
        files: report.written.length,
        rows: report.rows,
        bytesWritten: report.bytesWritten,
        secondRunWritten: second.written.length,
        secondRunPuts: second.requests.PutObject ?? 0,
      },
      queries,
      athena,
      lambda: { bundleKb: Math.round(code.byteLength / 1024), zipKb: Math.round(zipKb) },
      goals: GOALS,
    }
    await mkdir(join(ROOT, 'bench/results'), { recursive: true })
    await writeFile(join(ROOT, 'bench/results/curate.json'), `${JSON.stringify(results, null, 2)}\n`)
    const mb = (b: number) => `${(b / 1e6).toFixed(1)} MB`
    console.log(`| figure | measured | goal |`)
    console.log(`|---|---|---|`)
    console.log(
      `| curate, ${ACTIVITIES} activities / ${YEARS} years, every dataset | ${results.curate.seconds.toFixed(1)} s, ${results.curate.files} files, ${results.curate.rows.toLocaleString('en-US')} rows | |`,
    )
    console.log(
      `| peak RSS of curate | ${results.curate.peakRssMb} MB | <= ${GOALS.peakRssMb} MB${results.curate.peakRssMb <= GOALS.peakRssMb ? '' : ' **miss**'} |`,
    )
    console.log(
      `| bytes: raw JSON -> Parquet | ${mb(raw.bytes)} (${raw.files} objects) -> ${mb(report.bytesWritten)} | |`,
    )
    console.log(`| second run | ${second.written.length} files, ${results.curate.secondRunPuts} PUTs | 0 |`)
    for (const q of queries)
      console.log(
        `| DuckDB "${q.name}": raw JSON / Parquet | ${(q.rawMs / 1000).toFixed(2)} s / ${(q.parquetMs / 1000).toFixed(2)} s = ${q.speedup.toFixed(1)}x (same answer: ${q.sameAnswer}) | |`,
      )
    for (const a of athena)
      console.log(
        `| Athena "${a.name}": bytes scanned (cost at $5/TB, 10 MB minimum) | ${(a.bytesScanned / 1024).toFixed(0)} KB ($${a.usd.toFixed(6)}) | |`,
      )
    console.log(
      `| Lambda bundle with curate: minified / zipped | ${results.lambda.bundleKb} KB / ${results.lambda.zipKb} KB | <= ${GOALS.zipKb} KB zipped |`,
    )
  } finally {
    await sim.close()
    if (!flags.keep) await rm(dir, { recursive: true, force: true })
    else console.error(`kept ${dir}`)
  }
}

await main()
