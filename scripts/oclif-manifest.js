#!/usr/bin/env node
// Writes oclif.manifest.json (what `oclif manifest` does, with @oclif/core alone): the commands' ids
// and flags, read from the CLI bundle (package.json "oclif.commands", scripts/bundle-cli.js). With it,
// oclif lists commands and prints help without importing any command, and a run imports only the
// bundle. Run after the bundle (npm run build); an older manifest hides commands added since.
import { writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { Plugin } from '@oclif/core'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
const plugin = new Plugin({
  root,
  type: 'core',
  isRoot: true,
  ignoreManifest: true,
  errorOnManifestCreate: true,
  respectNoCacheDefault: true,
})
await plugin.load()
const file = join(root, 'oclif.manifest.json')
await writeFile(file, `${JSON.stringify(plugin.manifest, null, 2)}\n`)
console.log(`oclif.manifest.json: ${Object.keys(plugin.manifest.commands).sort().join(', ')}`)
