/** A simulator account, a signed-in client on a fake clock, and readers for what a sync stored. */
import { writeFileSync } from 'node:fs'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inflateRawSync } from 'node:zlib'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import type { Store } from '../../src/store/types.js'
import { DATASETS, type DatasetSpec, datasetPrefix } from '../../src/sync/datasets.js'
import { runSyncWithDatasets } from '../../src/sync/extras.js'
import { addDays } from '../../src/sync/time.js'
import type { SyncEvent, SyncOptions, SyncReport } from '../../src/sync/types.js'
import { MemoryTokenStore } from '../garmin/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'

export const PREFIX = 'raw-data/garmin-json/'
export const NOW = Date.UTC(2026, 10, 28, 12, 0, 0)
export const TODAY = '2026-11-28'
export const DAILY = DATASETS.filter((d) => d.kind === 'daily')
export const PER_ACTIVITY = DATASETS.filter((d) => d.kind === 'per-activity')

/** A simulator whose account holds only the activities of the last `days` days. */
export async function recentAccount(days: number, options: SimOptions = {}): Promise<Simulator> {
  const full = await startSimulator({ activities: 2 * days, years: 1, seed: 7, now: () => NOW })
  const cutoff = `${addDays(TODAY, -(days - 1))} 00:00:00`
  const recent = full.listAll().filter((e) => e.startTimeGMT >= cutoff)
  await full.close()
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-datasets-'))
  const file = join(dir, 'activities.json')
  writeFileSync(file, JSON.stringify(recent))
  return startSimulator({ activitiesFile: file, seed: 7, now: () => NOW, ...options })
}

/** Bodies of the 200 answers a client received, by path and query (what the simulator served). */
export type Served = Map<string, Buffer>

export async function signedInClient(
  sim: Simulator,
  clock = new FakeClock(NOW),
  served?: Served,
): Promise<GarminClient> {
  const transport: typeof fetch = async (input, init) => {
    const response = await fetch(input, init)
    if (served && response.status === 200) {
      const url = new URL(String(input))
      served.set(`${url.pathname}${url.search}`, Buffer.from(await response.clone().arrayBuffer()))
    }
    return response
  }
  const client = new GarminClient({
    tokenStore: new MemoryTokenStore(),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    clock,
    random: () => 0.5,
    transport,
  })
  await client.login({ email: sim.user.email, password: sim.user.password })
  return client
}

export function syncer(garmin: GarminClient, store: Store, clock: FakeClock) {
  const events: SyncEvent[] = []
  let runs = 0
  return {
    events,
    sync: (extra: Partial<SyncOptions> = {}): Promise<SyncReport> =>
      runSyncWithDatasets(
        { prefix: PREFIX, runner: 'cli', toolVersion: '0.0.0-test', datasets: ['all'], ...extra },
        { garmin, store, clock, log: (e) => events.push(e), newRunId: () => `run${++runs}` },
      ),
  }
}

export function prefixOf(spec: DatasetSpec): string {
  return datasetPrefix(PREFIX, spec.name)
}

/** The one file of a ZIP written by the simulator (deflate, one entry). */
export function unzipOne(zip: Uint8Array): { name: string; data: Buffer } {
  const buf = Buffer.from(zip)
  if (buf.readUInt32LE(0) !== 0x04034b50) throw new Error('not a ZIP')
  const size = buf.readUInt32LE(18)
  const nameLength = buf.readUInt16LE(26)
  const extra = buf.readUInt16LE(28)
  const name = buf.subarray(30, 30 + nameLength).toString('utf8')
  const start = 30 + nameLength + extra
  return { name, data: inflateRawSync(buf.subarray(start, start + size)) }
}

/** Sum of Garmin data calls (every route but sign-in and tokens) in simulator stats. */
export function dataCalls(stats: ReturnType<Simulator['stats']>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [route, byStatus] of Object.entries(stats.byRoute)) {
    if (route === 'login' || route === 'token' || route === 'mfa' || route === 'socialProfile') continue
    out[route] = Object.values(byStatus ?? {}).reduce((a, b) => a + b, 0)
  }
  return out
}

export function sum(record: Record<string, number>): number {
  return Object.values(record).reduce((a, b) => a + b, 0)
}
