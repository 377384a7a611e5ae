/** A folder synced from the simulator with every dataset, and the curate run over it. */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'vitest'
import { type CurateOptions, type CurateReport, runCurate } from '../../src/curate/run.js'
import { DirStore } from '../../src/store/dir.js'
import type { Store } from '../../src/store/types.js'
import { addDays } from '../../src/sync/time.js'
import { NOW, PREFIX, signedInClient, syncer, TODAY } from '../datasets/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type Simulator, startSimulator } from '../sim/server.js'

export const CURATED = 'processed-data/garmin/'

/** A simulator account over two calendar years, synced with every dataset into a new folder. */
export async function syncedFolder(
  days = 400,
  activities = 160,
): Promise<{
  sim: Simulator
  root: string
  store: DirStore
  clock: FakeClock
  sync: ReturnType<typeof syncer>['sync']
}> {
  const sim = await startSimulator({ activities, years: 2, seed: 18, now: () => NOW })
  const root = await mkdtemp(join(tmpdir(), 'garmin-s3-curate-'))
  const clock = new FakeClock(NOW)
  const store = new DirStore(root, { durable: false })
  const syncAll = syncer(await signedInClient(sim, clock), store, clock).sync
  // Every later sync covers the same stretch of history (the account holds more).
  const sync: typeof syncAll = (extra = {}) => syncAll({ since: addDays(TODAY, -(days - 1)), ...extra })
  const report = await sync({ datasets: ['all'] })
  expect(report.exitCode).toBe(0)
  return { sim, root, store, clock, sync }
}

export function curate(store: Store, options: Partial<CurateOptions> = {}): Promise<CurateReport> {
  return runCurate(
    { rawPrefix: PREFIX, curatedPrefix: CURATED, ...options },
    { store, clock: new FakeClock(NOW) },
  )
}

/** The DuckDB CLI's answer to `sql`, run in `cwd`, as JSON rows. */
export function duckdb(sql: string, cwd: string): Record<string, unknown>[] {
  const result = spawnSync('duckdb', ['-json', '-c', sql], { cwd, encoding: 'utf8' })
  expect(result.status, result.stderr).toBe(0)
  return JSON.parse(result.stdout.trim() || '[]')
}

export const CURATED_DOC = join(import.meta.dirname, '../../docs/curated-tables.md')

/**
 * The recipes of docs/curated-tables.md by name: its ```sql blocks whose first line is
 * `-- test: <name>`, or its ```python blocks whose first line is `# test: <name>` (the rest of the block).
 */
export function docRecipes(lang: 'sql' | 'python'): Map<string, string> {
  const comment = lang === 'sql' ? '--' : '#'
  const marker = new RegExp(`\`\`\`${lang}\n${comment} test: (\\S+)\n([\\s\\S]*?)\`\`\``, 'g')
  const out = new Map<string, string>()
  for (const m of readFileSync(CURATED_DOC, 'utf8').matchAll(marker)) out.set(m[1]!, m[2]!)
  return out
}

/**
 * Fails (never skips) where python3 cannot import pandas, pyarrow and polars: the doc's python
 * recipes run in the suite, and `bash .ci/run` installs the versions CI pins.
 */
export function requireDataFrameLibraries(): void {
  const check = spawnSync('python3', ['-c', 'import pandas, pyarrow, polars'], { encoding: 'utf8' })
  if (check.status === 0) return
  const why = check.error?.message ?? check.stderr.trim().split('\n').at(-1)
  throw new Error(
    `python3 cannot import pandas, pyarrow and polars (${why}): python3 -m pip install pandas pyarrow polars (bash .ci/run installs the pinned versions)`,
  )
}

/** A python recipe run with python3 in `cwd`: the CSV it prints, as rows (an empty field is null). */
export function pythonCsv(code: string, cwd: string): Record<string, string | number | null>[] {
  const result = spawnSync('python3', ['-c', code], { cwd, encoding: 'utf8' })
  expect(result.status, result.stderr).toBe(0)
  expect(result.stderr, 'a recipe prints no warning').toBe('')
  const [header, ...lines] = result.stdout.trim().split('\n')
  const names = header!.split(',')
  return lines.map((line) => {
    const values = line.split(',')
    expect(values.length, line).toBe(names.length)
    return Object.fromEntries(
      names.map((name, i) => {
        const value = values[i]!
        return [name, value === '' ? null : Number.isNaN(Number(value)) ? value : Number(value)]
      }),
    )
  })
}
