/**
 * `npm run bench`: garmin-s3's sync against the original Python Lambda's algorithm (bench/original.ts), on
 * the Garmin simulator with real wall-clock latency and a real moto_server, plus the Lambda bundle's size
 * and cold import (bench/lambda.ts). Prints a table with the goals and writes bench/results/latest.json.
 *
 *   npm run bench [-- --activities 10000 --small 1000 --latency-ms 50 --days-back 30 --repeat 3
 *                     --s3-latency-ms 20 --s3-latency-activities 500 --lambda-runs 9 --skip-lambda
 *                     --dataset-days 365 --skip-datasets --cpu-prof]
 *
 * Every measured sync runs in a child process (bench/worker.ts, bundled from the current sources with
 * esbuild and run by plain `node`, as the CLI runs from dist/, not through tsx, whose loader alone adds
 * about 30 MB of RSS): its peak RSS is its own, and it does not share an event loop with the simulator,
 * which runs here.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { build } from 'esbuild'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { FileTokenStore } from '../src/garmin/tokens.js'
import { DirStore } from '../src/store/dir.js'
import { daysBetween, readDatasetState } from '../src/sync/dataset-state.js'
import { DATASETS, datasetPrefix } from '../src/sync/datasets.js'
import { DEFAULT_CONCURRENCY } from '../src/sync/options.js'
import { runProcess } from '../test/helpers/process.js'
import { startMoto, TEST_CREDENTIALS, TEST_REGION } from '../test/helpers/servers.js'
import { type Simulator, startSimulator } from '../test/sim/server.js'
import type { DiskFloor } from './disk-floor.js'
import { startLatencyProxy } from './latency-proxy.js'
import type { WorkerJob, WorkerResult } from './worker.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const PREFIX = 'raw-data/garmin-json/'
/** A keen athlete's pace (about 1.4 a day): both account sizes get the same density, so the newest 50 look alike. */
const ACTIVITIES_PER_YEAR = 500

const GOALS = {
  backfillSpeedup: 5,
  s3PerNewActivity: 1.01,
  peakRssMb: 200,
  folderPerSecond: 2000,
  zipKb: 400,
  importMs: 150,
  requestsPerDatasetDay: 1,
}

const { values: flags } = parseArgs({
  options: {
    activities: { type: 'string', default: '10000' },
    small: { type: 'string', default: '1000' },
    'latency-ms': { type: 'string', default: '50' },
    'days-back': { type: 'string', default: '30' },
    repeat: { type: 'string', default: '3' },
    's3-latency-ms': { type: 'string', default: '20' },
    's3-latency-activities': { type: 'string', default: '500' },
    'lambda-runs': { type: 'string', default: '9' },
    'skip-lambda': { type: 'boolean', default: false },
    /** The every-dataset backfill: as many activities over this many days (the simulator's minimum is a year). */
    'dataset-days': { type: 'string', default: '365' },
    'skip-datasets': { type: 'boolean', default: false },
    /** Write a V8 CPU profile of every measured run into bench/results/profiles/. */
    'cpu-prof': { type: 'boolean', default: false },
  },
})
const WORKER_NODE_FLAGS = flags['cpu-prof']
  ? ['--cpu-prof', `--cpu-prof-dir=${join(ROOT, 'bench/results/profiles')}`]
  : []
const N = positive(flags.activities, 'activities')
const SMALL = positive(flags.small, 'small')
const LATENCY_MS = Number(flags['latency-ms'])
const DAYS_BACK = Number(flags['days-back'])
const REPEAT = positive(flags.repeat, 'repeat')
const S3_LATENCY_MS = Number(flags['s3-latency-ms'])
const MODEL_N = Number(flags['s3-latency-activities'])
const DATASET_DAYS = positive(flags['dataset-days'], 'dataset-days')

function positive(text: string | undefined, name: string): number {
  const n = Number(text)
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`--${name} must be a whole number >= 1`)
  return n
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')
const say = (line: string) => process.stderr.write(`${line}\n`)

const WORKER_BUNDLE = join(ROOT, 'bench/results/.worker.mjs')

/** bench/worker.ts and the sources it imports as one ESM file; node_modules stay external (resolved from ROOT). */
async function buildWorker(): Promise<void> {
  await build({
    entryPoints: [join(ROOT, 'bench/worker.ts')],
    outfile: WORKER_BUNDLE,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: 'linked',
    logLevel: 'warning',
  })
}

/** The mean size in bytes of the files directly in `dir` (the activity objects of a folder run). */
async function meanFileBytes(dir: string): Promise<number> {
  const names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name)
  if (names.length === 0) throw new Error(`no files in ${dir}`)
  let bytes = 0
  for (const name of names) bytes += (await stat(join(dir, name))).size
  return Math.round(bytes / names.length)
}

/** Runs `node <args>` from the repository root and parses the last line it prints as JSON. */
async function lastJsonLine<T>(
  args: string[],
  what: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<T> {
  const out = await runProcess(process.execPath, args, { cwd: ROOT, env })
  if (out.code !== 0) throw new Error(`${what} exited ${out.code ?? out.signal}:\n${out.stderr}`)
  return JSON.parse(out.stdout.trim().split('\n').pop() ?? '') as T
}

/** Runs one job in a fresh Node process and parses its one JSON line. */
function runWorker(job: WorkerJob): Promise<WorkerResult> {
  return lastJsonLine(
    [...WORKER_NODE_FLAGS, WORKER_BUNDLE, JSON.stringify(job)],
    `worker ${job.algorithm}/${job.mode}`,
    {
      ...process.env,
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  )
}

interface Measured extends WorkerResult {
  /** What the simulator itself served during the run (the authoritative Garmin count). */
  simRequests: number
  /** Reload requests for archived days (issue 20): 0 unless a daily dataset met archived days. */
  reloadRequests: number
  storeRequests: number
  /** CPU time moto_server spent during the run (Linux only): near wallMs means moto was the bottleneck. */
  motoCpuMs?: number
  load1: number
}

/** The CPU time (ms) of the moto_server listening on `endpoint`'s port, read from /proc; undefined elsewhere. */
function motoCpuProbe(endpoint: string): () => number | undefined {
  const port = new URL(endpoint).port
  let pid: string | undefined
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue
      const args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0')
      if (args.some((a) => a.endsWith('moto-server.py')) && args.includes(port)) pid = entry
    }
  } catch {
    return () => undefined
  }
  return () => {
    if (!pid) return undefined
    try {
      // Fields after "(comm)": utime and stime are the 12th and 13th, in clock ticks (100 per second on Linux).
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? []
      return (Number(fields[11]) + Number(fields[12])) * 10
    } catch {
      return undefined
    }
  }
}

let motoCpu: () => number | undefined = () => undefined

const total = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0)

async function measure(sim: Simulator, job: WorkerJob): Promise<Measured> {
  sim.resetStats()
  const load1 = loadavg()[0] ?? 0
  const motoBefore = motoCpu()
  const result = await runWorker(job)
  const motoAfter = motoCpu()
  if (result.failed > 0 || result.errors.length > 0) {
    throw new Error(`${job.algorithm} run reported errors: ${result.errors.slice(0, 3).join('; ')}`)
  }
  return {
    ...result,
    simRequests: sim.stats().total,
    reloadRequests: Object.values(sim.stats().byRoute.reloadRequest ?? {}).reduce((a, b) => a + b, 0),
    storeRequests: total(result.store),
    ...(motoBefore === undefined || motoAfter === undefined ? {} : { motoCpuMs: motoAfter - motoBefore }),
    load1,
  }
}

/** The median run (by wall time) of `times` identical runs. */
async function medianOf(times: number, run: () => Promise<Measured>): Promise<Measured> {
  const runs: Measured[] = []
  for (let i = 0; i < times; i++) runs.push(await run())
  runs.sort((a, b) => a.wallMs - b.wallMs)
  return runs[Math.floor(runs.length / 2)]!
}

async function signedIn(sim: Simulator, dir: string, label: string): Promise<string> {
  const tokenPath = join(dir, `tokens-${label}.json`)
  const client = new GarminClient({
    tokenStore: new FileTokenStore(tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
  })
  await client.login({ email: sim.user.email, password: sim.user.password })
  return tokenPath
}

/** Runs bench/lambda.ts --json in its own process. */
function lambdaBench(runs: number): Promise<LambdaResult> {
  return lastJsonLine(
    ['--import', 'tsx', join(ROOT, 'bench/lambda.ts'), '--json', '--runs', String(runs)],
    'bench/lambda.ts',
  )
}

interface LambdaResult {
  node: string
  runs: number
  bundleBytes: number
  zipBytes: number
  importMs: { median: number; min: number; max: number }
  emptyImportMs: { median: number; min: number; max: number }
}

/** Whether dist/ holds a build, and whether it is older than the sources (a reminder, not a blocker). */
function buildStatus(): string {
  const bundle = join(ROOT, 'dist/lambda/index.mjs')
  if (!existsSync(bundle) || !existsSync(join(ROOT, 'dist/commands/sync.js'))) {
    return 'dist/ is missing: run `npm run build` (the CLI ships from dist/; the figures below use the sources)'
  }
  return `dist/ built ${statSync(bundle).mtime.toISOString()}`
}

async function main(): Promise<void> {
  // The harness's own S3 client would print the SDK's Node 20 notice; the workers get the same setting.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'
  const startedAt = new Date()
  const loadBefore = load()
  say(`garmin-s3 bench: ${N} activities (and ${SMALL}), ${LATENCY_MS} ms Garmin latency, moto S3`)
  say(`machine: ${cpus().length} cores, Node ${process.version}, load average ${loadBefore}`)
  const build = buildStatus()
  say(build)

  await buildWorker()
  const tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-bench-'))
  const moto = await startMoto()
  motoCpu = motoCpuProbe(moto.endpoint)
  const sims: Simulator[] = []
  const closers: (() => Promise<void>)[] = []
  // Ctrl-C must not leave moto_server running.
  const interrupted = () => {
    void moto.stop().finally(() => process.exit(130))
  }
  process.once('SIGINT', interrupted)
  process.once('SIGTERM', interrupted)
  try {
    const s3 = new S3Client({
      endpoint: moto.endpoint,
      region: TEST_REGION,
      forcePathStyle: true,
      credentials: TEST_CREDENTIALS,
    })
    const bucket = async (name: string) => {
      await s3.send(new CreateBucketCommand({ Bucket: name }))
      return { kind: 's3' as const, endpoint: moto.endpoint, bucket: name }
    }
    const years = (n: number) => Math.max(1, n / ACTIVITIES_PER_YEAR)
    // Same seed and size: the same account, one with latency and one without.
    const big = await startSimulator({ activities: N, years: years(N), latencyMs: LATENCY_MS })
    sims.push(big)
    const small = await startSimulator({ activities: SMALL, years: years(SMALL), latencyMs: LATENCY_MS })
    sims.push(small)
    const fast = await startSimulator({ activities: N, years: years(N), latencyMs: 0 })
    sims.push(fast)
    const tokens = {
      big: await signedIn(big, tmp, 'big'),
      small: await signedIn(small, tmp, 'small'),
      fast: await signedIn(fast, tmp, 'fast'),
    }
    const job = (
      sim: Simulator,
      tokenPath: string,
      rest: Omit<WorkerJob, 'simUrl' | 'tokenPath' | 'prefix'>,
    ) => ({ simUrl: sim.url, tokenPath, prefix: PREFIX, ...rest }) as WorkerJob

    say(`backfill of ${N}: ours...`)
    const oursBucket = await bucket('bench-ours')
    const oursBackfill = await measure(
      big,
      job(big, tokens.big, { algorithm: 'ours', mode: 'backfill', target: oursBucket }),
    )
    say(`  ${(oursBackfill.wallMs / 1000).toFixed(1)} s`)
    say(`backfill of ${N}: original (sequential HEAD + PUT, 50 per page)...`)
    const originalBackfill = await measure(
      big,
      job(big, tokens.big, {
        algorithm: 'original',
        mode: 'backfill',
        target: await bucket('bench-original'),
      }),
    )
    say(`  ${(originalBackfill.wallMs / 1000).toFixed(1)} s`)

    say(`backfill of ${SMALL} (the smaller account for the no-op comparison)...`)
    const smallBucket = await bucket('bench-ours-small')
    const smallBackfill = await measure(
      small,
      job(small, tokens.small, { algorithm: 'ours', mode: 'backfill', target: smallBucket }),
    )

    say(`no-op daily runs (median of ${REPEAT})...`)
    // One daily run, repeated: the big or the small account, ours or the original, with or without
    // --days-back. The original needs no state: our bucket holds exactly the keys it would have written.
    const daily = (
      size: 'big' | 'small',
      algorithm: 'ours' | 'original',
      daysBack: number | null = DAYS_BACK,
    ) => {
      const [sim, token, target] =
        size === 'big' ? [big, tokens.big, oursBucket] : [small, tokens.small, smallBucket]
      const options = {
        algorithm,
        mode: 'daily',
        target,
        ...(daysBack === null ? {} : { daysBack }),
      } as const
      return medianOf(REPEAT, () => measure(sim, job(sim, token, options)))
    }
    const noop = {
      ours: await daily('big', 'ours'),
      oursSmall: await daily('small', 'ours'),
      oursNoDaysBack: await daily('big', 'ours', null),
      oursSmallNoDaysBack: await daily('small', 'ours', null),
      original: await daily('big', 'original'),
      originalSmall: await daily('small', 'original'),
    }
    for (const [name, m] of Object.entries(noop)) {
      if (m.created !== 0) throw new Error(`the no-op run "${name}" wrote ${m.created} activities`)
    }

    say(`reconcile of ${N} stored, nothing changed (--reconcile, pages of 1,000)...`)
    const reconcile = await measure(
      big,
      job(big, tokens.big, { algorithm: 'ours', mode: 'daily', target: oursBucket, reconcile: true }),
    )
    if (reconcile.created !== 0 || (reconcile.changed ?? 0) !== 0)
      throw new Error(
        `the reconcile of an unchanged account wrote ${reconcile.created} and changed ${reconcile.changed}`,
      )
    const stateObject = await s3.send(
      new GetObjectCommand({ Bucket: oursBucket.bucket, Key: 'raw-data/_garmin-s3/state.json' }),
    )
    const stateBytes = (await stateObject.Body!.transformToByteArray()).byteLength
    const changes = {
      reconcile,
      listCalls: reconcile.garmin.list ?? 0,
      stateBytes,
      fingerprintBytes: N * 6,
    }

    say(`${N} activities into a folder, no latency...`)
    const folder = await measure(
      fast,
      job(fast, tokens.fast, {
        algorithm: 'ours',
        mode: 'backfill',
        target: { kind: 'dir', path: join(tmp, 'out') },
      }),
    )
    // The same number of files of the same size, created the folder store's way and as many at a time
    // as the sync writes by default, with nothing around them: the file system's own rate, which the folder row depends on more than on garmin-s3.
    const disk = await lastJsonLine<DiskFloor>(
      [
        '--import',
        'tsx',
        join(ROOT, 'bench/disk-floor.ts'),
        join(tmp, 'disk-floor'),
        String(N),
        String(await meanFileBytes(join(tmp, 'out', PREFIX))),
        String(DEFAULT_CONCURRENCY),
      ],
      'bench/disk-floor.ts',
    )

    let modelled: { latencyMs: number; activities: number; ours: Measured; original: Measured } | undefined
    if (S3_LATENCY_MS > 0 && MODEL_N > 0) {
      say(
        `backfill of ${MODEL_N} with ${S3_LATENCY_MS} ms per S3 request (a proxy before moto, modelling AWS)...`,
      )
      const proxy = await startLatencyProxy(moto.endpoint, S3_LATENCY_MS)
      closers.push(() => proxy.close())
      const model = await startSimulator({
        activities: MODEL_N,
        years: years(MODEL_N),
        latencyMs: LATENCY_MS,
      })
      sims.push(model)
      const modelTokens = await signedIn(model, tmp, 'model')
      const viaProxy = async (name: string) => ({ ...(await bucket(name)), endpoint: proxy.url })
      // The proxy sees every S3 request: an independent check of the counts the runs report.
      const throughProxy = async (algorithm: WorkerJob['algorithm'], name: string) => {
        const target = await viaProxy(name)
        const before = proxy.count()
        const m = await measure(model, job(model, modelTokens, { algorithm, mode: 'backfill', target }))
        if (proxy.count() - before !== m.storeRequests) {
          throw new Error(
            `${algorithm} reported ${m.storeRequests} S3 requests, the proxy saw ${proxy.count() - before}`,
          )
        }
        return m
      }
      const ours = await throughProxy('ours', 'bench-model-ours')
      const original = await throughProxy('original', 'bench-model-original')
      for (const m of [ours, original]) {
        if (m.created !== MODEL_N) throw new Error(`the modelled backfill wrote ${m.created} of ${MODEL_N}`)
      }
      modelled = { latencyMs: S3_LATENCY_MS, activities: MODEL_N, ours, original }
    }

    let datasets: DatasetFigures | undefined
    if (!flags['skip-datasets']) {
      say(
        `backfill of every dataset over ${DATASET_DAYS} days, ${LATENCY_MS} ms Garmin latency, into a folder...`,
      )
      const account = await startSimulator({
        activities: DATASET_DAYS,
        years: DATASET_DAYS / 365,
        latencyMs: LATENCY_MS,
      })
      sims.push(account)
      // As a user runs it: `sync --data all`, daily data from the first activity on (the default --since).
      const out = join(tmp, 'datasets')
      const every = job(account, await signedIn(account, tmp, 'datasets'), {
        algorithm: 'ours',
        mode: 'backfill',
        target: { kind: 'dir', path: out },
        datasets: ['all'],
      })
      const backfill = await measure(account, every)
      say(`  ${(backfill.wallMs / 1000).toFixed(1)} s`)
      const next = await measure(account, every)
      // The days the daily datasets now cover, from their cursor.
      const state = await readDatasetState(new DirStore(out), PREFIX)
      const sleep = state.datasets[datasetPrefix(PREFIX, 'sleep')]
      if (sleep?.kind !== 'daily') throw new Error('the every-dataset backfill left no sleep cursor')
      datasets = datasetFigures(daysBetween(sleep.from, sleep.through).length, backfill, next)
    }

    let lambda: LambdaResult | undefined
    if (!flags['skip-lambda']) {
      say('Lambda bundle: size and cold import...')
      lambda = await lambdaBench(positive(flags['lambda-runs'], 'lambda-runs'))
    }

    for (const [name, m] of [
      ['ours backfill', oursBackfill],
      ['original backfill', originalBackfill],
      ['small backfill', smallBackfill],
      ['folder', folder],
    ] as const) {
      if (m.created !== (name === 'small backfill' ? SMALL : N)) {
        throw new Error(
          `${name} wrote ${m.created} activities, expected ${name === 'small backfill' ? SMALL : N}`,
        )
      }
    }

    const figures = {
      speedup: originalBackfill.wallMs / oursBackfill.wallMs,
      s3PerNew: oursBackfill.storeRequests / oursBackfill.created,
      s3PerNewOriginal: originalBackfill.storeRequests / originalBackfill.created,
      peakRssMb: oursBackfill.maxRssKb / 1024,
      baselineRssMb: oursBackfill.baselineMaxRssKb / 1024,
      folderPerSecond: folder.created / (folder.wallMs / 1000),
      diskFloorPerSecond: disk.perSecond,
      noopConstant:
        noop.ours.simRequests === noop.oursSmall.simRequests &&
        noop.ours.storeRequests === noop.oursSmall.storeRequests &&
        noop.oursNoDaysBack.simRequests === noop.oursSmallNoDaysBack.simRequests &&
        noop.oursNoDaysBack.storeRequests === noop.oursSmallNoDaysBack.storeRequests,
    }
    const results = {
      startedAt: startedAt.toISOString(),
      finishedAt: new Date().toISOString(),
      machine: { cores: cpus().length, node: process.version, loadBefore, loadAfter: load() },
      build,
      settings: { activities: N, small: SMALL, latencyMs: LATENCY_MS, daysBack: DAYS_BACK, repeat: REPEAT },
      goals: GOALS,
      figures,
      backfill: { ours: oursBackfill, original: originalBackfill, oursSmall: smallBackfill },
      noop,
      changes,
      folder,
      modelled,
      datasets,
      lambda,
    }
    await mkdir(join(ROOT, 'bench/results'), { recursive: true })
    await writeFile(join(ROOT, 'bench/results/latest.json'), `${JSON.stringify(results, null, 2)}\n`)
    process.stdout.write(renderTable(results))
    say('wrote bench/results/latest.json')
  } finally {
    await Promise.all([...sims.map((s) => s.close()), ...closers.map((close) => close())])
    await moto.stop()
    await rm(tmp, { recursive: true, force: true })
  }
}

interface DatasetFigures {
  days: number
  activities: number
  /** Garmin calls of the daily datasets / (daily datasets x days). */
  perDatasetDay: number
  /** Garmin calls of fit, details and splits / (3 x activities). */
  perActivity: number
  backfill: Measured
  next: Measured
}

function datasetFigures(days: number, backfill: Measured, next: Measured): DatasetFigures {
  const counts = backfill.datasets ?? {}
  const calls = (kind: 'daily' | 'per-activity') => {
    const specs = DATASETS.filter((d) => d.kind === kind)
    return { specs: specs.length, requests: specs.reduce((n, d) => n + (counts[d.name]?.requests ?? 0), 0) }
  }
  const activities = counts.activities?.created ?? backfill.created
  const daily = calls('daily')
  const perActivity = calls('per-activity')
  if (activities === 0 || daily.requests === 0) throw new Error('the every-dataset backfill copied nothing')
  return {
    days,
    activities,
    perDatasetDay: daily.requests / (daily.specs * days),
    perActivity: perActivity.requests / (perActivity.specs * activities),
    backfill,
    next,
  }
}

type Results = {
  machine: { cores: number; node: string; loadBefore: string; loadAfter: string }
  build: string
  figures: {
    speedup: number
    s3PerNew: number
    s3PerNewOriginal: number
    peakRssMb: number
    baselineRssMb: number
    folderPerSecond: number
    diskFloorPerSecond: number
    noopConstant: boolean
  }
  backfill: { ours: Measured; original: Measured }
  changes: { reconcile: Measured; listCalls: number; stateBytes: number; fingerprintBytes: number }
  noop: Record<
    'ours' | 'oursSmall' | 'oursNoDaysBack' | 'oursSmallNoDaysBack' | 'original' | 'originalSmall',
    Measured
  >
  folder: Measured
  modelled: { latencyMs: number; activities: number; ours: Measured; original: Measured } | undefined
  datasets: DatasetFigures | undefined
  lambda: LambdaResult | undefined
}

function renderTable(r: Results): string {
  const mark = (pass: boolean) => (pass ? 'pass' : 'FAIL')
  const s = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`
  const reqs = (m: Measured) => `${m.simRequests} Garmin + ${m.storeRequests} S3, ${s(m.wallMs)}`
  const rows: [string, string, string, string][] = []
  const row = (figure: string, ours: string, original: string, goal = '') =>
    rows.push([figure, ours, original, goal])
  const { figures: f, noop, backfill } = r

  row(`no-op daily run, ${N} stored (DAYS_BACK=${DAYS_BACK})`, reqs(noop.ours), reqs(noop.original))
  row(
    `no-op daily run, ${SMALL} stored (DAYS_BACK=${DAYS_BACK})`,
    reqs(noop.oursSmall),
    reqs(noop.originalSmall),
  )
  row(`no-op daily run, ${N} stored (no DAYS_BACK)`, reqs(noop.oursNoDaysBack), 'n/a (always 50 newest)')
  row(`no-op daily run, ${SMALL} stored (no DAYS_BACK)`, reqs(noop.oursSmallNoDaysBack), 'n/a')
  row(
    'no-op requests independent of history size',
    f.noopConstant ? 'yes' : 'NO',
    'yes (but ~1 HEAD per recent activity)',
    `O(1)  ${mark(f.noopConstant)}`,
  )
  const ch = r.changes
  row(
    `reconcile of ${N} stored, nothing changed (docs/changes.md)`,
    `${ch.listCalls} Garmin list calls + ${ch.reconcile.storeRequests} S3, ${s(ch.reconcile.wallMs)}`,
    'n/a (never looks again)',
    `<= 12 + 12  ${mark(ch.listCalls <= 12 && ch.reconcile.storeRequests <= 12)}`,
  )
  row(
    `state.json at ${N} activities`,
    `${(ch.stateBytes / 1024).toFixed(0)} KB (fingerprints ${(ch.fingerprintBytes / 1024).toFixed(0)} KB)`,
    'n/a (no state)',
    `fingerprints <= 1 KB/100  ${mark(ch.fingerprintBytes <= (N / 100) * 1024)}`,
  )
  row(
    `backfill of ${N}, ${LATENCY_MS} ms Garmin latency, moto S3`,
    `${s(backfill.ours.wallMs)} (${backfill.ours.simRequests} Garmin, ${backfill.ours.storeRequests} S3)`,
    `${s(backfill.original.wallMs)} (${backfill.original.simRequests} Garmin, ${backfill.original.storeRequests} S3)`,
  )
  row(
    'backfill speed-up original/ours',
    `${f.speedup.toFixed(2)}x`,
    '1x',
    `>= ${GOALS.backfillSpeedup}x  ${mark(f.speedup >= GOALS.backfillSpeedup)}`,
  )
  const cpu = (m: Measured) =>
    `sync ${s(m.cpuMs)}${m.motoCpuMs === undefined ? '' : `, moto_server ${s(m.motoCpuMs)}`}`
  row('  CPU time during that backfill', cpu(backfill.ours), cpu(backfill.original))
  if (r.modelled) {
    const m = r.modelled
    const ratio = m.original.wallMs / m.ours.wallMs
    row(
      `backfill of ${m.activities}, ${LATENCY_MS} ms Garmin + ${m.latencyMs} ms per S3 request (model of AWS)`,
      `${s(m.ours.wallMs)}`,
      `${s(m.original.wallMs)}`,
    )
    row(
      `speed-up original/ours with ${m.latencyMs} ms S3 round trips`,
      `${ratio.toFixed(2)}x`,
      '1x',
      `>= ${GOALS.backfillSpeedup}x  ${mark(ratio >= GOALS.backfillSpeedup)}`,
    )
  }
  row(
    'S3 requests per new activity',
    f.s3PerNew.toFixed(4),
    f.s3PerNewOriginal.toFixed(4),
    `<= ${GOALS.s3PerNewActivity}  ${mark(f.s3PerNew <= GOALS.s3PerNewActivity)}`,
  )
  row(
    'peak RSS during our backfill',
    `${f.peakRssMb.toFixed(0)} MB (${f.baselineRssMb.toFixed(0)} MB after start-up)`,
    `${(backfill.original.maxRssKb / 1024).toFixed(0)} MB`,
    `<= ${GOALS.peakRssMb} MB  ${mark(f.peakRssMb <= GOALS.peakRssMb)}`,
  )
  row(
    `${N} into a folder, no latency`,
    `${f.folderPerSecond.toFixed(0)} activities/s (${s(r.folder.wallMs)}, CPU ${s(r.folder.cpuMs)})`,
    'n/a (S3 only)',
    `>= ${GOALS.folderPerSecond}/s  ${mark(f.folderPerSecond >= GOALS.folderPerSecond)}`,
  )
  row(
    `${N} files of that size created as the folder store does, nothing else (bench/disk-floor.ts)`,
    `${f.diskFloorPerSecond.toFixed(0)} files/s: the folder row is ${((100 * f.folderPerSecond) / f.diskFloorPerSecond).toFixed(0)}% of it`,
    '',
  )
  if (r.datasets) {
    const d = r.datasets
    const one = d.perDatasetDay <= GOALS.requestsPerDatasetDay
    row(
      `Garmin calls per dataset-day (8 daily datasets x ${d.days} days)`,
      d.perDatasetDay.toFixed(3),
      'n/a (activities only)',
      `${GOALS.requestsPerDatasetDay}  ${mark(one)}`,
    )
    row(`Garmin calls per activity (fit, details, splits; ${d.activities})`, d.perActivity.toFixed(3), 'n/a')
    row(
      `backfill of every dataset, ${d.days} days, ${LATENCY_MS} ms latency, into a folder`,
      `${s(d.backfill.wallMs)} (${d.backfill.simRequests} Garmin calls)`,
      'n/a',
    )
    row('  next run, nothing new', `${s(d.next.wallMs)} (${d.next.simRequests} Garmin calls)`, 'n/a')
    // Nothing in the simulated account is archived: the archive's reloads (issue 20) must cost nothing.
    const extra = d.backfill.reloadRequests + d.next.reloadRequests
    row(
      '  extra requests for the archive, nothing archived',
      `${extra} reloads`,
      'n/a',
      `0  ${mark(extra === 0)}`,
    )
  }
  if (r.lambda) {
    const kb = r.lambda.zipBytes / 1024
    row('Lambda zip', `${kb.toFixed(0)} KB`, '', `<= ${GOALS.zipKb} KB  ${mark(kb <= GOALS.zipKb)}`)
    const ms = r.lambda.importMs
    row(
      `Lambda cold import (${r.lambda.node}, median of ${r.lambda.runs})`,
      `${ms.median.toFixed(0)} ms (${ms.min.toFixed(0)}-${ms.max.toFixed(0)}; empty module ${r.lambda.emptyImportMs.median.toFixed(0)} ms)`,
      '',
      `<= ${GOALS.importMs} ms  ${mark(ms.median <= GOALS.importMs)}`,
    )
  } else {
    row('Lambda zip / cold import', 'skipped (--skip-lambda)', '', '')
  }

  const header: [string, string, string, string] = ['figure', 'garmin-s3', 'original algorithm', 'goal']
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((x) => x[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  return [
    '',
    line(header),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `machine: ${r.machine.cores} cores, Node ${r.machine.node}, load average ${r.machine.loadBefore} before, ${r.machine.loadAfter} after`,
    r.build,
    '',
  ].join('\n')
}

await main()
