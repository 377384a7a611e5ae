/**
 * garmin-s3 as a library: the package's main entry (src/index.ts) is enough to sign in, sync into a
 * folder and read the state back, the way a script that embeds garmin-s3 would.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  DEFAULT_PREFIX,
  EXIT,
  FileTokenStore,
  GarminClient,
  openStore,
  resolveEndpoints,
  runSyncWithDatasets,
} from '../../src/index.js'
import { type Simulator, startSimulator } from '../sim/server.js'

/** What a script passes: where the activities go, and who is running (recorded in the run manifest). */
const OPTIONS = { prefix: DEFAULT_PREFIX, runner: 'cli', toolVersion: 'library-test' } as const
let sim: Simulator
let dir: string
beforeAll(async () => {
  sim = await startSimulator({ activities: 7 })
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-library-'))
})
afterAll(async () => {
  await sim.close()
  await rm(dir, { recursive: true, force: true })
})

describe('the library entry', () => {
  it('signs in, syncs into a folder and is idempotent, with nothing but its own exports', async () => {
    const garmin = new GarminClient({
      tokenStore: new FileTokenStore(join(dir, 'config', 'tokens.json')),
      endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    })
    await garmin.login({ email: sim.user.email, password: sim.user.password })
    const store = await openStore({ out: join(dir, 'lake') })
    const first = await runSyncWithDatasets(OPTIONS, { garmin, store })
    expect([first.exitCode, first.created]).toEqual([EXIT.ok, 7])
    expect(
      (await readdir(join(dir, 'lake', DEFAULT_PREFIX))).filter((f) => f.startsWith('activity_')),
    ).toHaveLength(7)
    const again = await runSyncWithDatasets(OPTIONS, { garmin, store })
    expect([again.created, again.existing]).toEqual([0, 7])
  })
})
