/**
 * The "Try it without an account" walkthrough of the README, run exactly as
 * written: the block after the `<!-- try-it -->` marker, in a scratch folder that looks like a clone
 * (symlinks to this checkout), so the files it makes stay out of the repository.
 */
import { cp, mkdtemp, readdir, readFile, rm, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { runProcess } from '../helpers/process.js'
import { assertBuilt, ROOT } from './sync-helpers.js'

let dir: string

beforeAll(async () => {
  assertBuilt()
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-try-it-'))
  for (const name of ['package.json', 'node_modules', 'bin', 'src', 'tsconfig.json']) {
    await symlink(join(ROOT, name), join(dir, name))
  }
  // The simulator's entry point checks that it is the main module, which a symlinked path defeats: copy it.
  await cp(join(ROOT, 'test', 'sim'), join(dir, 'test', 'sim'), {
    recursive: true,
    filter: (source) => !source.endsWith('.test.ts'),
  })
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

async function walkthrough(): Promise<string> {
  const doc = await readFile(join(ROOT, 'README.md'), 'utf8')
  const block = /<!-- try-it -->\s*```(?:sh|bash)\n([\s\S]*?)```/.exec(doc)?.[1]
  if (!block) throw new Error('README.md has no ```bash block after <!-- try-it -->')
  return block
}

it('the README walkthrough runs as written: sign in, sync, a rerun that writes nothing, a DuckDB query', async () => {
  const script = await walkthrough()
  // Whatever the script left running (the simulator, if `kill %1` missed it) goes with its process group.
  const { code, stdout, stderr } = await runProcess('bash', ['-e', '-c', script], {
    cwd: dir,
    killGroupOnExit: true,
    env: {
      PATH: process.env.PATH,
      HOME: dir,
      NO_COLOR: '1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    },
  })
  expect(code, `${stdout}\n${stderr}`).toBe(0)
  expect(stdout).toMatch(/Signed in to Garmin Connect/)
  expect(stdout).toMatch(/✔ Copied 500 new activities to .*garmin-data\/raw-data\/garmin-json\//)
  expect(stdout).toMatch(/✔ Up to date: nothing new[\s\S]*requests: Garmin 1 · storage 3/)
  expect(stdout).toMatch(/│\s+sport\s+│\s+activities\s+│\s+km\s+│/)
  expect(stdout).toMatch(/│\s+running\s+│\s+\d+\s+│/)
  expect(await readdir(join(dir, 'garmin-data', 'raw-data', 'garmin-json'))).toHaveLength(500)
}, 90_000)
