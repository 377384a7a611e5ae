/**
 * `garmin-s3 sycn`: an unknown command (and `garmin-s3 login user@x`, a command with an extra word). At a terminal, @oclif/plugin-not-found asks "Did you mean
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
  // `login user@x`: oclif reads the words after a command as more of its name (a topic's commands
  // are words too), so an extra argument arrives here as the command "login user@x". The longest
  // start of it that is a command is the one meant: it runs with the other words, and its parser
  // refuses them as it does after a flag (src/cli/base.ts: one line and the usage, exit 2, or one
  // JSON error with --json).
  const words = id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const command = words.slice(0, n).join(':')
    if (config.findCommand(command))
      return config.runCommand(command, [...words.slice(n), ...(options.argv ?? [])])
  }
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
