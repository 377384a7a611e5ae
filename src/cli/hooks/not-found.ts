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
  const argv = options.argv ?? []
  const json = wantsJson(argv)
  const visible = config.commands.filter((command) => !command.hidden)
  const ids = [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)]
  // `init x`: the words a topic starts (init) are right, the next one is the mistake.
  let topic = 0
  for (let n = words.length - 1; n > 0; n--) {
    if (config.findTopic(words.slice(0, n).join(':'))) {
      topic = n
      break
    }
  }
  // `logn user@x`, `catalg athena x`: the mistyped command is the first word(s), the rest its
  // arguments, so the suggestion is a command of as many words as a start of what was typed.
  let meant: { typed: number; suggestion: string } | undefined
  for (let n = words.length; n > topic && !meant; n--) {
    const suggestion = closest(
      words.slice(0, n).join(':'),
      ids.filter((candidate) => candidate.split(':').length === n),
    )
    if (suggestion) meant = { typed: n, suggestion }
  }
  if (!json && process.stdin.isTTY && process.stdout.isTTY) {
    // The plugin asks about the id it is given and runs the answer with argv (or, with none, with the
    // id's other words): given the mistyped words only, the rest go on to the command as typed.
    const asked = meant
      ? {
          ...options,
          id: words.slice(0, meant.typed).join(':'),
          argv: [...words.slice(meant.typed), ...argv],
        }
      : options
    try {
      return await askTheUser.call(this, asked)
    } catch (error) {
      // Declined (or no answer): the plugin's exit 127 becomes the usage exit every other bad input has.
      if ((error as { oclif?: { exit?: number } }).oclif?.exit !== 127) throw error
      process.stderr.write(`  -> Run ${config.bin} help for a list of the commands.\n`)
      return this.exit(EXIT.usage)
    }
  }
  const typed = toConfiguredId(words.slice(0, meant?.typed ?? topic + 1).join(':'), config)
  let message = `${typed} is not a ${config.bin} command.`
  let hint = `Run ${config.bin} help for a list of the commands.`
  if (meant) message += ` Did you mean ${config.bin} ${toConfiguredId(meant.suggestion, config)}?`
  else if (topic > 0) {
    const name = words.slice(0, topic).join(':')
    const commands = visible
      .filter((command) => command.id.startsWith(`${name}:`))
      .map((command) => `${config.bin} ${toConfiguredId(command.id, config)}`)
    const shown = toConfiguredId(name, config)
    message += ` The ${shown} commands: ${commands.join(', ')}.`
    hint = `Run ${config.bin} help ${shown} for what they do.`
  }
  // The same as every other usage error (src/cli/base.ts): the error and the next step on stderr, or
  // one JSON error on stdout with --json (docs/json.md).
  if (json) {
    const error = { name: 'UsageError', message, hint, exitCode: EXIT.usage }
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`)
  } else process.stderr.write(`Error: ${message}\n  -> ${hint}\n`)
  return this.exit(EXIT.usage)
}

/** `--json` among the words before a `--` (after it, a word is an argument), as oclif's parser reads it. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes('--json')
}

export default hook
