/**
 * Helpers for the end-to-end tests of `garmin-s3 sync`: the built CLI (`npm run build` first) as a
 * child process, the simulator, a signed-in token file, and snapshots of a folder or bucket to
 * compare before and after.
 */
import type { ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3'
import { afterAll, beforeAll, expect } from 'vitest'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import type { ActivityEntry } from '../../src/garmin/types.js'
import type { SyncReport } from '../../src/sync/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type ProcessResult, runProcess } from '../helpers/process.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..')
export const CLI = join(ROOT, 'bin', 'run.js')
export const PREFIX = 'raw-data/garmin-json/'

export function assertBuilt(): void {
  if (!existsSync(join(ROOT, 'dist', 'bundle', 'main.js'))) {
    throw new Error('dist/bundle/main.js is missing: run `npm run build` before the end-to-end tests')
  }
  // The CLI lists its commands from the manifest: one older than the bundle may lack new ones.
  const manifest = join(ROOT, 'oclif.manifest.json')
  if (!existsSync(manifest)) return
  const bundle = join(ROOT, 'dist', 'bundle')
  const newest = readdirSync(bundle, { encoding: 'utf8' })
    .filter((name) => name.endsWith('.js'))
    .reduce((latest, name) => Math.max(latest, statSync(join(bundle, name)).mtimeMs), 0)
  if (newest > statSync(manifest).mtimeMs) {
    throw new Error('oclif.manifest.json is older than dist/bundle: run `npm run build` (it writes both)')
  }
}

export async function tempDir(label: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `garmin-s3-e2e-${label}-`))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

export interface E2eAccount {
  sim: Simulator
  /** The token file, signed in. */
  tokens: string
  /** The environment of a CLI run on this account. */
  env: NodeJS.ProcessEnv
}

/**
 * A temp home for a test file (checked built, removed after the file) and simulated Garmin accounts,
 * each signed in with its own token file there and closed after the file.
 */
export function e2eHome(label: string): {
  path: () => string
  account: (name: string, options: SimOptions) => Promise<E2eAccount>
} {
  let home: { path: string; remove: () => Promise<void> } | undefined
  const sims: Simulator[] = []
  beforeAll(async () => {
    assertBuilt()
    home = await tempDir(label)
  })
  afterAll(async () => {
    await Promise.all(sims.map((s) => s.close()))
    await home?.remove()
  })
  const path = () => {
    if (!home) throw new Error('e2eHome: used outside a test')
    return home.path
  }
  return {
    path,
    account: async (name, options) => {
      const sim = await startSimulator(options)
      sims.push(sim)
      const tokens = join(path(), `${name}-tokens.json`)
      await signIn(sim, tokens)
      return { sim, tokens, env: cliEnv(sim, tokens, path()) }
    },
  }
}

/** The environment of a CLI run: the simulator, a token file, the test S3 credentials, nothing inherited that matters. */
export function cliEnv(sim: Simulator, tokenPath: string, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    GARMIN_S3_GARMIN_URL: sim.url,
    GARMIN_S3_TOKEN_STORE: tokenPath,
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    NO_COLOR: '1',
  }
  return env
}

export type CliResult = ProcessResult

/** Runs the built CLI; `onSpawn` gets the child (to kill it). */
export function runCli(
  args: string[],
  options: { env: NodeJS.ProcessEnv; cwd?: string; onSpawn?: (child: ChildProcess) => void },
): Promise<CliResult> {
  return runProcess(process.execPath, [CLI, ...args], { ...options, cwd: options.cwd ?? ROOT })
}

/** `sync --json`: stdout must be exactly one JSON object, the SyncReport. */
export async function syncJson(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ report: SyncReport; result: CliResult }> {
  const result = await runCli(['sync', ...args, '--json'], { env })
  let report: SyncReport
  try {
    report = JSON.parse(result.stdout)
  } catch {
    throw new Error(
      `stdout is not one JSON object (exit ${result.code}):\n${result.stdout}\nstderr:\n${result.stderr}`,
    )
  }
  return { report, result }
}

/** Signs in to the simulator once (in process) and stores the tokens in `tokenPath`. */
export async function signIn(sim: Simulator, tokenPath: string): Promise<void> {
  const client = new GarminClient({
    tokenStore: new FileTokenStore(tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
  })
  await client.login({ email: sim.user.email, password: sim.user.password })
}

/** A GarminClient on the simulator whose waits (back-off, Retry-After) take no real time. */
export function simClient(sim: Simulator, tokenPath: string): GarminClient {
  return new GarminClient({
    tokenStore: new FileTokenStore(tokenPath),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    clock: new FakeClock(Date.now()),
    random: () => 0.5,
  })
}

/** Every file under `dir` (relative path -> sha256), reserved bookkeeping names included. */
export async function folderSnapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (path: string) => {
    for (const entry of await readdir(path, { withFileTypes: true }).catch(() => [])) {
      const full = join(path, entry.name)
      if (entry.isDirectory()) await walk(full)
      else
        out.set(
          relative(dir, full),
          createHash('sha256')
            .update(await readFile(full))
            .digest('hex'),
        )
    }
  }
  await walk(dir)
  return out
}

/** The activity objects in a folder: key -> text. */
export async function folderActivities(dir: string, prefix = PREFIX): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const folder = join(dir, ...prefix.split('/').filter(Boolean))
  for (const name of await readdir(folder).catch(() => [] as string[])) {
    if (name.startsWith('activity_')) out.set(`${prefix}${name}`, await readFile(join(folder, name), 'utf8'))
  }
  return out
}

/** Every key of a bucket with its ETag and size. */
export async function bucketSnapshot(client: S3Client, bucket: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  let token: string | undefined
  do {
    const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }))
    for (const o of page.Contents ?? []) out.set(o.Key!, `${o.ETag} ${o.Size}`)
    token = page.NextContinuationToken
  } while (token)
  return out
}

/** The listed ETag of a single-part upload of `text` (its MD5), as S3 reports it. */
export function etagOf(text: string): string {
  return `"${createHash('md5').update(text, 'utf8').digest('hex')}"`
}

/** Activity objects of a bucket (`keys`, default all of them): key -> text. */
export async function bucketActivities(
  client: S3Client,
  bucket: string,
  keys?: string[],
  prefix = PREFIX,
): Promise<Map<string, string>> {
  keys ??= [...(await bucketSnapshot(client, bucket)).keys()].filter((k) =>
    k.startsWith(`${prefix}activity_`),
  )
  const out = new Map<string, string>()
  const queue = [...keys]
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let key = queue.shift(); key !== undefined; key = queue.shift()) {
        const object = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
        out.set(key, await object.Body!.transformToString('utf-8'))
      }
    }),
  )
  return out
}

/**
 * The stored activities are exactly what the simulator served: one object per activity, parsed JSON
 * equal, the id in the key and in the body the same digits, emoji intact.
 */
export function expectSameActivities(
  stored: Map<string, string>,
  served: ActivityEntry[],
  prefix = PREFIX,
): void {
  expect(stored.size).toBe(served.length)
  let emoji = 0
  for (const activity of served) {
    const key = `${prefix}activity_${activity.activityId}.json`
    const text = stored.get(key)
    expect(text, key).toBeDefined()
    expect(JSON.parse(text!)).toEqual(activity)
    expect(/"activityId":\s*(\d+)/.exec(text!)?.[1]).toBe(String(activity.activityId))
    if (/\p{Extended_Pictographic}/u.test(String(activity.activityName))) {
      expect(text).toContain(String(activity.activityName))
      emoji++
    }
  }
  if (served.length >= 30) expect(emoji).toBeGreaterThan(0)
}

export function total(requests: Record<string, number>): number {
  return Object.values(requests).reduce((a, b) => a + b, 0)
}
