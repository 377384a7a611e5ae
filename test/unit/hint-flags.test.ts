/**
 * Every `garmin-s3 <command> ... --flag` written in the source (hints, messages, help texts, examples)
 * and in the docs names a flag that command has: a next step that the command then refuses as a
 * nonexistent flag is worse than none. The commands' flags are read from the command classes.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

type FlagDef = { allowNo?: boolean }
const flagsOf = (id: string): Record<string, FlagDef> => {
  const command = COMMANDS[id as keyof typeof COMMANDS] as unknown as {
    flags?: Record<string, FlagDef>
    enableJsonFlag?: boolean
  }
  return { ...command.flags, ...(command.enableJsonFlag ? { json: {} } : {}), help: {} }
}

function hasFlag(id: string, flag: string): boolean {
  const flags = flagsOf(id)
  if (flag in flags) return true
  return flag.startsWith('no-') && flags[flag.slice(3)]?.allowNo === true
}

/** Where a command line in prose or code ends: a quote, a backtick, a shell separator, a sentence. */
const ENDS = /[`'"|;&#)]|[.,:]$/

/** `[command, flag, where]` for each flag written after `garmin-s3 <command>` in `text`. */
function flagMentions(text: string, where: string): [string, string, string][] {
  const found: [string, string, string][] = []
  const lines = text.split('\n')
  lines.forEach((line, index) => {
    for (const match of line.matchAll(/(?:garmin-s3|<%= config\.bin %>) /g)) {
      const tokens = line.slice((match.index ?? 0) + match[0].length).split(/\s+/)
      let id: string | undefined
      for (const words of [2, 1]) {
        const candidate = tokens.slice(0, words)
        if (candidate.length === words && candidate.every((word) => /^[a-z][a-z-]*$/.test(word))) {
          if (candidate.join(':') in COMMANDS) {
            id = candidate.join(':')
            tokens.splice(0, words)
            break
          }
        }
      }
      if (!id) continue
      for (const token of tokens) {
        const flag = /^--([a-z][a-z0-9-]*)/.exec(token)?.[1]
        if (flag) found.push([id, flag, `${where}:${index + 1}`])
        if (ENDS.test(token)) break
      }
    }
  })
  return found
}

async function filesUnder(dir: string, ext: string): Promise<string[]> {
  const names = await readdir(join(ROOT, dir), { recursive: true })
  return names.filter((name) => name.endsWith(ext)).map((name) => join(dir, name))
}

describe('flags named after a command', () => {
  it('the scan finds what it should, and stops where a command line ends', () => {
    expect(
      flagMentions(
        [
          "hint: 'Run `garmin-s3 login --token-store ssm:/x` again, then garmin-s3 sync --out d.'",
          'garmin-s3 init github-actions --create-role --repo o/r',
          '`garmin-s3 logout` (or pass --region)',
          "'<%= config.bin %> sync --bucket b --days-back 3'",
          'the garmin-s3 command --nope',
        ].join('\n'),
        'x',
      ).map(([id, flag]) => `${id} --${flag}`),
    ).toEqual([
      'login --token-store',
      'sync --out',
      'init:github-actions --create-role',
      'init:github-actions --repo',
      'sync --bucket',
      'sync --days-back',
    ])
    expect(hasFlag('login', 'region')).toBe(false)
    expect(hasFlag('init:github-actions', 'no-issue')).toBe(true)
  })

  it('name only flags that command has, in src/, the README and docs/', async () => {
    const files = [...(await filesUnder('src', '.ts')), ...(await filesUnder('docs', '.md')), 'README.md']
    const wrong: string[] = []
    let checked = 0
    for (const file of files) {
      for (const [id, flag, where] of flagMentions(await readFile(join(ROOT, file), 'utf8'), file)) {
        checked++
        if (!hasFlag(id, flag)) wrong.push(`${where}: garmin-s3 ${id.replace(':', ' ')} has no --${flag}`)
      }
    }
    expect(wrong).toEqual([])
    // The scan saw the hints and examples (a broken pattern would find nothing and pass).
    expect(checked).toBeGreaterThan(100)
  })
})
