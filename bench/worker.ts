/**
 * One measured run in a process of its own, so that its peak RSS is its own (not the harness's, not the
 * simulator's) and its CPU does not share an event loop with the simulator.
 *
 *   node --import tsx bench/worker.ts '<WorkerJob as JSON>'
 *
 * Prints one JSON line (WorkerResult) on stdout. Wall time covers the sync itself, not process start-up.
 */
import { S3Client } from '@aws-sdk/client-s3'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { FileTokenStore } from '../src/garmin/tokens.js'
import { DirStore, S3Store } from '../src/store/index.js'
import { runSyncWithDatasets, type SyncOptions } from '../src/sync/index.js'
import { countsSince } from '../src/sync/run.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../test/helpers/servers.js'
import { countS3Requests, runOriginal } from './original.js'

export interface WorkerJob {
  algorithm: 'ours' | 'original'
  simUrl: string
  tokenPath: string
  target: { kind: 's3'; endpoint: string; bucket: string } | { kind: 'dir'; path: string }
  prefix: string
  daysBack?: number
  /** For the original: its daily run (newest 50) or the same loop over the whole history. */
  mode: 'daily' | 'backfill'
  /** For ours: tuning knobs to diagnose a figure (the bench itself uses the defaults). */
  tuning?: Pick<SyncOptions, 'concurrency' | 'pageSize' | 'maxPageSize'>
  /** For ours: `--data` (default activities only) and `--since`. */
  datasets?: string[]
  since?: string
  /** For ours: `--reconcile` (compare the whole list, docs/changes.md). */
  reconcile?: boolean
}

export interface WorkerResult {
  wallMs: number
  /** CPU time (user + system) of this process during the run: less sensitive to a busy machine than wall time. */
  cpuMs: number
  created: number
  existing: number
  skipped: number
  failed: number
  exitCode: number
  /** Activities replaced by a newer version (a reconcile's false changes, when there are none to find). */
  changed?: number
  /** What this process sent, by kind (the harness also reads the simulator's own count). */
  garmin: Record<string, number>
  store: Record<string, number>
  /** KB: the process's high-water mark after start-up and imports, and at the end. */
  baselineMaxRssKb: number
  maxRssKb: number
  errors: string[]
  /** Per dataset (with `datasets`): requests, created, no-data days... as the SyncReport gives them. */
  datasets?: Record<string, Record<string, number>>
}

const baselineMaxRssKb = process.resourceUsage().maxRSS

async function main(job: WorkerJob): Promise<WorkerResult> {
  const garmin = new GarminClient({
    tokenStore: new FileTokenStore(job.tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: job.simUrl } }),
  })
  // Tokens are read (and refreshed if due) before the clock starts, as a warm Lambda would have them.
  await garmin.tokens()

  if (job.algorithm === 'original') {
    if (job.target.kind !== 's3') throw new Error('the original pipeline only wrote to S3')
    // The same client settings as ours against a custom endpoint, so only the algorithm differs.
    const s3 = new S3Client({
      endpoint: job.target.endpoint,
      region: TEST_REGION,
      forcePathStyle: true,
      credentials: TEST_CREDENTIALS,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    })
    const s3Requests = countS3Requests(s3)
    const garminBefore = garmin.stats().requests
    const began = performance.now()
    const cpu = process.cpuUsage()
    const out = await runOriginal(
      {
        bucket: job.target.bucket,
        prefix: job.prefix,
        mode: job.mode,
        ...(job.daysBack === undefined ? {} : { daysBack: job.daysBack }),
      },
      { garmin, s3 },
    )
    const wallMs = performance.now() - began
    return {
      wallMs,
      cpuMs: cpuMsSince(cpu),
      created: out.created,
      existing: out.existing,
      skipped: out.skipped,
      failed: 0,
      exitCode: 0,
      garmin: countsSince(garmin.stats().requests, garminBefore),
      store: s3Requests(),
      baselineMaxRssKb,
      maxRssKb: process.resourceUsage().maxRSS,
      errors: [],
    }
  }

  const store =
    job.target.kind === 's3'
      ? new S3Store({
          bucket: job.target.bucket,
          endpoint: job.target.endpoint,
          pathStyle: true,
          region: TEST_REGION,
          credentials: TEST_CREDENTIALS,
        })
      : new DirStore(job.target.path)
  const garminBefore = garmin.stats().requests
  const began = performance.now()
  const cpu = process.cpuUsage()
  const report = await runSyncWithDatasets(
    {
      prefix: job.prefix,
      runner: 'cli',
      toolVersion: 'bench',
      ...job.tuning,
      ...(job.daysBack === undefined ? {} : { daysBack: job.daysBack }),
      ...(job.datasets === undefined ? {} : { datasets: job.datasets }),
      ...(job.since === undefined ? {} : { since: job.since }),
      ...(job.reconcile ? { reconcile: true } : {}),
    },
    { garmin, store },
  )
  const wallMs = performance.now() - began
  return {
    wallMs,
    cpuMs: cpuMsSince(cpu),
    created: report.created,
    existing: report.existing,
    skipped: report.skipped,
    failed: report.failed,
    exitCode: report.exitCode,
    ...(report.changed === undefined ? {} : { changed: report.changed }),
    garmin: countsSince(garmin.stats().requests, garminBefore),
    store: report.requests.store,
    baselineMaxRssKb,
    maxRssKb: process.resourceUsage().maxRSS,
    errors: report.errors.map((e) => e.message),
    ...(report.datasets === undefined
      ? {}
      : { datasets: report.datasets as unknown as Record<string, Record<string, number>> }),
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(start)
  return (used.user + used.system) / 1000
}

const arg = process.argv[2]
if (!arg) {
  console.error('usage: node --import tsx bench/worker.ts <job JSON>')
  process.exit(2)
}
main(JSON.parse(arg) as WorkerJob).then(
  (result) => process.stdout.write(`${JSON.stringify(result)}\n`),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error))
    process.exit(1)
  },
)
