/**
 * What a command line oclif found no command for means (src/cli/suggest.ts), decided once for a
 * terminal, where the suggestion is asked, and for a script, where it is printed: the same command is
 * offered, or none. The built CLI's output is in test/cli/conventions.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { type CommandIndex, resolveNotFound } from '../../src/cli/suggest.js'
import { closest } from '../../src/closest.js'

const IDS = [
  'autocomplete',
  'catalog:athena',
  'curate',
  'deploy',
  'destroy',
  'doctor',
  'help',
  'init:github-actions',
  'login',
  'logout',
  'status',
  'sync',
]

const COMMANDS: CommandIndex = {
  ids: IDS,
  isCommand: (id) => IDS.includes(id),
  isTopic: (id) => IDS.some((command) => command.startsWith(`${id}:`)),
  shown: (id) => id.replaceAll(':', ' '),
  bin: 'garmin-s3',
}

const HELP = 'Run garmin-s3 help for a list of the commands.'

describe('the command a typo meant', () => {
  it('is one within 2 edits, or a third of a long word', () => {
    const cases: [string, string | undefined][] = [
      ['sycn', 'sync'],
      ['snyc', 'sync'],
      ['logn', 'login'],
      ['lgout', 'logout'],
      ['stat', 'status'],
      ['docter', 'doctor'],
      ['destroyy', 'destroy'],
      // Far from every command: nothing rather than an unrelated one.
      ['backup', undefined],
      ['update', undefined], // 3 edits from curate
      ['statistics', undefined], // 5 from status
      ['x', undefined],
      ['config', undefined],
    ]
    for (const [typed, meant] of cases)
      expect(
        closest(
          typed,
          IDS.filter((id) => !id.includes(':')),
        ),
        typed,
      ).toBe(meant)
    // A long name allows a third of its length: 16 characters, up to 5 edits (this one has 3).
    expect(closest('init:gthb-actons', ['init:github-actions'])).toBe('init:github-actions')
    expect(closest('init:xxxxxxxxxxxxx', ['init:github-actions'])).toBeUndefined()
  })

  it('is asked about, or printed, as the same suggestion', () => {
    expect(resolveNotFound('sycn', ['--out', 'x'], COMMANDS)).toEqual({
      kind: 'suggest',
      typed: 'sycn',
      suggestion: 'sync',
      argv: ['--out', 'x'],
      json: false,
      problem: { message: 'sycn is not a garmin-s3 command. Did you mean garmin-s3 sync?', hint: HELP },
    })
    // oclif reads the words before a flag as the command's name: the typed command is its first word.
    expect(resolveNotFound('logn:user@x', [], COMMANDS)).toMatchObject({
      kind: 'suggest',
      typed: 'logn',
      suggestion: 'login',
      argv: ['user@x'],
    })
  })

  it('is none when nothing is close: the usage error, with help as the next step', () => {
    for (const typed of ['backup', 'update'])
      expect(resolveNotFound(typed, [], COMMANDS)).toEqual({
        kind: 'refuse',
        json: false,
        problem: { message: `${typed} is not a garmin-s3 command.`, hint: HELP },
      })
    expect(resolveNotFound('init:x', [], COMMANDS)).toEqual({
      kind: 'refuse',
      json: false,
      problem: {
        message: 'init x is not a garmin-s3 command. The init commands: garmin-s3 init github-actions.',
        hint: 'Run garmin-s3 help init for what they do.',
      },
    })
  })

  it('a command with an extra word runs that command, which refuses the word', () => {
    expect(resolveNotFound('login:user@x', ['--json'], COMMANDS)).toEqual({
      kind: 'run',
      id: 'login',
      argv: ['user@x', '--json'],
    })
  })
})

describe('a flag before the command', () => {
  it('--json before a right command runs it with --json', () => {
    expect(resolveNotFound('--json', ['sync', '--out', 'x'], COMMANDS)).toEqual({
      kind: 'run',
      id: 'sync',
      argv: ['--json', '--out', 'x'],
    })
    expect(resolveNotFound('--json', ['init', 'github-actions', '--bucket', 'b'], COMMANDS)).toEqual({
      kind: 'run',
      id: 'init:github-actions',
      argv: ['--json', '--bucket', 'b'],
    })
  })

  it('--json before a mistyped command: the suggestion, in JSON, never asked', () => {
    expect(resolveNotFound('--json', ['sycn'], COMMANDS)).toMatchObject({
      kind: 'suggest',
      suggestion: 'sync',
      json: true,
      problem: { message: 'sycn is not a garmin-s3 command. Did you mean garmin-s3 sync?', hint: HELP },
    })
    expect(resolveNotFound('--json', ['backup'], COMMANDS)).toEqual({
      kind: 'refuse',
      json: true,
      problem: { message: 'backup is not a garmin-s3 command.', hint: HELP },
    })
    expect(resolveNotFound('--json', [], COMMANDS)).toEqual({
      kind: 'refuse',
      json: true,
      problem: { message: 'No command given.', hint: HELP },
    })
  })

  it("another flag before the command is one of a command's, out of place", () => {
    const message = '--out comes before a command; a garmin-s3 command comes first, then its flags.'
    expect(resolveNotFound('--out', ['x', 'sync'], COMMANDS)).toEqual({
      kind: 'refuse',
      json: false,
      problem: { message, hint: HELP },
    })
    expect(resolveNotFound('--out', ['x', 'sync', '--json'], COMMANDS)).toMatchObject({ json: true })
  })
})
