#!/usr/bin/env node
// Runs `npm run build` when the build is missing or older than what it is built from, so that
// `npm test` never runs the end-to-end tests against a stale dist/ (they spawn the built CLI).
// The build writes oclif.manifest.json last: its time is the build's time.
// It is also the package's `prepare` script (`--prepare`), which npm runs after `npm ci` in a clone and
// when it installs garmin-s3 from git (`npx --package github:owner/repo#tag garmin-s3`, what a workflow
// written with `init github-actions --package github:...` runs): dist/ is not in git, so without it such
// an install has no CLI. npm installs the devDependencies first there; where they are left out
// (`npm ci --omit=dev`), there is nothing to build with, and prepare says so instead of failing the install.
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')
const INPUTS = ['src', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']

function newest(path) {
  let stat
  try {
    stat = statSync(path)
  } catch {
    return 0
  }
  if (!stat.isDirectory()) return stat.mtimeMs
  let latest = stat.mtimeMs
  for (const entry of readdirSync(path)) latest = Math.max(latest, newest(join(path, entry)))
  return latest
}

let built = 0
try {
  built = statSync(join(root, 'oclif.manifest.json')).mtimeMs
} catch {
  // Never built.
}
const source = Math.max(...INPUTS.map((input) => newest(join(root, input))))
if (built >= source) process.exit(0)
if (process.argv.includes('--prepare') && !existsSync(join(root, 'node_modules', 'typescript'))) {
  console.log(
    'garmin-s3: not building, the devDependencies are not installed: npm ci --include=dev && npm run build',
  )
  process.exit(0)
}
console.log(built === 0 ? 'No build yet: npm run build' : 'dist/ is older than src/: npm run build')
const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' })
process.exit(result.status ?? 1)
