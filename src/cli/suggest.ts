/**
 * What to do with a command line whose command oclif did not find (src/cli/hooks/not-found.ts does
 * it): run the command it did name after all, suggest the one meant, or say that there is none. One
 * decision for every way of running: at a terminal the suggestion is asked, elsewhere printed, and
 * both offer the same command or none.
 */

import { toConfiguredId } from '@oclif/core'
import type { Config } from '@oclif/core/interfaces'
import { closest } from '../closest.js'
import { EXIT } from '../errors.js'

/** The commands a suggestion may name, as oclif's config knows them. */
export interface CommandIndex {
  /** Every visible command id and alias, in oclif's form (`init:github-actions`). */
  ids: readonly string[]
  isCommand(id: string): boolean
  isTopic(id: string): boolean
  /** The name the user sees: `init github-actions`. */
  shown(id: string): string
  bin: string
}

/** The index of `config`'s visible commands. */
export function commandIndex(config: Config): CommandIndex {
  const visible = config.commands.filter((command) => !command.hidden)
  return {
    ids: [...visible.map((command) => command.id), ...visible.flatMap((command) => command.aliases)],
    isCommand: (id) => config.findCommand(id) !== undefined,
    isTopic: (id) => config.findTopic(id) !== undefined,
    shown: (id) => toConfiguredId(id, config),
    bin: config.bin,
  }
}

export interface UsageProblem {
  message: string
  hint: string
}

type NotFound =
  /** A command after all (`login user@x`, `--json sync`): run it with these words. */
  | { kind: 'run'; id: string; argv: string[] }
  /**
   * A mistyped command with a close one (`sycn`): at a terminal and without --json, ask whether
   * `suggestion` was meant (oclif's id of the typed words is `typed`, the rest goes to it as `argv`);
   * otherwise print `problem`.
   */
  | {
      kind: 'suggest'
      typed: string
      suggestion: string
      argv: string[]
      json: boolean
      problem: UsageProblem
    }
  /** Nothing to run or to offer: print `problem`, exit 2. */
  | { kind: 'refuse'; json: boolean; problem: UsageProblem }

/** The only flag every command takes (BaseCommand's enableJsonFlag): it may come before the command. */
const GLOBAL_FLAG = '--json'

/**
 * `id` and `argv` as oclif's command_not_found hook gets them: the words oclif took for a command name
 * (`sycn`, `login:user@x`, or a flag given first, `--json`) and the words after them.
 */
export function resolveNotFound(id: string, argv: readonly string[], commands: CommandIndex): NotFound {
  const help = `Run ${commands.bin} help for a list of the commands.`
  // `--json sycn`: oclif takes the first word for the command's name, flag or not. A global flag is
  // moved behind the command it comes before; any other flag is one of a command's, so out of place.
  if (id.startsWith('-')) {
    const words = [id, ...argv]
    let start = 0
    while (words[start] === GLOBAL_FLAG) start++
    const first = words[start]
    if (first === undefined) return refuse(true, 'No command given.', help)
    if (first.startsWith('-'))
      return refuse(
        wantsJson(words),
        `${first} comes before a command; a ${commands.bin} command comes first, then its flags.`,
        help,
      )
    // The command's name is the words up to the first flag, as oclif reads them.
    let end = start + 1
    while (end < words.length && !words[end]!.startsWith('-') && !words[end]!.includes('=')) end++
    const name = words.slice(start, end).join(':')
    const rest = words.slice(end)
    if (commands.isCommand(name)) return { kind: 'run', id: name, argv: [GLOBAL_FLAG, ...rest] }
    const named = resolveNotFound(name, rest, commands)
    if (named.kind === 'run') return { ...named, argv: [GLOBAL_FLAG, ...named.argv] }
    return { ...named, json: true }
  }
  // `login user@x`: oclif reads the words after a command as more of its name (a topic's commands
  // are words too), so an extra argument arrives here as the command "login user@x". The longest
  // start of it that is a command is the one meant: it runs with the other words, and its parser
  // refuses them as it does after a flag (src/cli/base.ts: one line and the usage, exit 2, or one
  // JSON error with --json).
  const words = id.split(':')
  for (let n = words.length - 1; n > 0; n--) {
    const command = words.slice(0, n).join(':')
    if (commands.isCommand(command)) return { kind: 'run', id: command, argv: [...words.slice(n), ...argv] }
  }
  const json = wantsJson(argv)
  // `init x`: the words a topic starts (init) are right, the next one is the mistake.
  let topic = 0
  for (let n = words.length - 1; n > 0; n--) {
    if (commands.isTopic(words.slice(0, n).join(':'))) {
      topic = n
      break
    }
  }
  // `logn user@x`, `catalg athena x`: the mistyped command is the first word(s), the rest its
  // arguments, so the suggestion is a command of as many words as a start of what was typed.
  for (let n = words.length; n > topic; n--) {
    const typed = words.slice(0, n).join(':')
    const suggestion = closest(
      typed,
      commands.ids.filter((candidate) => candidate.split(':').length === n),
    )
    if (suggestion) {
      const message = `${commands.shown(typed)} is not a ${commands.bin} command. Did you mean ${commands.bin} ${commands.shown(suggestion)}?`
      return {
        kind: 'suggest',
        typed,
        suggestion,
        argv: [...words.slice(n), ...argv],
        json,
        problem: { message, hint: help },
      }
    }
  }
  const typed = commands.shown(words.slice(0, topic + 1).join(':'))
  const message = `${typed} is not a ${commands.bin} command.`
  if (topic === 0) return refuse(json, message, help)
  const name = words.slice(0, topic).join(':')
  const listed = commands.ids
    .filter((command) => command.startsWith(`${name}:`))
    .map((command) => `${commands.bin} ${commands.shown(command)}`)
  const shown = commands.shown(name)
  return refuse(
    json,
    `${message} The ${shown} commands: ${listed.join(', ')}.`,
    `Run ${commands.bin} help ${shown} for what they do.`,
  )
}

function refuse(json: boolean, message: string, hint: string): NotFound {
  return { kind: 'refuse', json, problem: { message, hint } }
}

/** `--json` among the words before a `--` (after it, a word is an argument), as oclif's parser reads it. */
function wantsJson(argv: readonly string[]): boolean {
  const end = argv.indexOf('--')
  return (end === -1 ? argv : argv.slice(0, end)).includes(GLOBAL_FLAG)
}

/**
 * The same as every other usage error (src/cli/base.ts): the error and the next step on stderr, or
 * one JSON error on stdout with --json (docs/json.md).
 */
export function printProblem(problem: UsageProblem, json: boolean): void {
  if (json) {
    const error = { name: 'UsageError', message: problem.message, hint: problem.hint, exitCode: EXIT.usage }
    process.stdout.write(`${JSON.stringify({ error }, null, 2)}\n`)
  } else process.stderr.write(`Error: ${problem.message}\n  -> ${problem.hint}\n`)
}
