/**
 * `npm run bench:startup`: how fast the CLI starts, as whole-process ratios to `node -e 0` (issue 14's
 * goals: `--version` <= 1.5x, a no-op daily `sync` <= 2x with peak RSS <= 80 MB). Each command runs
 * `--runs` times (default 9) in a child process, the commands taking turns (run 1 of each, then run 2
 * of each...) so that a change in the machine's load moves every row alike; the median wall time, the
 * median CPU time (user + system) and the largest peak RSS (from /usr/bin/time) are reported. The
 * no-op syncs run against the simulator, signed in once: into a folder, and into a moto_server bucket
 * when moto_server is installed (`--skip-s3` leaves it out). Two rows without a goal show the floor
 * under the goal: a Node that only imports the built-ins any sync needs (http, crypto, fs), and the same
 * no-op folder sync without oclif (bench/startup-floor.ts, bundled here like the CLI).
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { build } from 'esbuild'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { FileTokenStore } from '../src/garmin/tokens.js'
import { runProcess } from '../test/helpers/process.js'
import { type RunningServer, startMoto, TEST_CREDENTIALS, TEST_REGION } from '../test/helpers/servers.js'
import { startSimulator } from '../test/sim/server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    'skip-s3': { type: 'boolean', default: false },
    // Another build's bin/run.js (e.g. an older release, built), to compare before and after.
    cli: { type: 'string' },
  },
})
const CLI = values.cli ? resolve(values.cli) : join(ROOT, 'bin', 'run.js')
const RUNS = Math.max(1, Number(values.runs))
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

interface Sample {
  ms: number
  cpuMs: number | undefined
  rssMb: number | undefined
}

/** One run in a child process (asynchronously: the simulator answers from this process meanwhile). */
async function once(args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const command = TIME ?? process.execPath
  const argv = TIME ? ['-f', '%U %S %M', process.execPath, ...args] : args
  const started = performance.now()
  const r = await runProcess(command, argv, { env })
  const ms = performance.now() - started
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  const [user, system, kb] = (TIME ? (r.stderr.trim().split('\n').at(-1) ?? '') : '').split(' ').map(Number)
  const cpuMs = user !== undefined && system !== undefined ? (user + system) * 1000 : Number.NaN
  return {
    ms,
    cpuMs: Number.isFinite(cpuMs) ? cpuMs : undefined,
    rssMb: kb !== undefined && Number.isFinite(kb) ? kb / 1024 : undefined,
  }
}

interface Row {
  name: string
  args: string[]
  env: NodeJS.ProcessEnv
  goal?: number
}

interface Measured {
  ms: number
  /** The fastest run: on a loaded machine, the closest to what the command itself costs. */
  bestMs: number
  cpuMs: number | undefined
  rssMb: number | undefined
}

const median = (values: number[]): number =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN

/** Every row once to warm the file cache, then `RUNS` rounds of every row in turn. */
async function measureAll(rows: Row[]): Promise<Measured[]> {
  for (const row of rows) await once(row.args, row.env)
  const samples: Sample[][] = rows.map(() => [])
  for (let i = 0; i < RUNS; i++) {
    for (const [index, row] of rows.entries()) samples[index]?.push(await once(row.args, row.env))
  }
  return samples.map((list) => {
    const cpu = list.map((s) => s.cpuMs).filter((v): v is number => v !== undefined)
    const rss = list.map((s) => s.rssMb).filter((v): v is number => v !== undefined)
    return {
      ms: median(list.map((s) => s.ms)),
      bestMs: Math.min(...list.map((s) => s.ms)),
      cpuMs: cpu.length > 0 ? median(cpu) : undefined,
      rssMb: rss.length > 0 ? Math.max(...rss) : undefined,
    }
  })
}

/** A moto_server with one bucket the no-op sync reads; undefined when moto_server is not installed. */
async function motoBucket(): Promise<
  { moto: RunningServer; args: string[]; env: NodeJS.ProcessEnv } | undefined
> {
  if (values['skip-s3']) return undefined
  let moto: RunningServer
  try {
    moto = await startMoto()
  } catch (error) {
    console.error(`no S3 row: ${(error as Error).message}`)
    return undefined
  }
  const bucket = 'startup-bench'
  const client = new S3Client({
    region: TEST_REGION,
    endpoint: moto.endpoint,
    forcePathStyle: true,
    credentials: TEST_CREDENTIALS,
  })
  await client.send(new CreateBucketCommand({ Bucket: bucket }))
  client.destroy()
  return {
    moto,
    args: ['--bucket', bucket, '--endpoint', moto.endpoint, '--path-style', '--region', TEST_REGION],
    env: {
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    },
  }
}

/**
 * bench/startup-floor.ts bundled as scripts/bundle-cli.js bundles the CLI: minified ESM with code
 * splitting, so what it imports only when it runs (the S3 store and the AWS SDK, behind `await
 * import()`) is a chunk a folder sync never reads, as in the CLI. Returns the entry file in `dir`.
 */
async function bundleFloor(dir: string): Promise<string> {
  const outdir = join(dir, 'floor')
  await build({
    entryPoints: { 'startup-floor': join(ROOT, 'bench', 'startup-floor.ts') },
    outdir,
    outExtension: { '.js': '.mjs' },
    mainFields: ['module', 'main'],
    bundle: true,
    splitting: true,
    chunkNames: 'chunk-[hash]',
    platform: 'node',
    target: 'node20',
    format: 'esm',
    minify: true,
    keepNames: true,
    external: ['impit', 'typescript'],
    logLevel: 'warning',
    banner: {
      js: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
    },
  })
  return join(outdir, 'startup-floor.mjs')
}

async function main(): Promise<void> {
  if (!existsSync(join(dirname(CLI), '..', 'dist'))) throw new Error('run `npm run build` first')
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-startup-'))
  const floor = await bundleFloor(dir)
  const sim = await startSimulator({ activities: 50 })
  const s3 = await motoBucket()
  try {
    const tokens = join(dir, 'config', 'tokens.json')
    await new GarminClient({
      tokenStore: new FileTokenStore(tokens),
      endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    }).login({ email: sim.user.email, password: sim.user.password })
    const env = {
      PATH: process.env.PATH,
      HOME: dir,
      GARMIN_S3_GARMIN_URL: sim.url,
      GARMIN_S3_TOKEN_STORE: tokens,
      NO_COLOR: '1',
    }
    const out = join(dir, 'lake')
    const rows: Row[] = [
      { name: 'node -e 0', args: ['-e', '0'], env },
      { name: 'garmin-s3 --version', args: [CLI, '--version'], env, goal: 1.5 },
      {
        name: 'node importing node:http, node:crypto, node:fs/promises',
        args: [
          '--input-type=module',
          '-e',
          "import 'node:http'; import 'node:crypto'; import 'node:fs/promises'",
        ],
        env,
      },
      { name: 'no-op sync without oclif (bench/startup-floor.ts)', args: [floor, out], env },
      { name: 'garmin-s3 sync (no-op, folder)', args: [CLI, 'sync', '--out', out], env, goal: 2 },
    ]
    if (s3) {
      const s3env = { ...env, ...s3.env }
      rows.push({
        name: 'garmin-s3 sync (no-op, S3 on moto)',
        args: [CLI, 'sync', ...s3.args],
        env: s3env,
        goal: 2,
      })
    }
    // The backfills; what the rows measure is the daily no-op that follows.
    for (const row of rows.filter((r) => r.args.includes('sync'))) await once(row.args, row.env)
    const measured = await measureAll(rows)
    const base = measured[0]?.ms ?? Number.NaN
    const bestBase = measured[0]?.bestMs ?? Number.NaN
    const load = loadavg()[0]?.toFixed(1)
    console.log(`startup, median of ${RUNS} runs taking turns, Node ${process.version}, load average ${load}`)
    console.log('| command | wall | x node -e 0 | goal | fastest (x) | CPU | peak RSS |')
    console.log('| --- | --- | --- | --- | --- | --- | --- |')
    for (const [index, row] of rows.entries()) {
      const m = measured[index]
      if (!m) continue
      const ratio = m.ms / base
      const verdict = row.goal === undefined ? '' : `<= ${row.goal}x: ${ratio <= row.goal ? 'pass' : 'miss'}`
      const cpu = m.cpuMs === undefined ? 'n/a' : `${m.cpuMs.toFixed(0)} ms`
      const rss = m.rssMb === undefined ? 'n/a' : `${m.rssMb.toFixed(0)} MB`
      const best = `${m.bestMs.toFixed(0)} ms (${(m.bestMs / bestBase).toFixed(2)}x)`
      console.log(
        `| ${row.name} | ${m.ms.toFixed(0)} ms | ${ratio.toFixed(2)}x | ${verdict} | ${best} | ${cpu} | ${rss} |`,
      )
    }
  } finally {
    await s3?.moto.stop()
    await sim.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
