/**
 * Issue 19, "Kills": SIGKILLs of the built CLI (`npm run build` first) into one folder, one after
 * another with no clean run between them, then one clean run: nothing temporary is left anywhere
 * under `--out` (the folder store's `_garmin-s3/tmp` is empty, no dot file, no `*.tmp`), every file
 * is whole JSON and an object the store lists, and the folder holds exactly the account.
 * Each kill lands at a seeded moment of observed progress: the N-th Garmin call the simulator
 * answered, or the N-th activity file to appear. GARMIN_S3_RELIABILITY_LONG=1 kills 30 times; CI 10.
 */
import { lstat, readdir, readFile } from 'node:fs/promises'
import { join, relative, sep } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DirStore } from '../../src/store/index.js'
import { DIR_WORK_FOLDER } from '../../src/store/keys.js'
import { assertBuilt, cliEnv, runCli, signIn, tempDir } from '../e2e/sync-helpers.js'
import { mulberry32 } from '../sim/prng.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'
import { auditStore, expectComplete, expectConsistent, PREFIX } from './invariants.js'
import { type KillSwitch, killSwitch } from './kill.js'

const KILLS = LONG ? 30 : 10
/** Never fewer activities left to store than this before a run, so a kill always finds work to cut. */
const BACKLOG = 60

let home: { path: string; remove: () => Promise<void> }
let sim: Simulator | undefined
beforeAll(async () => {
  assertBuilt()
  home = await tempDir('kills-folder')
})
afterAll(async () => {
  await sim?.close()
  await home?.remove()
})

interface Entry {
  /** Relative to --out, with `/`. */
  path: string
  kind: 'file' | 'folder' | 'other'
}

/** Everything under `root`, folders included, without following anything. */
async function tree(root: string): Promise<Entry[]> {
  const out: Entry[] = []
  const walk = async (dir: string) => {
    for (const name of await readdir(dir)) {
      const full = join(dir, name)
      const stat = await lstat(full)
      const path = relative(root, full).split(sep).join('/')
      const kind = stat.isFile() ? 'file' : stat.isDirectory() ? 'folder' : 'other'
      out.push({ path, kind })
      if (kind === 'folder') await walk(full)
    }
  }
  await walk(root)
  return out.sort((a, b) => (a.path < b.path ? -1 : 1))
}

/** Anything a writer leaves behind: the store's working folder's contents, dot files, `*.tmp`. */
function temporary(entries: Entry[]): string[] {
  return entries
    .filter(({ path }) => {
      const name = path.slice(path.lastIndexOf('/') + 1)
      return path.startsWith(`${DIR_WORK_FOLDER}/`) || name.startsWith('.') || /\.te?mp$/i.test(name)
    })
    .map((e) => e.path)
}

async function activityFiles(dir: string): Promise<number> {
  return (await readdir(dir).catch(() => [] as string[])).filter((n) => n.startsWith('activity_')).length
}

describe('SIGKILLs into one folder, then one clean run', () => {
  it(`${KILLS} kills at seeded moments leave no temporary file under --out once a run completes`, {
    timeout: LONG ? 600_000 : 300_000,
  }, async () => {
    let onGarminCall: (() => void) | undefined
    sim = await startSimulator({
      activities: BACKLOG,
      seed: 1930,
      years: 2,
      latencyMs: 4,
      onRequest: () => onGarminCall?.(),
    })
    const tokens = join(home.path, 'tokens.json')
    await signIn(sim, tokens)
    const env = cliEnv(sim, tokens, home.path)
    const out = join(home.path, 'out')
    const data = join(out, ...PREFIX.split('/').filter(Boolean))
    const store = new DirStore(out, { durable: false })
    const random = mulberry32(19_030)

    let kills = 0
    let afterWrites = 0
    const leftBehind = new Set<string>()
    for (let attempt = 0; kills < KILLS; attempt++) {
      expect(attempt, 'runs that finished before their kill').toBeLessThan(2 * KILLS)
      const stored = await activityFiles(data)
      if (sim.listAll().length - stored < BACKLOG) sim.addActivities(BACKLOG)
      // A quarter of the kills at a Garmin call (sign-in refresh, the count, a list page: before or
      // between writes), the others at the N-th activity file of this run.
      const atCall = random() < 0.25
      const moment = 1 + Math.floor(random() * (atCall ? 3 : 30))
      const result = await runCli(['sync', '--out', out], {
        env,
        onSpawn: (child) => {
          let kill: KillSwitch
          if (atCall) {
            kill = killSwitch(child, moment)
            onGarminCall = () => kill.event()
          } else {
            kill = killSwitch(child, moment, async () => (await activityFiles(data)) - stored)
          }
          child.on('exit', () => {
            onGarminCall = undefined
          })
        },
      })
      if (result.signal !== 'SIGKILL') {
        expect(result.code, result.stderr).toBe(0)
        continue
      }
      kills++
      if ((await activityFiles(data)) > stored) afterWrites++
      // What a reader sees between kills: nothing partial, the state claiming nothing unstored.
      expectConsistent(await auditStore(store, sim.listAll()), sim.listAll(), `after kill ${kills}`)
      for (const path of temporary(await tree(out))) leftBehind.add(path)
    }

    const clean = await runCli(['sync', '--out', out, '--json'], { env })
    expect(clean.code, clean.stderr).toBe(0)
    expect(JSON.parse(clean.stdout)).toMatchObject({ exitCode: 0, failed: 0, errors: [] })

    const entries = await tree(out)
    expect(temporary(entries), 'temporary files under --out').toEqual([])
    expect(
      entries.filter((e) => e.kind === 'other').map((e) => e.path),
      'links or special files',
    ).toEqual([])
    expect(entries.filter((e) => e.kind === 'folder').map((e) => e.path)).toContain(DIR_WORK_FOLDER)
    // Every file is an object the store lists (nothing else lies around), and whole JSON.
    const files = entries.filter((e) => e.kind === 'file').map((e) => e.path)
    const listed: string[] = []
    for await (const o of store.list('')) listed.push(o.key)
    expect(files).toEqual(listed.sort())
    const unreadable: string[] = []
    for (const file of files) {
      try {
        JSON.parse(await readFile(join(out, file), 'utf8'))
      } catch {
        unreadable.push(file)
      }
    }
    expect(unreadable, 'files that are not whole JSON').toEqual([])
    expectComplete(await auditStore(store, sim.listAll()), sim.listAll(), `after ${kills} kills`)

    recordFigure('folder kills', kills)
    recordFigure('folder kills after writes', afterWrites)
    recordFigure('folder kill leftovers', leftBehind.size)
  })
})
