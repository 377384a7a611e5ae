#!/usr/bin/env node
import { execute } from '@oclif/core'

// The AWS SDK warns on every run under Node 20 that its 2027 releases will need Node 22. We pin SDK
// versions that support Node 20 and say so in the README; the warning would only be noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// @oclif/plugin-warn-if-update-available asks the npm registry (in a detached process, once a week)
// and then warns on stderr. Only a person at a terminal reads that warning: in CI, under --json, or
// with stderr not a terminal (a script, cron, a test) it neither asks nor warns.
if (process.env.CI || process.argv.includes('--json') || !process.stderr.isTTY) {
  process.env.GARMIN_S3_SKIP_NEW_VERSION_CHECK ??= 'true'
}

await execute({ dir: import.meta.url })
