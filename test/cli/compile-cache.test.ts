/**
 * On Node 22.1 and newer the CLI keeps V8's compiled code of its bundle on disk (bin/run.js calls
 * `module.enableCompileCache()`), so a start compiles the bundle once rather than every time. On Node
 * 24 (the binary `bash .ci/run` installs), with nothing set but TMPDIR: the first run fills
 * <tmpdir>/node-compile-cache, a second run answers the same from it, and NODE_DISABLE_COMPILE_CACHE=1
 * leaves no cache behind. (NODE_COMPILE_CACHE alone would turn the cache on without bin/run.js's call.)
 */
import { mkdir, readdir } from 'node:fs/promises'
import module from 'node:module'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, CLI, tempDir } from '../e2e/sync-helpers.js'
import { findNode24 } from '../helpers/node24.js'
import { runProcess } from '../helpers/process.js'

const node24 = findNode24()
let home: Awaited<ReturnType<typeof tempDir>>

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('compile-cache')
})

afterAll(async () => {
  await home?.remove()
})

/** Every file below `dir`, as paths (none when it does not exist). */
async function filesIn(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir, { recursive: true, withFileTypes: true }))
      .filter((entry) => entry.isFile())
      .map((entry) => join(entry.parentPath, entry.name))
  } catch {
    return []
  }
}

function help(node: string, env: NodeJS.ProcessEnv) {
  return runProcess(node, [CLI, 'sync', '--help'], {
    env: { PATH: process.env.PATH, HOME: home.path, NO_COLOR: '1', CI: 'true', ...env },
  })
}

describe.skipIf(!node24)('the compile cache (Node 22.1+)', () => {
  it('a first run fills <tmpdir>/node-compile-cache, and a second answers the same from it', async () => {
    const tmp = join(home.path, 'tmp')
    await mkdir(tmp)
    const cache = join(tmp, 'node-compile-cache')
    const first = await help(node24 ?? '', { TMPDIR: tmp })
    expect(first.code).toBe(0)
    expect(first.stdout).toContain('USAGE')
    const cached = await filesIn(cache)
    expect(cached.length).toBeGreaterThan(0)
    const second = await help(node24 ?? '', { TMPDIR: tmp })
    expect(second).toMatchObject({ code: 0, stdout: first.stdout, stderr: first.stderr })
  })

  it('NODE_DISABLE_COMPILE_CACHE=1 turns it off', async () => {
    const tmp = join(home.path, 'disabled')
    await mkdir(tmp)
    const r = await help(node24 ?? '', { TMPDIR: tmp, NODE_DISABLE_COMPILE_CACHE: '1' })
    expect(r.code).toBe(0)
    expect(await filesIn(tmp)).toEqual([])
  })
})

describe.skipIf('enableCompileCache' in module)('on Node 20 (no compile cache)', () => {
  it('the CLI starts as before and writes no cache', async () => {
    const tmp = join(home.path, 'node20')
    await mkdir(tmp)
    const r = await help(process.execPath, { TMPDIR: tmp })
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('USAGE')
    expect(await filesIn(tmp)).toEqual([])
  })
})
