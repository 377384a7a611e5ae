/**
 * oclif finds the commands only in COMMANDS of src/commands/index.ts (package.json "oclif.commands",
 * the explicit strategy; it is also where the CLI bundle starts): a command file left out of it would
 * be built and shipped, but never run.
 */
import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'

const DIR = fileURLToPath(new URL('../../src/commands/', import.meta.url))

describe('the command list', () => {
  it('holds every command file under its oclif id, and nothing else', async () => {
    const files = (await readdir(DIR, { recursive: true }))
      .filter((file) => file.endsWith('.ts') && file !== 'index.ts')
      .map((file) => relative(DIR, join(DIR, file)).replace(/\.ts$/, '').split(/[\\/]/).join(':'))
    expect(Object.keys(COMMANDS).sort()).toEqual(files.sort())
    for (const [id, command] of Object.entries(COMMANDS)) {
      const file = join(DIR, `${id.split(':').join('/')}.ts`)
      const module = (await import(file)) as { default: unknown }
      expect(module.default, id).toBe(command)
    }
  })
})
