/**
 * What `sync` shows while the datasets are fetched: a live line on a terminal, periodic plain lines
 * elsewhere. A real run against the simulator feeds SyncProgress, whose output stream, spinner and
 * time are injected.
 */
import { PassThrough } from 'node:stream'
import type { Ora } from 'ora'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { SyncProgress } from '../../src/cli/progress.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { addDays } from '../../src/sync/time.js'
import { NOW, PREFIX, recentAccount, signedInClient, TODAY } from '../datasets/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Simulator } from '../sim/server.js'

let sim: Simulator
beforeAll(async () => {
  sim = await recentAccount(30)
})
afterAll(async () => {
  await sim.close()
})

/** A terminal's spinner, recording every text it was given while it spun. */
function recordingSpinner() {
  const texts: string[] = []
  const factory = (options: { text?: string }) => {
    let text = options.text ?? ''
    let spinning = false
    const spinner = {
      get text() {
        return text
      },
      set text(value: string) {
        text = value
        if (spinning) texts.push(value)
      },
      get isSpinning() {
        return spinning
      },
      start() {
        spinning = true
        texts.push(text)
        return spinner
      },
      stop() {
        spinning = false
        return spinner
      },
      clear: () => spinner,
      render: () => spinner,
    }
    return spinner as unknown as Ora
  }
  return { texts, factory }
}

async function syncWith(progress: SyncProgress) {
  const clock = new FakeClock(NOW)
  const garmin = await signedInClient(sim, clock)
  return runSyncWithDatasets(
    {
      prefix: PREFIX,
      runner: 'cli',
      toolVersion: '0.0.0-test',
      datasets: ['activities', 'fit', 'sleep', 'hrv'],
      since: addDays(TODAY, -29),
    },
    { garmin, store: new MemoryStore(), clock, log: progress.onEvent },
  )
}

function output(stream: PassThrough): () => string[] {
  const chunks: string[] = []
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString()))
  return () => chunks.join('').split('\n').filter(Boolean)
}

it('on a terminal, a live line counts the dataset items fetched, with every dataset still running', async () => {
  const stream = new PassThrough()
  const lines = output(stream)
  const spinner = recordingSpinner()
  let t = 0
  const progress = await SyncProgress.open({
    stream,
    interactive: true,
    now: () => (t += 100),
    spinner: spinner.factory,
  })
  const report = await syncWith(progress)
  progress.stop()
  expect(report.exitCode).toBe(0)
  const live = spinner.texts.filter((text) => text.startsWith('Fetching datasets'))
  const total = 30 + 30 + (report.datasets?.fit?.created ?? 0)
  // One update per item fetched, the last one complete; the datasets still running are named.
  expect(live.length).toBeGreaterThanOrEqual(total)
  expect(live.at(-1)).toContain(`${total}/${total}`)
  expect(live.some((text) => /sleep \d+\/30/.test(text) && /hrv \d+\/30/.test(text))).toBe(true)
  expect(live.some((text) => /\d+(\.\d)?\/s · ETA/.test(text))).toBe(true)
  // Each dataset's result is printed once, when it is done.
  expect(lines().filter((l) => /sleep: \d+ new/.test(l))).toHaveLength(1)
})

it('elsewhere, a plain line every 15 seconds while the datasets are fetched, and one per dataset done', async () => {
  const stream = new PassThrough()
  const lines = output(stream)
  let t = 0
  // Each call is 1 s later: 60+ items fetched take a minute of this clock.
  const progress = await SyncProgress.open({ stream, interactive: false, now: () => (t += 1000) })
  const report = await syncWith(progress)
  progress.stop()
  expect(report.exitCode).toBe(0)
  const periodic = lines().filter((l) => l.startsWith('datasets: '))
  expect(periodic.length).toBeGreaterThanOrEqual(3)
  expect(periodic.length).toBeLessThan(20)
  expect(periodic[0]).toMatch(/^datasets: \d+\/\d+ items fetched \(.*(fit|sleep|hrv) \d+\/\d+/)
  for (const name of ['fit', 'sleep', 'hrv'])
    expect(lines().filter((l) => l.startsWith(`${name}: `) && l.includes(' new'))).toHaveLength(1)
})
