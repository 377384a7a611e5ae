/**
 * The update warning of @oclif/plugin-warn-if-update-available, imported only when it can speak. The
 * plugin's own init hook imports its half-dozen modules (and reads the npm configuration files) on
 * every start, even when GARMIN_S3_SKIP_NEW_VERSION_CHECK (set by bin/run.js in CI, under --json and
 * without a terminal) makes it return at once: about a tenth of a no-op `sync` (docs/performance.md
 * "Start-up"). So the plugin is not listed in package.json "oclif.plugins" (its hook would run as
 * well); this hook, package.json "oclif.hooks", calls the plugin's when the check is on.
 */
import { createRequire } from 'node:module'
import { pathToFileURL } from 'node:url'
import type { Hook } from '@oclif/core'

/** The plugin's hook file, beside its entry (which exports nothing): its package exports only that. */
function pluginHookUrl(): string {
  const entry = createRequire(import.meta.url).resolve('@oclif/plugin-warn-if-update-available')
  return new URL('./hooks/init/check-update.js', pathToFileURL(entry)).href
}

const hook: Hook.Init = async function (options) {
  if (options.config.scopedEnvVarTrue('SKIP_NEW_VERSION_CHECK')) return
  const { default: checkForUpdate } = (await import(pluginHookUrl())) as { default: Hook.Init }
  return checkForUpdate.call(this, options)
}

export default hook
