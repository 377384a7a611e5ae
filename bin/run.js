#!/usr/bin/env node
import { readFileSync } from 'node:fs'
import module from 'node:module'
import { arch, platform, release } from 'node:os'

// The AWS SDK warns on every run under Node 20 that its 2027 releases will need Node 22. We pin SDK
// versions that support Node 20 and say so in the README; the warning would only be noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// @oclif/plugin-warn-if-update-available asks the npm registry (in a detached process, once a week)
// and then warns on stderr. Only a person at a terminal reads that warning: in CI, under --json, or
// with stderr not a terminal (a script, cron, a test) it neither asks nor warns.
if (process.env.CI || process.argv.includes('--json') || !process.stderr.isTTY) {
  process.env.GARMIN_S3_SKIP_NEW_VERSION_CHECK ??= 'true'
}

/**
 * `--version` / `-v` without loading oclif (docs/performance.md "Start-up"): the line oclif prints,
 * `garmin-s3/<version> <platform>-<arch> node-<version>` (Config.userAgent). Only where oclif would
 * print nothing else: when the update check is off (at a terminal its init hook may warn first), and
 * not on WSL, which oclif names `wsl` after a check of its own.
 */
function fastVersion() {
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
  const flags = ['--version', ...(pjson.oclif?.additionalVersionFlags ?? [])]
  if (!flags.includes(process.argv[2]) || process.env.GARMIN_S3_SKIP_NEW_VERSION_CHECK !== 'true')
    return false
  if (platform() === 'linux' && mentionsMicrosoft()) return false
  const cpu = arch() === 'ia32' ? 'x86' : arch()
  process.stdout.write(`${pjson.name}/${pjson.version} ${platform()}-${cpu} node-${process.version}\n`)
  return true
}

function mentionsMicrosoft() {
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    return readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')
  } catch {
    return false
  }
}

if (!fastVersion()) {
  // Node 22.1 and newer keep V8's compiled code of what is imported from here on disk (NODE_COMPILE_CACHE,
  // else <tmpdir>/node-compile-cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off), so a start compiles
  // the bundle once, not every time: a no-op sync takes about a quarter less on Node 24
  // (docs/performance.md "Start-up"). Node 20 has no compile cache: nothing happens there.
  module.enableCompileCache?.()
  // oclif and every command in one bundle (scripts/bundle-cli.js): package.json "oclif.commands"
  // names the same file, so the commands extend the oclif that runs them.
  const { execute } = await import('../dist/bundle/main.js')
  await execute({ dir: import.meta.url })
}
