/**
 * Every example a command's --help shows is a command line that command accepts: the command it names
 * exists, and its own flag definitions (oclif's parser, with the flags' types, options, limits,
 * required and exclusive ones) take the words as they stand. Only the parsing: nothing runs, nothing
 * is read from the network or the disk.
 */
import { boolean } from '@oclif/core/flags'
import { parse } from '@oclif/core/parser'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'

const BIN = 'garmin-s3'

type Example = string | { command: string; description: string }

/** The example as --help prints it: oclif renders `<%= config.bin %>` and `<%= command.id %>`. */
function render(example: Example, id: string): string {
  const text = typeof example === 'string' ? example : example.command
  return text
    .replaceAll(/<%=\s*config\.bin\s*%>/g, BIN)
    .replaceAll(/<%=\s*command\.id\s*%>/g, id.replaceAll(':', ' '))
}

/** The words a POSIX shell would pass: single and double quotes group, nothing is expanded. */
function shellWords(line: string): string[] {
  const words: string[] = []
  let word: string | undefined
  let quote: '"' | "'" | undefined
  for (const char of line) {
    if (quote) {
      if (char === quote) quote = undefined
      else word += char
    } else if (char === '"' || char === "'") {
      quote = char
      word ??= ''
    } else if (/\s/.test(char)) {
      if (word !== undefined) words.push(word)
      word = undefined
    } else word = (word ?? '') + char
  }
  if (quote) throw new Error(`unclosed ${quote} in: ${line}`)
  if (word !== undefined) words.push(word)
  return words
}

type CommandClass = (typeof COMMANDS)[keyof typeof COMMANDS]

/**
 * The command an example runs and the words after it: `VAR=value` assignments before the program
 * name are the shell's, the longest start of the following words that is a command id is the command.
 */
function commandOf(line: string): { id: string | undefined; argv: string[] } {
  const words = shellWords(line)
  const start = words.findIndex((word) => !/^[A-Z_][A-Z0-9_]*=/.test(word))
  expect(words[start], `${line}: runs ${BIN}`).toBe(BIN)
  const rest = words.slice(start + 1)
  for (let n = rest.length; n > 0; n--) {
    const id = rest.slice(0, n).join(':')
    if (Object.hasOwn(COMMANDS, id)) return { id, argv: rest.slice(n) }
  }
  return { id: undefined, argv: rest }
}

/**
 * The flags as the command defines them (its own, the base ones, and --json, which oclif adds for
 * `enableJsonFlag`), without their environment variables: an example must stand on its own, whatever
 * this shell has set.
 */
function flagsOf(command: CommandClass) {
  const json = command.enableJsonFlag ? { json: boolean() } : {}
  const all = { ...json, ...command.baseFlags, ...command.flags }
  return Object.fromEntries(Object.entries(all).map(([name, flag]) => [name, { ...flag, env: undefined }]))
}

const cases = Object.entries(COMMANDS).flatMap(([id, command]) =>
  ((command.examples ?? []) as Example[]).map((example) => [id, render(example, id)] as const),
)

describe('the examples of --help', () => {
  it('every command has some', () => {
    for (const [id, command] of Object.entries(COMMANDS))
      expect((command.examples ?? []).length, id).toBeGreaterThan(0)
  })

  it.each(cases)('%s: %s', async (id, line) => {
    expect(line, 'a template oclif would not render').not.toContain('<%')
    const { id: named, argv } = commandOf(line)
    expect(named, `${line}: names a command`).toBe(id)
    const command = COMMANDS[id as keyof typeof COMMANDS]
    // Throws on an unknown flag, a flag without its value, a bad value, a missing required flag,
    // conflicting flags or an extra argument, as the command itself would (exit 2).
    const refused = await parse(argv, {
      flags: flagsOf(command),
      args: command.args ?? {},
      strict: command.strict ?? true,
    }).then(
      () => undefined,
      (error: Error) => error.message,
    )
    expect(refused, line).toBeUndefined()
  })
})

describe('the checks themselves', () => {
  it('split quoted words as a shell does', () => {
    expect(shellWords(`a --schedule "cron(0 12 * * ? *)" --x 'y z' ""`)).toEqual([
      'a',
      '--schedule',
      'cron(0 12 * * ? *)',
      '--x',
      'y z',
      '',
    ])
  })

  it('refuse what the command would refuse', async () => {
    const sync = COMMANDS.sync
    const parseSync = (argv: string[]) => parse(argv, { flags: flagsOf(sync), args: sync.args ?? {} })
    await expect(parseSync(['--nope'])).rejects.toThrow(/Nonexistent flag: --nope/)
    await expect(parseSync(['--out'])).rejects.toThrow(/expects a value/)
    await expect(parseSync(['--concurrency', '0'])).rejects.toThrow(/greater than or equal to 1/)
    const deploy = COMMANDS.deploy
    await expect(parse([], { flags: flagsOf(deploy), args: deploy.args ?? {} })).rejects.toThrow(
      /Missing required flag bucket/,
    )
    expect(commandOf(`${BIN} snyc --out x`).id).toBeUndefined()
  })
})
