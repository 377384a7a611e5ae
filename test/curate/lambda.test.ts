/**
 * The curated layer in the Lambda: `deploy --curate` sets CURATED_PREFIX and grants the curated
 * prefixes; the handler then curates after the sync, only the tables of the datasets it copies (the
 * only prefixes it may list), reports it in its one log line, and a run with nothing new rewrites none.
 */
import { rm } from 'node:fs/promises'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { resourceNames } from '../../src/deploy/options.js'
import { extraPrefixes, functionEnvironment } from '../../src/deploy/resources.js'
import type { ActivitySource, TokenStore } from '../../src/garmin/types.js'
import { loadConfig } from '../../src/lambda/environment.js'
import { createHandler } from '../../src/lambda/handler.js'
import type { SyncReport } from '../../src/sync/types.js'
import { NOW, PREFIX } from '../datasets/helpers.js'
import { deployOptions, fixtureTokens, MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import type { Simulator } from '../sim/server.js'
import { CURATED, syncedFolder } from './helpers.js'

let sim: Simulator
let folder: Awaited<ReturnType<typeof syncedFolder>>

beforeAll(async () => {
  folder = await syncedFolder(60, 40)
  sim = folder.sim
}, 120_000)

afterAll(async () => {
  await sim.close()
  await rm(folder.root, { recursive: true, force: true })
})

it('deploy --curate: CURATED_PREFIX on the function, the curated prefixes in its policy', () => {
  const options = deployOptions({ datasets: ['activities', 'sleep'], curatedPrefix: CURATED })
  const env = functionEnvironment(
    { options, tokens: fixtureTokens(), zip: new Uint8Array(), codeSha256: 'x' },
    resourceNames('garmin-s3'),
  )
  expect(env.CURATED_PREFIX).toBe(CURATED)
  expect(loadConfig(env).curatedPrefix).toBe(CURATED)
  expect(extraPrefixes(options)).toEqual(['raw-data/garmin-sleep/', CURATED, 'processed-data/_garmin-s3/'])
  expect(extraPrefixes(deployOptions({ datasets: ['activities', 'sleep'] }))).toEqual([
    'raw-data/garmin-sleep/',
  ])
  expect(() => loadConfig({ ...env, CURATED_PREFIX: '../x' })).toThrow(/CURATED_PREFIX/)
})

it('the handler curates after the sync, the tables of its datasets only, and says so in its log line', async () => {
  const lines: Record<string, unknown>[] = []
  const tokens = new MemoryTokenStore(fixtureTokens())
  const sync = async (): Promise<SyncReport> => ({
    runId: 'run-1',
    startedAt: '2026-11-28T12:00:00.000Z',
    finishedAt: '2026-11-28T12:00:01.000Z',
    durationMs: 1000,
    location: folder.store.location,
    prefix: PREFIX,
    created: 0,
    existing: 40,
    skipped: 0,
    failed: 0,
    invalid: 0,
    quarantined: [],
    partial: false,
    dryRun: false,
    requests: { garmin: {}, store: {} },
    errors: [],
    exitCode: 0,
    stopReason: 'caught-up',
    manifestKey: 'raw-data/_garmin-s3/runs/x.json',
  })
  const handler = createHandler({
    env: {
      BUCKET: 'my-lake',
      PREFIX,
      TOKEN_PARAMETER: '/garmin-s3/tokens',
      DATASETS: 'activities,splits,sleep',
      CURATED_PREFIX: CURATED,
    },
    clock: new FakeClock(NOW),
    writeLine: (line) => lines.push(JSON.parse(line)),
    tokenStore: () => tokens,
    store: () => folder.store,
    garmin: (store: TokenStore) => {
      void store.load()
      return { listActivities: async () => [], stats: () => ({ requests: {} }) } satisfies ActivitySource
    },
    runSync: sync,
  })
  const context = { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 300_000 }
  const first = await handler({}, context)
  expect(first.exitCode).toBe(0)
  expect(new Set(first.curate!.written.map((f) => f.table))).toEqual(new Set(['activities', 'laps', 'sleep']))
  expect(lines.at(-1)).toMatchObject({
    level: 'info',
    curate: { written: first.curate!.written.length, stopReason: 'done' },
  })

  const second = await handler({}, context)
  expect(second.curate).toMatchObject({ written: [], remaining: 0 })
  expect(lines.at(-1)).toMatchObject({ curate: { written: 0 } })
})
