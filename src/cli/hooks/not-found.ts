/**
 * `garmin-s3 sycn`: an unknown command. At a terminal, @oclif/plugin-not-found asks "Did you mean
 * sync?" and runs it on yes. Without one (a script, CI, a pipe) that plugin asks nothing and prints
 * no suggestion either, so here the suggestion is printed instead of asked, and the run ends with
 * exit 2 (bad usage, README "Exit codes") rather than the plugin's 127, either way.
 *
 * The plugin is therefore not listed in package.json "oclif.plugins" (oclif runs every plugin's hook
 * for an event at once, and both would answer): this hook, package.json "oclif.hooks", calls it.
 */
import { type Hook, toConfiguredId } from '@oclif/core'
import askTheUser from '@oclif/plugin-not-found'
import { EXIT } from '../../errors.js'
import { closest } from '../suggest.js'

const hook: Hook.CommandNotFound = async function (options) {
  const { config, id } = options
  const helpLine = `  -> Run ${config.bin} help for a list of the commands.`
  if (process.stdin.isTTY && process.stdout.isTTY) {
    try {
      return await askTheUser.call(this, options)
    } catch (error) {
      // Declined (or no answer): the plugin's exit 127 becomes the usage exit every other bad input has.
      if ((error as { oclif?: { exit?: number } }).oclif?.exit !== 127) throw error
      process.stderr.write(`${helpLine}\n`)
      return this.exit(EXIT.usage)
    }
  }
  const visible = config.commands.filter((command) => !command.hidden)
  const ids = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)]
  const suggestion = closest(id, ids)
  const typed = toConfiguredId(id, config)
  const didYouMean = suggestion ? ` Did you mean ${config.bin} ${toConfiguredId(suggestion, config)}?` : ''
  // The same two lines as every other error (src/cli/base.ts): the error, then the next step.
  process.stderr.write(`Error: ${typed} is not a ${config.bin} command.${didYouMean}\n${helpLine}\n`)
  return this.exit(EXIT.usage)
}

export default hook
