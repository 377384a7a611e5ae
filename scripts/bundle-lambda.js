#!/usr/bin/env node
// Bundles the Lambda handler alone into ONE ESM file, dist/lambda/index.mjs, which `garmin-s3 deploy`
// zips and uploads. The AWS SDK clients are bundled in (tree-shaken, minified) because the version
// the Lambda runtime happens to ship is not ours to pin.
import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'))
const outfile = process.argv[2] ?? join(root, 'dist', 'lambda', 'index.mjs')

const result = await build({
  entryPoints: [join(root, 'src', 'lambda', 'handler.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  target: 'node22',
  format: 'esm',
  minify: true,
  treeShaking: true,
  // Prefer the ES module builds: they tree-shake far better than the CommonJS ones.
  mainFields: ['module', 'main'],
  legalComments: 'none',
  // Error names (AuthError, ConfigError...) are what the logs and Lambda's errorType show.
  keepNames: true,
  // impit (a native, optional TLS transport) is for signing in on a laptop; the function only refreshes.
  external: ['impit'],
  metafile: true,
  logLevel: 'warning',
  define: { __GARMIN_S3_VERSION__: JSON.stringify(pkg.version) },
  // Some bundled CommonJS dependencies call require() for Node built-ins; ESM has no require of its own.
  banner: {
    js: "import { createRequire as __garminS3CreateRequire } from 'node:module'; const require = __garminS3CreateRequire(import.meta.url);",
  },
})

const bytes = Object.values(result.metafile.outputs)[0]?.bytes ?? 0
console.error(`bundle-lambda: ${outfile} (${(bytes / 1024).toFixed(0)} KB)`)
