#!/usr/bin/env -S node --import tsx
import { execute } from '@oclif/core'

// The AWS SDK warns on every run under Node 20 that its 2027 releases will need Node 22. We pin SDK
// versions that support Node 20 and say so in the README; the warning would only be noise on stderr.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'

await execute({ development: true, dir: import.meta.url })
