#!/usr/bin/env node
// Bundles the CLI (src/commands/index.ts: oclif and every command) into dist/bundle/main.js, with what
// the commands import only when they run split into chunks beside it (esbuild code splitting), so a
// start reads one file instead of some 300 modules (docs/performance.md "Start-up").
import { rm, writeFile } from 'node:fs/promises'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const outdir = join(root, 'dist', 'bundle')
await rm(outdir, { recursive: true, force: true })

const result = await build({
  entryPoints: { main: join(root, 'src', 'commands', 'index.ts') },
  outdir,
  bundle: true,
  splitting: true,
  chunkNames: 'chunk-[hash]',
  platform: 'node',
  target: 'node20',
  format: 'esm',
  minify: true,
  treeShaking: true,
  mainFields: ['module', 'main'],
  legalComments: 'none',
  keepNames: true,
  // impit is optional and native; typescript is what oclif reads tsconfig files with (never in production).
  external: ['impit', 'typescript'],
  metafile: true,
  logLevel: 'warning',
  banner: {
    js: "import { createRequire as __garminS3CreateRequire } from 'node:module'; const require = __garminS3CreateRequire(import.meta.url);",
  },
})

// BUNDLE_META=file: esbuild's metafile, to see what each chunk holds.
if (process.env.BUNDLE_META) await writeFile(process.env.BUNDLE_META, JSON.stringify(result.metafile))
// What a start evaluates: main.js and the chunks it imports statically. These packages are for some
// commands' run() only (docs/performance.md "Start-up"); reaching one from the start is a build error.
const RUN_ONLY = /node_modules\/(@aws-sdk\/|@smithy\/|ora\/|archiver\/|@inquirer\/|yaml\/|hyparquet-writer\/)/
const atStart = new Set()
const pending = [relative(root, join(outdir, 'main.js'))]
while (pending.length > 0) {
  const file = pending.pop()
  if (atStart.has(file)) continue
  atStart.add(file)
  for (const i of result.metafile.outputs[file]?.imports ?? [])
    if (i.kind === 'import-statement' && !i.external) pending.push(i.path)
}
const eager = [...atStart].flatMap((file) =>
  Object.keys(result.metafile.outputs[file]?.inputs ?? {}).filter((input) => RUN_ONLY.test(input)),
)
if (eager.length > 0) {
  console.error(
    `bundle-cli: the CLI would load ${eager[0]} (and ${eager.length - 1} more) at every start; import it with await import() where it is used`,
  )
  process.exit(1)
}

const outputs = Object.entries(result.metafile.outputs)
const total = outputs.reduce((sum, [, o]) => sum + o.bytes, 0)
const main = outputs.find(([file]) => file.endsWith('main.js'))?.[1].bytes ?? 0
console.error(
  `bundle-cli: ${relative(root, outdir)}/main.js (${(main / 1024).toFixed(0)} KB) and ${outputs.length - 1} chunks (${(total / 1024).toFixed(0)} KB in all)`,
)
