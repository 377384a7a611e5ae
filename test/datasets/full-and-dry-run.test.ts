/**
 * `sync --full` repairs missing dataset objects (FIT files, days), and `sync --dry-run` counts what a
 * real run then writes, against the simulator and a local folder.
 */
import { readdir, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { DirStore } from '../../src/store/dir.js'
import type { DailyDataset, PerActivityDataset } from '../../src/sync/datasets.js'
import { datasetSpec } from '../../src/sync/datasets.js'
import { addDays } from '../../src/sync/time.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { Simulator } from '../sim/server.js'
import { NOW, prefixOf, recentAccount, signedInClient, syncer, TODAY } from './helpers.js'

const temp = join(process.cwd(), 'node_modules', '.cache', 'garmin-s3-full-dry')
const FIT = datasetSpec('fit') as PerActivityDataset
const SUMMARY = datasetSpec('daily-summary') as DailyDataset
const DATA = ['activities', 'fit', 'daily-summary']
let sim: Simulator
let folders = 0

beforeAll(async () => {
  sim = await recentAccount(40)
})

afterAll(async () => {
  await sim.close()
  await rm(temp, { recursive: true, force: true })
})

async function target() {
  const path = join(temp, `t${process.pid}-${++folders}`)
  const clock = new FakeClock(NOW)
  const garmin = await signedInClient(sim, clock)
  const store = new DirStore(path, { durable: false })
  return { path, store, clock, ...syncer(garmin, store, clock) }
}

/** Every file under `dir` with its modification time. */
async function files(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>()
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue
    const full = join(entry.parentPath, entry.name)
    out.set(full.slice(dir.length + 1), (await stat(full)).mtimeMs)
  }
  return out
}

it('sync --full brings back a deleted FIT file and a deleted day, writing only those', async () => {
  const t = await target()
  const first = await t.sync({ datasets: DATA })
  expect(first.exitCode).toBe(0)
  const fitFiles = (await readdir(join(t.path, prefixOf(FIT)))).sort()
  expect(fitFiles.length).toBeGreaterThan(2)
  const lostFit = join(t.path, prefixOf(FIT), fitFiles[1]!)
  // A day well outside the revision window (the newest files are fetched again by every run anyway).
  const dayFiles = (await readdir(join(t.path, prefixOf(SUMMARY)))).sort()
  expect(dayFiles.length).toBeGreaterThan(10)
  const lostDay = join(t.path, prefixOf(SUMMARY), dayFiles[2]!)
  expect(dayFiles[2]! < `${SUMMARY.name}_${addDays(TODAY, -10)}.json`).toBe(true)
  await rm(lostFit)
  await rm(lostDay)
  const before = await files(t.path)

  const plain = await t.sync({ datasets: DATA })
  expect(plain.exitCode).toBe(0)
  // A normal run trusts its cursors (one request per new object): the day is outside the revision window.
  await expect(stat(lostDay)).rejects.toThrow()

  const repaired = await t.sync({ datasets: DATA, full: true })
  expect(repaired.exitCode).toBe(0)
  await stat(lostFit)
  await stat(lostDay)
  expect(repaired.datasets?.fit?.created).toBe(1)
  expect(repaired.datasets?.['daily-summary']?.created).toBe(1)
  const after = await files(t.path)
  const data = (name: string) => !name.includes('_garmin-s3')
  for (const [name, mtime] of before) if (data(name)) expect(after.get(name), name).toBe(mtime)

  // And nothing is missing any more: a second --full writes nothing new.
  const again = await t.sync({ datasets: DATA, full: true })
  expect(again.datasets?.fit?.created).toBe(0)
  expect(again.datasets?.['daily-summary']?.created).toBe(0)
})
it('sync --dry-run --data all on an empty folder counts what the real run then writes', async () => {
  const t = await target()
  const dry = await t.sync({ datasets: ['all'], dryRun: true })
  await expect(stat(t.path)).rejects.toThrow()
  const real = await t.sync({ datasets: ['all'] })
  expect(real.exitCode).toBe(0)
  expect(real.created).toBeGreaterThan(0)
  expect(dry.created).toBe(real.created)
  const counts = (r: typeof real) =>
    Object.fromEntries(Object.entries(r.datasets ?? {}).map(([n, c]) => [n, c.created + c.updated]))
  expect(counts(dry)).toEqual(counts(real))
  expect(counts(real).fit).toBeGreaterThan(0)
  expect(counts(real).sleep).toBeGreaterThan(0)
  // The real run's objects are what the dry run's counts promised.
  expect((await readdir(join(t.path, prefixOf(FIT)))).length).toBe(counts(dry).fit)
})
