/**
 * `npm run bench:startup`: how fast the CLI starts, as whole-process ratios to `node -e 0` (issue 14's
 * goals: `--version` <= 1.5x, a no-op daily `sync` into a folder <= 2x with peak RSS <= 80 MB). Each
 * command runs `--runs` times (default 9) in a child process; the median wall time and the largest peak
 * RSS (from /usr/bin/time) are reported. The no-op sync runs against the simulator, signed in once.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { FileTokenStore } from '../src/garmin/tokens.js'
import { runProcess } from '../test/helpers/process.js'
import { startSimulator } from '../test/sim/server.js'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const CLI = join(ROOT, 'bin', 'run.js')
const { values } = parseArgs({ options: { runs: { type: 'string', default: '9' } } })
const RUNS = Math.max(1, Number(values.runs))
const TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined

interface Sample {
  ms: number
  rssMb: number | undefined
}

/** One run in a child process (asynchronously: the simulator answers from this process meanwhile). */
async function once(args: string[], env: NodeJS.ProcessEnv): Promise<Sample> {
  const command = TIME ?? process.execPath
  const argv = TIME ? ['-f', '%M', process.execPath, ...args] : args
  const started = performance.now()
  const r = await runProcess(command, argv, { env })
  const ms = performance.now() - started
  if (r.code !== 0) throw new Error(`${args.join(' ')} exited ${r.code}: ${r.stderr}`)
  const kb = TIME ? Number(r.stderr.trim().split('\n').at(-1)) : Number.NaN
  return { ms, rssMb: Number.isFinite(kb) ? kb / 1024 : undefined }
}

async function measure(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ ms: number; rssMb: number | undefined }> {
  await once(args, env) // warm the file cache
  const samples: Sample[] = []
  for (let i = 0; i < RUNS; i++) samples.push(await once(args, env))
  const times = samples.map((s) => s.ms).sort((a, b) => a - b)
  const rss = samples.map((s) => s.rssMb).filter((v): v is number => v !== undefined)
  return {
    ms: times[Math.floor(times.length / 2)] ?? 0,
    rssMb: rss.length > 0 ? Math.max(...rss) : undefined,
  }
}

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'commands', 'sync.js'))) throw new Error('run `npm run build` first')
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-startup-'))
  const sim = await startSimulator({ activities: 50 })
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
    await once([CLI, 'sync', '--out', out], env) // the backfill; what follows is the daily no-op
    const base = await measure(['-e', '0'], env)
    const rows = [
      ['node -e 0', base, undefined],
      ['garmin-s3 --version', await measure([CLI, '--version'], env), 1.5],
      ['garmin-s3 sync (no-op, folder)', await measure([CLI, 'sync', '--out', out], env), 2],
    ] as const
    console.log(`startup, median of ${RUNS} runs, Node ${process.version}`)
    console.log('| command | wall | x node -e 0 | goal | peak RSS |')
    console.log('| --- | --- | --- | --- | --- |')
    for (const [name, m, goal] of rows) {
      const ratio = m.ms / base.ms
      const verdict = goal === undefined ? '' : `<= ${goal}x: ${ratio <= goal ? 'pass' : 'miss'}`
      const rss = m.rssMb === undefined ? 'n/a' : `${m.rssMb.toFixed(0)} MB`
      console.log(`| ${name} | ${m.ms.toFixed(0)} ms | ${ratio.toFixed(2)}x | ${verdict} | ${rss} |`)
    }
  } finally {
    await sim.close()
    await rm(dir, { recursive: true, force: true })
  }
}

await main()
