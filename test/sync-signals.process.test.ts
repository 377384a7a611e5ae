/**
 * SIGINT and SIGTERM (what Lambda, CI runners and `kill` send) stop the built CLI's `sync` the same
 * way: the writes in flight finish, the checkpoint is saved, exit 5; the next run resumes (issue 19).
 * Deterministic: the simulator holds the second page of the list until the child has printed that it
 * got the signal, so the signal always lands mid-run, whatever the machine's speed.
 */
import type { ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cliEnv, runCli, signIn } from './e2e/sync-helpers.js'
import { type Simulator, startSimulator } from './sim/server.js'

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..')
/** Pages of 100, 200, 200: the third is held, so the run cannot finish before the signal. */
const ACTIVITIES = 400

let tmp: string

beforeAll(async () => {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'sync.js'))) throw new Error('run `npm run build` first')
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-signals-'))
})
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true })
})

/** Resolves once `pattern` appears in what the child wrote to stderr. */
function waitForLine(child: ChildProcess, pattern: RegExp): Promise<void> {
  return new Promise((done) => {
    let seen = ''
    const onData = (chunk: Buffer) => {
      seen += chunk.toString()
      if (pattern.test(seen)) {
        child.stderr?.off('data', onData)
        done()
      }
    }
    child.stderr?.on('data', onData)
  })
}

describe.each(['SIGTERM', 'SIGINT'] as const)('sync gets %s mid-run', (signal) => {
  let sim: Simulator
  let release: () => void = () => {}
  const held = new Promise<void>((resolve) => {
    release = resolve
  })
  let listed = 0

  beforeAll(async () => {
    sim = await startSimulator({
      activities: ACTIVITIES,
      seed: 19,
      // Latency waits go through `sleep`: the one latency fault added below waits for `held`.
      sleep: () => held,
      onRequest: (event) => {
        // Once the second page is answered, the next list request waits (the client asks only after it).
        if (event.route === 'activityList' && ++listed === 2)
          sim.addFault({ route: 'activityList', fault: { kind: 'latency', ms: 1 }, times: 1 })
      },
    })
  })
  afterAll(async () => {
    release()
    await sim.close()
  })

  it('stops cleanly, keeps the checkpoint and exits 5; the next run copies the rest', async () => {
    const home = join(tmp, signal)
    const tokens = join(home, 'tokens.json')
    const out = join(home, 'out')
    await signIn(sim, tokens)
    const env = cliEnv(sim, tokens, home)
    let child: ChildProcess | undefined
    let sawPage2: Promise<void> = Promise.resolve()
    const run = runCli(['sync', '--out', out], {
      env,
      onSpawn: (c) => {
        child = c
        // Page 2 is logged after page 1 is written and checkpointed: the handlers are installed.
        sawPage2 = waitForLine(c, /page 2: \d+ activities listed/)
      },
    })
    await sawPage2
    const stopping = waitForLine(
      child!,
      new RegExp(`${signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'}: stopping`),
    )
    child!.kill(signal)
    await stopping
    release()
    const exit = await run
    expect(exit.signal, exit.stderr).toBeNull()
    expect(exit.code, exit.stderr).toBe(5)
    expect(exit.stderr).toContain('stopped on request; the next run resumes here')
    expect(exit.stdout).toMatch(/run again/)

    const state = JSON.parse(await readFile(join(out, 'raw-data', '_garmin-s3', 'state.json'), 'utf8'))
    const section = Object.values(state.datasets)[0] as { lastRun: { exitCode: number; stopReason: string } }
    expect(section.lastRun).toMatchObject({ exitCode: 5, stopReason: 'interrupted' })
    expect(await readdir(join(out, 'raw-data', '_garmin-s3', 'runs'))).toHaveLength(1)
    const firstStored = (await readdir(join(out, 'raw-data', 'garmin-json'))).length
    expect(firstStored).toBeGreaterThanOrEqual(100)
    expect(firstStored).toBeLessThanOrEqual(300)

    const again = await runCli(['sync', '--out', out, '--json'], { env })
    expect(again.code, again.stderr).toBe(0)
    expect(JSON.parse(again.stdout)).toMatchObject({ created: ACTIVITIES - firstStored, failed: 0 })
    expect(await readdir(join(out, 'raw-data', 'garmin-json'))).toHaveLength(ACTIVITIES)
  })
})
