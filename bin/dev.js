#!/usr/bin/env -S node --import tsx
import { execute } from '@oclif/core'

// The AWS SDK warns on every run under Node 20 that its 2027 releases will need Node 22. We pin SDK
// versions that support Node 20 and say so in the README; the warning would only be noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

// As in bin/run.js: the update check only for a person at a terminal.
if (process.env.CI || process.argv.includes('--json') || !process.stderr.isTTY) {
  process.env.GARMIN_S3_SKIP_NEW_VERSION_CHECK ??= 'true'
}

await execute({ development: true, dir: import.meta.url })
