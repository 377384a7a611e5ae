/**
 * Lambda bench: the deployment zip's size (goal <= 400 KB) and the bundle's cold import time in a
 * fresh Node process (goal <= 150 ms), i.e. the part of a cold start our code adds on top of the runtime.
 *
 *   node --import tsx bench/lambda.ts [--runs 9] [--node /path/to/node] [--json]
 *
 * Builds the bundle from the current sources into a temporary folder with scripts/bundle-lambda.js,
 * zips it exactly as `garmin-s3 deploy` does, then imports it RUNS times, each in a new process, and
 * reports the median and the spread next to the import of an empty module (the floor).
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs, promisify } from 'node:util'
import { codeSha256, zipBundle } from '../src/deploy/bundle.js'

const run = promisify(execFile)
const root = fileURLToPath(new URL('..', import.meta.url))
const GOAL_ZIP_BYTES = 400 * 1024
const GOAL_IMPORT_MS = 150

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '9' },
    node: { type: 'string', default: process.execPath },
    json: { type: 'boolean', default: false },
  },
})
const runs = Math.max(1, Number(values.runs))
const node = values.node ?? process.execPath

/** One fresh process: the time `import()` of the module takes, measured inside it. */
async function importMs(file: string): Promise<number> {
  const script = `const t = performance.now(); await import(${JSON.stringify(pathToFileURL(file).href)}); process.stdout.write(String(performance.now() - t))`
  // No AWS variables: importing must not need any (configuration is read, and may fail, at call time).
  const { stdout } = await run(node, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', AWS_REGION: 'us-east-1' },
  })
  return Number(stdout)
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b)
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
  return { median: at(0.5), min: sorted[0] ?? Number.NaN, max: sorted[sorted.length - 1] ?? Number.NaN }
}

const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-bench-lambda-'))
try {
  const bundlePath = join(dir, 'index.mjs')
  await run(process.execPath, [join(root, 'scripts/bundle-lambda.js'), bundlePath])
  const bundle = await readFile(bundlePath)
  const zip = await zipBundle(bundle)
  const empty = join(dir, 'empty.mjs')
  await writeFile(empty, 'export {}\n')

  const floor: number[] = []
  const cold: number[] = []
  // Interleaved, so that a busy machine slows both series alike.
  for (let i = 0; i < runs; i++) {
    floor.push(await importMs(empty))
    cold.push(await importMs(bundlePath))
  }
  const { version } = JSON.parse(
    (await run(node, ['-p', 'JSON.stringify({version: process.version})'])).stdout,
  )
  const result = {
    node: version as string,
    runs,
    bundleBytes: bundle.byteLength,
    zipBytes: zip.byteLength,
    codeSha256: codeSha256(zip),
    importMs: stats(cold),
    emptyImportMs: stats(floor),
    goals: { zipBytes: GOAL_ZIP_BYTES, importMs: GOAL_IMPORT_MS },
  }
  if (values.json) {
    console.log(JSON.stringify(result))
  } else {
    const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`
    const ms = (n: number) => `${n.toFixed(0)} ms`
    const ok = (pass: boolean) => (pass ? 'ok' : 'OVER GOAL')
    console.log(`Lambda bundle (${result.node}, ${runs} fresh processes)`)
    console.log(`  bundle (index.mjs)   ${kb(result.bundleBytes)}`)
    console.log(
      `  zip                  ${kb(result.zipBytes)}   goal <= ${kb(GOAL_ZIP_BYTES)}  ${ok(result.zipBytes <= GOAL_ZIP_BYTES)}`,
    )
    console.log(
      `  cold import          ${ms(result.importMs.median)} median (${ms(result.importMs.min)}-${ms(result.importMs.max)})   goal <= ${GOAL_IMPORT_MS} ms  ${ok(result.importMs.median <= GOAL_IMPORT_MS)}`,
    )
    console.log(
      `  empty module import  ${ms(result.emptyImportMs.median)} median (the floor on this machine)`,
    )
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
