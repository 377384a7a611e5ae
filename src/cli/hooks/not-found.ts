/**
 * `garmin-s3 sycn`: an unknown command (and `garmin-s3 login user@x`, a command with an extra word, or
 * `garmin-s3 --json sync`, a flag before the command). What it means is decided once, for a terminal
 * and without one alike (`resolveNotFound`, src/cli/suggest.ts): the command to run after all, the one
 * most likely meant, or none within a few edits. At a terminal, @oclif/plugin-not-found asks "Did you
 * mean sync?" about that suggestion and runs it on yes. Without one (a script, CI, a pipe), or with
 * --json, the suggestion is printed instead of asked, and the run ends with exit 2 (bad usage, README
 * "Exit codes") rather than the plugin's 127, either way. With no command close, nothing is asked.
 *
 * The plugin is therefore not listed in package.json "oclif.plugins" (oclif runs every plugin's hook
 * for an event at once, and both would answer): this hook, package.json "oclif.hooks", calls it.
 */
import type { Hook } from '@oclif/core'
import type { Config } from '@oclif/core/interfaces'
import askTheUser from '@oclif/plugin-not-found'
import { EXIT } from '../../errors.js'
import { commandIndex, printProblem, resolveNotFound } from '../suggest.js'

const hook: Hook.CommandNotFound = async function (options) {
  const { config } = options
  const verdict = resolveNotFound(options.id, options.argv ?? [], commandIndex(config))
  if (verdict.kind === 'run') return config.runCommand(verdict.id, verdict.argv)
  if (verdict.kind === 'suggest' && !verdict.json && process.stdin.isTTY && process.stdout.isTTY) {
    // The plugin asks about the closest of the ids its config lists and runs the answer with argv (or,
    // with none, with the id's other words). Given a config that lists only the suggestion, it asks
    // about that one; given the mistyped words only as the id, the rest go on to the command as typed.
    try {
      return await askTheUser.call(this, {
        ...options,
        config: listingOnly(config, verdict.suggestion),
        id: verdict.typed,
        argv: verdict.argv,
      })
    } catch (error) {
      // Declined (or no answer): the plugin's exit 127 becomes the usage exit every other bad input has.
      if ((error as { oclif?: { exit?: number } }).oclif?.exit !== 127) throw error
      process.stderr.write(`  -> ${verdict.problem.hint}\n`)
      return this.exit(EXIT.usage)
    }
  }
  printProblem(verdict.problem, verdict.json)
  return this.exit(EXIT.usage)
}

/**
 * `config` as the plugin reads it (its command ids, its commands' aliases and hidden flags), listing
 * only `id`: everything else (the topics, the binary's name) is the real config's.
 */
function listingOnly(config: Config, id: string): Config {
  return Object.create(config, {
    commandIDs: { value: [id] },
    commands: { value: [] },
  }) as Config
}

export default hook
