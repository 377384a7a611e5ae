/**
 * A run whose dataset items failed (exit 5) is not "Health: OK": status warns with the datasets and
 * their counts, as for failed activities. A real sync (simulator over HTTP, in-memory store that fails
 * some writes) produces the state; status judges it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { gatherStatus } from '../../src/status/index.js'
import { renderStatus } from '../../src/status/render.js'
import { addDays } from '../../src/sync/time.js'
import { NOW, recentAccount, signedInClient, syncer, TODAY } from '../datasets/helpers.js'
import { MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Simulator } from '../sim/server.js'
import { PREFIX, SKIP_AWS, tokensRotatedAt } from './helpers.js'

let sim: Simulator
beforeAll(async () => {
  sim = await recentAccount(10)
})
afterAll(async () => {
  await sim.close()
})

/** An in-memory lake synced from the simulator, and its status. */
async function lake() {
  const clock = new FakeClock(NOW)
  const store = new MemoryStore()
  const { sync } = syncer(await signedInClient(sim, clock), store, clock)
  const status = () =>
    gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store, clock, tokenStore: new MemoryTokenStore(tokensRotatedAt(NOW)), aws: SKIP_AWS },
    )
  return { clock, store, sync, status }
}

it('WARN after a run whose dataset items failed, naming the dataset and the count; OK once retried', async () => {
  const { clock, store, sync, status } = await lake()
  store.failWhen({ op: 'putIfAbsent', key: /sleep_/, times: 3, error: () => new Error('socket hang up') })
  const failed = await sync({ datasets: ['activities', 'sleep'], since: addDays(TODAY, -9) })
  expect(failed.exitCode).toBe(5)
  expect(failed.failed).toBe(0)
  expect(failed.datasets?.sleep?.failed).toBe(3)

  clock.advance(60_000)
  const report = await status()
  expect(report.health.verdict).toBe('WARN')
  const cause = report.health.causes.find((c) => c.code === 'last-run-failures')
  expect(cause?.message).toMatch(/sleep: 3 failed/)
  expect(cause?.next).toMatch(/--data/)
  expect(cause?.next).toContain(failed.manifestKey)
  expect(report.lastRun?.datasetsFailed).toEqual({ sleep: 3 })
  expect(renderStatus(report, { color: false, now: clock.now() }).join('\n')).toMatch(
    /3 dataset items failed/,
  )

  // The next run retries the failed days and the warning goes away.
  const retried = await sync({ datasets: ['activities', 'sleep'], since: addDays(TODAY, -9) })
  expect(retried.exitCode).toBe(0)
  expect((await status()).health.verdict).toBe('OK')
})

it('WARN after a run in which a whole dataset failed (its listing failed once), naming it and what failed', async () => {
  const { clock, store, sync, status } = await lake()
  // The first run of a per-activity dataset lists its prefix to adopt what is stored: that listing fails.
  store.failWhen({
    op: 'list',
    key: /garmin-splits\//,
    times: 1,
    error: () => new Error('socket hang up'),
  })
  const failed = await sync({ datasets: ['activities', 'splits'], since: addDays(TODAY, -9) })
  expect(failed.exitCode).toBe(5)
  expect(failed.failed).toBe(0)
  expect(failed.datasets?.splits?.failed).toBe(0)

  clock.advance(60_000)
  const report = await status()
  expect(report.health.verdict).toBe('WARN')
  const cause = report.health.causes.find((c) => c.code === 'last-run-failures')
  expect(cause?.message).toMatch(/splits: failed as a whole \(socket hang up\)/)
  expect(cause?.next).toMatch(/--data \(splits included\)|splits included/)
  expect(cause?.next).toContain(failed.manifestKey)
  expect(report.lastRun?.datasetsErrored).toEqual({ splits: 'socket hang up' })
  expect(renderStatus(report, { color: false, now: clock.now() }).join('\n')).toMatch(/dataset splits failed/)
  // The manifest says it too.
  const manifest = JSON.parse(store.text(failed.manifestKey) ?? '{}')
  expect(manifest.datasets.splits.error).toBe('socket hang up')

  const retried = await sync({ datasets: ['activities', 'splits'], since: addDays(TODAY, -9) })
  expect(retried.exitCode).toBe(0)
  expect(retried.datasets?.splits?.created).toBeGreaterThan(0)
  expect((await status()).health.verdict).toBe('OK')
})
