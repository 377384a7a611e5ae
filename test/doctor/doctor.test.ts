/**
 * `garmin-s3 doctor` as a user runs it (in process, real flag parsing and output) against the
 * simulator and a folder: a healthy setup passes every stage, and each stage that fails says so with
 * its own next step and the exit code used everywhere else.
 */
import { existsSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rename, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import Doctor from '../../src/commands/doctor.js'
import { EXIT } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import { runCommand } from '../helpers/command.js'
import { folderTree } from '../helpers/tree.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'

let sim: Simulator
let dir: string
let tokenPath: string

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-doctor-'))
  tokenPath = join(dir, 'tokens.json')
})
afterEach(() => sim?.close())

async function signedIn(options: SimOptions = {}): Promise<void> {
  sim = await startSimulator({ activities: 3, ...options })
  const client = new GarminClient({
    tokenStore: new FileTokenStore(tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
  })
  await client.login({ email: sim.user.email, password: sim.user.password })
}

interface Stage {
  stage: string
  result: string
  ms: number
  detail: string
  next: string | null
  exitCode: number
}

async function doctor(extra: string[] = [], env: NodeJS.ProcessEnv = {}) {
  const environment = { HOME: dir, GARMIN_S3_GARMIN_URL: sim.url, ...env }
  class TestDoctor extends Doctor {
    protected override env(): NodeJS.ProcessEnv {
      return environment
    }
  }
  const out = join(dir, 'lake')
  if (!existsSync(out)) await mkdir(out, { recursive: true })
  const json = await runCommand(TestDoctor, ['--out', out, '--token-store', tokenPath, '--json', ...extra])
  const text = await runCommand(TestDoctor, ['--out', out, '--token-store', tokenPath, ...extra])
  const stages = (json.json as { stages: Stage[] }).stages
  return { json, text, stages, byName: (name: string) => stages.find((s) => s.stage === name)! }
}

it('passes every stage of a healthy setup, and the store probe leaves nothing behind', async () => {
  await signedIn()
  const { json, text, stages } = await doctor()
  expect(json.exitCode).toBe(EXIT.ok)
  expect(json.json).toMatchObject({ exitCode: 0 })
  expect(stages.map((s) => [s.stage, s.result])).toEqual([
    ['token-file', 'ok'],
    ['token-expiry', 'ok'],
    ['refresh', 'skipped'],
    ['profile', 'ok'],
    ['list', 'ok'],
    ['store', 'ok'],
    ['deployment', 'skipped'],
  ])
  for (const s of stages) {
    expect(s.next).toBeNull()
    expect(s.ms).toBeGreaterThanOrEqual(0)
  }
  expect(text.exitCode).toBe(0)
  expect(text.stdout.split('\n')[0]).toMatch(/^STAGE\s+RESULT\s+TIME\s+DETAIL$/)
  expect(text.stdout).toContain('signed in as runner_1')
  // The probe went under the control prefix and was deleted with the folders it made: no leftover.
  expect(await folderTree(join(dir, 'lake'))).toEqual([])
  // Nothing secret in what a user attaches to a bug report.
  for (const secret of sim.secrets()) expect(`${json.stdout}${text.stdout}`).not.toContain(secret)
})

it('doctor leaves an existing --out folder as it found it: the same files and folders before and after', async () => {
  await signedIn()
  // An empty lake (a new --out), and one a sync has written to: the control folder exists already.
  const lake = join(dir, 'lake')
  await mkdir(lake)
  const before = await folderTree(lake)
  const { json } = await doctor()
  expect(json.exitCode).toBe(EXIT.ok)
  expect(await folderTree(lake)).toEqual(before)

  await mkdir(join(lake, 'raw-data', '_garmin-s3'), { recursive: true })
  await writeFile(join(lake, 'raw-data', '_garmin-s3', 'state.json'), '{}')
  await mkdir(join(lake, 'raw-data', 'garmin-json'))
  const synced = await folderTree(lake)
  const again = await doctor()
  expect(again.byName('store').result).toBe('ok')
  expect(await folderTree(lake)).toEqual(synced)
})

it('a mistyped --out: the store stage fails (exit 2) naming the folder, and doctor creates nothing', async () => {
  await signedIn()
  const environment = { HOME: dir, GARMIN_S3_GARMIN_URL: sim.url }
  class TestDoctor extends Doctor {
    protected override env(): NodeJS.ProcessEnv {
      return environment
    }
  }
  const out = join(dir, 'lkae', 'garmin')
  const run = await runCommand(TestDoctor, ['--out', out, '--token-store', tokenPath, '--json'])
  const store = (run.json as { stages: Stage[] }).stages.find((s) => s.stage === 'store')
  expect(store).toMatchObject({ result: 'fail', exitCode: EXIT.usage })
  expect(store?.detail).toContain(out)
  expect(store?.next).toMatch(/--out/)
  expect(run.exitCode).toBe(EXIT.usage)
  expect(existsSync(join(dir, 'lkae'))).toBe(false)
})

it('stage 1, no tokens: exit 3, next step the login into the --token-store given; the Garmin stages are skipped', async () => {
  sim = await startSimulator({ activities: 1 })
  const { json, text, byName, stages } = await doctor()
  expect(json.exitCode).toBe(EXIT.auth)
  // Without the --token-store, `garmin-s3 login` would sign in to the default file, not this one.
  const next = `Run \`garmin-s3 login --token-store ${tokenPath}\` first (or pass the right --token-store).`
  expect(byName('token-file')).toMatchObject({ result: 'fail', next })
  expect(text.stdout).toContain(`-> ${next}`)
  expect(stages.filter((s) => s.result === 'skipped').map((s) => s.stage)).toEqual([
    'token-expiry',
    'refresh',
    'profile',
    'list',
    'deployment',
  ])
  // The store is still checked: one problem does not hide another.
  expect(byName('store').result).toBe('ok')
})

it('stage 1, an empty token file is no tokens, whatever its mode: exit 3, next step login', async () => {
  sim = await startSimulator({ activities: 1 })
  for (const mode of [0o600, 0o644]) {
    await writeFile(tokenPath, '', { mode })
    await chmod(tokenPath, mode)
    const { json, byName } = await doctor()
    expect(json.exitCode).toBe(EXIT.auth)
    expect(byName('token-file')).toMatchObject({
      result: 'fail',
      detail: `no tokens at ${tokenPath}`,
      next: expect.stringContaining(`Run \`garmin-s3 login --token-store ${tokenPath}\``),
    })
  }
})

it('stage 1, a token file others can read: exit 1, next step chmod 600', async () => {
  await signedIn()
  await chmod(tokenPath, 0o644)
  const { json, byName } = await doctor()
  expect(json.exitCode).toBe(EXIT.failure)
  // The login after it signs in to the same file again, not to the default one.
  expect(byName('token-file')).toMatchObject({
    result: 'fail',
    next: `Run \`chmod 600 ${tokenPath}\`, then \`garmin-s3 login --token-store ${tokenPath}\` (others may have copied the tokens).`,
  })
})

it('stage 1, a token file that is a symbolic link: the token store refuses it, and doctor says what it says', async () => {
  await signedIn()
  // The real file, private; the link is what --token-store names. chmod 600 would change the target
  // (already 0600), not what the token store refuses: that the path is a link.
  const real = join(dir, 'real-tokens.json')
  await rename(tokenPath, real)
  await symlink(real, tokenPath)
  const refused = await new FileTokenStore(tokenPath)
    .load()
    .catch((error: Error & { hint?: string }) => error)
  expect(refused).toMatchObject({ message: expect.stringContaining('symbolic link') })
  const { json, byName } = await doctor()
  // Like a folder or a pipe at the token path: not a private file, exit 2 (ARCHITECTURE "Exit codes").
  expect(json.exitCode).toBe(EXIT.usage)
  expect(byName('token-file')).toMatchObject({
    result: 'fail',
    detail: (refused as Error).message,
    next: (refused as { hint?: string }).hint,
  })
  expect(byName('token-file').next).not.toContain('chmod')
})

it('stage 2, tokens of another Garmin domain: exit 2, next step --domain or login', async () => {
  await signedIn()
  const { json, byName } = await doctor(['--domain', 'garmin.cn'])
  expect(json.exitCode).toBe(EXIT.usage)
  expect(byName('token-expiry')).toMatchObject({
    result: 'fail',
    next: `Pass --domain garmin.com (or set GARMIN_DOMAIN=garmin.com), or run \`garmin-s3 login --domain garmin.cn --token-store ${tokenPath}\`.`,
  })
})

it('stage 3, a refresh token Garmin no longer accepts (--refresh): exit 3, next step login', async () => {
  await signedIn()
  sim.revokeRefreshTokens()
  const { json, byName } = await doctor(['--refresh'])
  expect(json.exitCode).toBe(EXIT.auth)
  expect(byName('refresh')).toMatchObject({
    result: 'fail',
    next: expect.stringContaining('garmin-s3 login'),
  })
  expect(byName('profile').result).toBe('skipped')
})

it('stage 4, the profile behind a bot challenge: exit 4, next step wait', async () => {
  await signedIn()
  sim.addFault({ route: 'socialProfile', fault: { kind: 'html' } })
  const { json, byName } = await doctor()
  expect(json.exitCode).toBe(EXIT.unavailable)
  expect(byName('profile')).toMatchObject({ result: 'fail', next: expect.stringMatching(/wait/i) })
  expect(byName('list').result).toBe('skipped')
})

it('stage 5, a list answer that is not JSON: exit 1, next step update or report', async () => {
  await signedIn()
  sim.addFault({ route: 'activityList', fault: { kind: 'malformed' } })
  const { json, byName } = await doctor()
  expect(json.exitCode).toBe(EXIT.failure)
  expect(byName('list')).toMatchObject({
    result: 'fail',
    next: expect.stringMatching(/update garmin-s3|report/),
  })
})

it('stage 6, a store that cannot be written: exit 2 (the --out is a file), with the store error and its next step', async () => {
  await signedIn()
  // `lake` is a file, so nothing can be created below it.
  await writeFile(join(dir, 'lake'), 'not a folder')
  const { json, byName } = await doctor()
  expect(json.exitCode).toBe(EXIT.usage)
  expect(byName('store').detail).toMatch(/lake is a file, not a folder/)
  const store = byName('store')
  expect(store.result).toBe('fail')
  expect(store.next).toEqual(expect.any(String))
  expect(store.next).not.toBe('')
})
