/**
 * One run, one record (ARCHITECTURE.md "A sync run"): with `--data`, the report the caller gets, the
 * run manifest and the state's `lastRun` describe the same run: exit code, partial, duration and the
 * per-dataset counts. They used to be written before the datasets ran, so a run whose every daily call
 * failed was recorded as exit 0 with no datasets while the command exited 5.
 */
import { afterEach, describe, expect, it } from 'vitest'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { readSyncState } from '../../src/sync/state.js'
import type { SyncReport } from '../../src/sync/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Simulator } from '../sim/server.js'
import { NOW, PREFIX, recentAccount, signedInClient, syncer } from './helpers.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function recordOf(store: MemoryStore, report: SyncReport) {
  const manifest = JSON.parse(
    new TextDecoder().decode((await store.get(report.manifestKey))!.body),
  ) as Record<string, unknown>
  const lastRun = (await readSyncState(store, PREFIX))?.lastRun
  return { manifest, lastRun }
}

function expectOneRecord(report: SyncReport, record: Awaited<ReturnType<typeof recordOf>>) {
  const { manifest, lastRun } = record
  expect([manifest.exitCode, manifest.partial, manifest.durationMs]).toEqual([
    report.exitCode,
    report.partial,
    report.durationMs,
  ])
  expect(manifest.datasets).toEqual(report.datasets)
  expect([lastRun?.exitCode, lastRun?.partial, lastRun?.durationMs, lastRun?.runId]).toEqual([
    report.exitCode,
    report.partial,
    report.durationMs,
    report.runId,
  ])
  expect(lastRun?.datasets?.sleep).toEqual({
    created: report.datasets?.sleep?.created,
    failed: report.datasets?.sleep?.failed,
  })
}

describe('sync --data sleep: the report, the manifest and lastRun agree', () => {
  it('when every daily call fails: exit 5 everywhere, with the failed days counted', async () => {
    sim = await recentAccount(6)
    sim.addFault({ route: 'sleep', fault: { kind: 'status', status: 500 } })
    const clock = new FakeClock(NOW)
    const store = new MemoryStore()
    const { sync } = syncer(await signedInClient(sim, clock), store, clock)
    const report = await sync({ datasets: ['sleep'] })
    expect(report.exitCode).toBe(5)
    expect(report.datasets?.sleep?.failed).toBeGreaterThan(0)
    expectOneRecord(report, await recordOf(store, report))
  })

  it('when the run is stopped in the middle of the dataset: interrupted, exit 5, the same everywhere', async () => {
    sim = await recentAccount(30)
    const clock = new FakeClock(NOW)
    const store = new MemoryStore()
    const stop = new AbortController()
    const garmin = await signedInClient(sim, clock)
    const { sync } = syncer(garmin, store, clock)
    const report = await sync({ datasets: ['sleep'] })
    expect(report.exitCode).toBe(0)
    // A second run over a longer history, stopped once the dataset has made progress.
    const stopped = await runSyncWithDatasets(
      { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', datasets: ['sleep'], since: '2026-01-01' },
      {
        garmin,
        store,
        clock,
        signal: stop.signal,
        newRunId: () => 'stopped',
        log: (event) => {
          if (event.type === 'dataset-progress' && event.done >= 3) stop.abort()
        },
      },
    )
    expect([stopped.exitCode, stopped.stopReason]).toEqual([5, 'interrupted'])
    expectOneRecord(stopped, await recordOf(store, stopped))
  })
})
