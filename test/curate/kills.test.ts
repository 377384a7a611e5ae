/**
 * A crash mid-curate: the built CLI (`npm run build` first) is SIGKILLed at seeded moments of observed
 * progress (the N-th Parquet write begun or finished in the folder), after new raw data arrived.
 * Between a kill and the next run, every curated file is either the one before the run or the one a
 * clean run makes (whole: DuckDB reads it); the next run converges, rewriting what the killed run had
 * not, and the next run that writes leaves nothing temporary.
 */
import { createHash } from 'node:crypto'
import { readdir, readFile, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DIR_WORK_FOLDER } from '../../src/store/keys.js'
import { assertBuilt, runCli } from '../e2e/sync-helpers.js'
import { killSwitch } from '../reliability/kill.js'
import { mulberry32 } from '../sim/prng.js'
import type { Simulator } from '../sim/server.js'
import { CURATED, curate, duckdb, syncedFolder } from './helpers.js'

const KILLS = 5

let sim: Simulator
let root: string
let folder: Awaited<ReturnType<typeof syncedFolder>>

beforeAll(async () => {
  assertBuilt()
  folder = await syncedFolder(400, 120)
  ;({ sim, root } = folder)
  expect((await curate(folder.store)).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await sim.close()
  await rm(root, { recursive: true, force: true })
})

/** Every curated file's SHA-256, by path under the folder. */
async function curatedFiles(): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const base = join(root, CURATED)
  for (const path of await readdir(base, { recursive: true, encoding: 'utf8' })) {
    if (!path.endsWith('.parquet')) continue
    out.set(
      path,
      createHash('sha256')
        .update(await readFile(join(base, path)))
        .digest('hex'),
    )
  }
  return out
}

/** Every curated file's modification time, by path (cheap enough to poll while the CLI runs). */
async function mtimes(): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  const base = join(root, CURATED)
  for (const path of await readdir(base, { recursive: true, encoding: 'utf8' }))
    if (path.endsWith('.parquet')) out.set(path, (await stat(join(base, path))).mtimeMs)
  return out
}

async function tempFiles(): Promise<string[]> {
  return readdir(join(root, DIR_WORK_FOLDER)).catch(() => [])
}

it(`${KILLS} SIGKILLs mid-curate leave every file old or new, and the next run converges`, {
  timeout: 300_000,
}, async () => {
  const random = mulberry32(18_018)
  const env = { PATH: process.env.PATH, HOME: root, NO_COLOR: '1' }
  let kills = 0
  for (let attempt = 0; kills < KILLS; attempt++) {
    expect(attempt, 'runs that finished before their kill').toBeLessThan(3 * KILLS)
    // New raw data: an activity (its list entry, details, splits), so this year's files change.
    sim.addActivities(1 + Math.floor(random() * 3))
    expect((await folder.sync({ datasets: ['activities', 'details', 'splits'] })).exitCode).toBe(0)
    const before = await curatedFiles()
    const beforeTimes = await mtimes()
    // The moment: the N-th event of the run, an event being a Parquet write begun (its temp file
    // seen) or finished (a file replaced).
    const moment = 1 + Math.floor(random() * 6)
    const begun = new Set<string>()
    const result = await runCli(['curate', '--out', root], {
      env,
      onSpawn: (child) => {
        killSwitch(child, moment, async () => {
          for (const name of await tempFiles()) begun.add(name)
          const now = await mtimes()
          const replaced = [...now].filter(([path, t]) => beforeTimes.get(path) !== t).length
          return begun.size + replaced
        })
      },
    })
    if (result.signal !== 'SIGKILL') {
      expect(result.code, result.stderr).toBe(0)
      continue
    }
    kills++
    const between = await curatedFiles()
    for (const path of between.keys())
      expect(
        duckdb(`SELECT count(*) AS n FROM read_parquet('${CURATED}${path}')`, root)[0]!.n,
      ).toBeGreaterThan(0)

    const clean = await runCli(['curate', '--out', root, '--json'], { env })
    expect(clean.code, clean.stderr).toBe(0)
    const report = JSON.parse(clean.stdout)
    const after = await curatedFiles()
    for (const [path, hash] of between)
      expect([before.get(path), after.get(path)], `${path} after kill ${kills}`).toContain(hash)
    // Converged: the clean run rewrote exactly the files the killed one had not finished.
    const rewritten = report.written.map((f: { key: string }) => f.key.slice(CURATED.length)).sort()
    const unfinished = [...after]
      .filter(([path, hash]) => between.get(path) !== hash)
      .map(([p]) => p)
      .sort()
    expect(unfinished.every((p: string) => rewritten.includes(p))).toBe(true)
    // And a run after that has nothing to do.
    expect((await curate(folder.store)).written).toEqual([])
  }
  // A killed writer's temp file or lock stays in the folder store's working folder until the next run
  // that writes (the store sweeps before its first write); never anywhere a reader looks.
  sim.addActivities(1)
  expect((await folder.sync({ datasets: ['activities'] })).exitCode).toBe(0)
  const last = await runCli(['curate', '--out', root, '--tables', 'activities'], { env })
  expect(last.code, last.stderr).toBe(0)
  expect(await tempFiles()).toEqual([])
  const stray = (await readdir(join(root, CURATED), { recursive: true, encoding: 'utf8' })).filter(
    (p) => !p.endsWith('.parquet') && !/^[a-z_]+(\/year=\d{4})?$/.test(p),
  )
  expect(stray).toEqual([])
})
