/**
 * Bad input, property-based (fast-check, seeded, bounded): the flags and environment of `sync` through
 * the command's own validation functions (and a handful through the real CLI process), and Garmin
 * answers of every shape through an injected transport. Always a clear message and exit 1 or 2, never
 * a stack trace; never an object written from a rejected answer; no path escapes the store.
 */
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseDaysBack, parseDuration } from '../../src/commands/sync.js'
import { type GarminS3Error, isGarminS3Error } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { DirStore } from '../../src/store/index.js'
import { validateBucketName, validatePrefix } from '../../src/store/target.js'
import { activityIdFromKey, parseDatasets, runSync, validateSyncOptions } from '../../src/sync/index.js'
import { assertBuilt, cliEnv, runCli, tempDir } from '../e2e/sync-helpers.js'
import { MemoryTokenStore } from '../garmin/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { LONG, recordFigure } from './figures.js'
import { PREFIX } from './invariants.js'

const SEED = 20261128
const RUNS = LONG ? 1000 : 200
const STACK = /\n\s+at\s|\.ts:\d+|\.js:\d+/

/** Runs `fn`; it must return, or throw a GarminS3Error (exit 1 or 2) whose message is clear. */
function expectClear<T>(fn: () => T): { ok: true; value: T } | { ok: false; error: GarminS3Error } {
  try {
    return { ok: true, value: fn() }
  } catch (error) {
    expect(isGarminS3Error(error), String(error)).toBe(true)
    const e = error as GarminS3Error
    expect([1, 2]).toContain(e.exitCode)
    expect(e.message.length).toBeGreaterThan(10)
    expect(e.message).not.toMatch(STACK)
    return { ok: false, error: e }
  }
}

const nasty = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom(
    '..',
    '../x',
    '/abs',
    '/',
    'a/../b',
    'C:\\x',
    'a\\b',
    '\u0000',
    'a//b',
    '~',
    ' ',
    '.',
    './..',
  ),
  fc.stringMatching(/^[a-zA-Z0-9./\\-]{0,70}$/),
)

describe('sync flags and environment', () => {
  it('bucket names: a valid S3 name or a clear usage error', () => {
    fc.assert(
      fc.property(fc.oneof(nasty, fc.stringMatching(/^(s3:\/\/)?[a-z0-9.-]{0,70}\/?$/)), (input) => {
        const r = expectClear(() => validateBucketName(input))
        if (r.ok) expect(r.value).toMatch(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/)
        else expect(r.error.exitCode).toBe(2)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    recordFigure('inputs', RUNS)
  })

  it('prefixes: relative, no "..", no backslash, or a clear usage error', () => {
    fc.assert(
      fc.property(nasty, (input) => {
        const r = expectClear(() => validatePrefix(input))
        if (!r.ok) {
          expect(r.error.exitCode).toBe(2)
          return
        }
        if (r.value === '') return
        expect(r.value.endsWith('/')).toBe(true)
        expect(r.value.startsWith('/')).toBe(false)
        expect(r.value.split('/')).not.toContain('..')
        expect(r.value).not.toContain('\\')
      }),
      { seed: SEED, numRuns: RUNS },
    )
    recordFigure('inputs', RUNS)
  })

  it('dates, day counts, durations, datasets and their combinations', () => {
    const number = fc.oneof(
      fc.integer(),
      fc.double(),
      fc.constantFrom(-1, 0, 2 ** 53, Number.MAX_VALUE, Number.NaN, Infinity, -Infinity),
    )
    const text = fc.oneof(
      nasty,
      number.map(String),
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
    )
    const options = fc.record(
      {
        since: fc.oneof(
          text,
          fc.date({ noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10)),
        ),
        daysBack: number,
        full: fc.boolean(),
        concurrency: number,
        pageSize: number,
        overlapDays: number,
        datasets: fc.array(
          fc.oneof(fc.constantFrom('fit', 'sleep', 'all', 'activities', 'nope'), fc.string()),
        ),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(options, text, text, (o, days, duration) => {
        expectClear(() =>
          validateSyncOptions({ prefix: PREFIX, runner: 'cli', toolVersion: 't', ...o }, Date.now()),
        )
        const d = expectClear(() => parseDaysBack(days, '--days-back'))
        if (d.ok) expect(Number.isInteger(d.value)).toBe(true)
        const t = expectClear(() => parseDuration(duration))
        if (t.ok) expect(t.value).toBeGreaterThan(0)
        const ds = expectClear(() => parseDatasets(o.datasets))
        if (ds.ok) expect(ds.value.length).toBeGreaterThan(0)
      }),
      { seed: SEED, numRuns: RUNS },
    )
    recordFigure('inputs', RUNS * 4)
  })

  it('regression: a day count past the range of a date is a usage error, not a crash', () => {
    for (const daysBack of [36_501, 100_020_786, Number.MAX_SAFE_INTEGER]) {
      const r = expectClear(() =>
        validateSyncOptions({ prefix: PREFIX, daysBack, runner: 'cli', toolVersion: 't' }, Date.now()),
      )
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.error.message).toMatch(/--days-back must be at most 36500/)
    }
    const century = expectClear(() =>
      validateSyncOptions({ prefix: PREFIX, daysBack: 36_500, runner: 'cli', toolVersion: 't' }, Date.now()),
    )
    expect(century.ok).toBe(true)
  })

  it('a handful through the real CLI: exit 2 with a message and a hint, no stack trace', async () => {
    assertBuilt()
    const home = await tempDir('bad-cli')
    const sim = await startSimulator({ activities: 1 })
    try {
      const env = cliEnv(sim, join(home.path, 'tokens.json'), home.path)
      const out = join(home.path, 'o')
      // [arguments, extra environment, what the message must name]
      const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
        [['--bucket', 'Not_A_Bucket'], {}, /bucket/i],
        [['--out', out, '--prefix', '../../etc'], {}, /prefix/i],
        [['--out', out, '--since', '2024-13-45'], {}, /since/i],
        [['--out', out, '--data', 'fit,heartbeat-of-mars'], {}, /heartbeat-of-mars/],
        [['--out', out], { DAYS_BACK: 'soon' }, /DAYS_BACK/],
        // Regression: a huge day count crashed with "Invalid time value" (a bug report) instead of exit 2.
        [['--out', out, '--days-back', '100020786'], {}, /--days-back must be at most/],
      ]
      const results = await Promise.all(
        cases.map(([args, extra]) => runCli(['sync', ...args], { env: { ...env, ...extra } })),
      )
      results.forEach((r, i) => {
        const [args, , names] = cases[i]!
        const label = args.join(' ')
        expect(r.code, `${label}\n${r.stderr}`).toBe(2)
        expect(r.stderr, label).not.toMatch(STACK)
        expect(r.stderr, label).toMatch(names)
      })
      recordFigure('inputs', cases.length)
    } finally {
      await sim.close()
      await home.remove()
    }
  })
})

describe('Garmin answers of any shape', () => {
  let sim: Simulator
  const tokens = new MemoryTokenStore()
  beforeAll(async () => {
    sim = await startSimulator({ activities: 3, seed: 4 })
    await new GarminClient({
      tokenStore: tokens,
      endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    }).login({ email: sim.user.email, password: sim.user.password })
  })
  afterAll(() => sim?.close())

  const validEntry = fc.record({
    activityId: fc.integer({ min: 1, max: 2 ** 40 }),
    startTimeGMT: fc
      .date({ min: new Date('2015-01-01'), max: new Date('2026-01-01'), noInvalidDate: true })
      .map((d) => d.toISOString().slice(0, 19).replace('T', ' ')),
  })
  const badId = fc.oneof(
    fc.string(),
    fc.constantFrom('../../../tmp/x', '12/../../13', '1e3', '0x10', '', '  7'),
    fc.double({ noInteger: true }),
    fc.constantFrom(-1, 2 ** 60, Number.MAX_SAFE_INTEGER + 2, null, true),
    fc.array(fc.integer(), { maxLength: 2 }),
    fc.object({ maxDepth: 1 }),
  )
  const badEntry = fc.record({
    activityId: badId,
    startTimeGMT: fc.oneof(fc.string(), fc.constantFrom('../../2024-01-01 00:00:00', '2024-01-01')),
  })
  const deep = fc.integer({ min: 100, max: 5000 }).map((n) => '['.repeat(n) + ']'.repeat(n))
  const huge = fc
    .integer({ min: 1_000, max: 200_000 })
    .map((n) => JSON.stringify([{ activityName: 'x'.repeat(n) }]))
  const body = fc.oneof(
    fc.jsonValue().map((v) => JSON.stringify(v)),
    fc.array(fc.oneof(validEntry, badEntry), { maxLength: 5 }).map((a) => JSON.stringify(a)),
    fc
      .tuple(fc.array(validEntry, { minLength: 1, maxLength: 3 }), badEntry)
      .map(([good, bad]) => JSON.stringify([...good, bad])),
    deep,
    huge,
  )

  it('a rejected answer stops the run with a clear message and writes nothing built from it', async () => {
    let runs = 0
    await fc.assert(
      fc.asyncProperty(body, async (text) => {
        runs++
        const transport: typeof fetch = async (input, init) => {
          const url = new URL(String(input))
          if (url.pathname.includes('/activitylist-service/activities/search/activities')) {
            // The first page is the bad answer; later pages are empty.
            const payload = url.searchParams.get('start') === '0' ? text : '[]'
            return new Response(payload, { status: 200, headers: { 'content-type': 'application/json' } })
          }
          return fetch(input, init)
        }
        const client = new GarminClient({
          tokenStore: tokens,
          endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
          clock: new FakeClock(Date.now()),
          random: () => 0.5,
          transport,
        })
        const store = new MemoryStore()
        let report: Awaited<ReturnType<typeof runSync>> | undefined
        try {
          report = await runSync(
            { prefix: PREFIX, runner: 'cli', toolVersion: 't' },
            { garmin: client, store },
          )
        } catch (error) {
          expect(isGarminS3Error(error), String(error)).toBe(true)
        }
        const activities = [...store.objects.keys()].filter((k) => activityIdFromKey(PREFIX, k) !== undefined)
        for (const key of store.objects.keys()) {
          expect(key.startsWith('raw-data/')).toBe(true)
          expect(key.split('/')).not.toContain('..')
        }
        if (report && report.exitCode !== 0) {
          const message = report.errors[0]?.message ?? ''
          expect(message).not.toMatch(STACK)
          // A rejected page writes nothing (every page but the first is empty).
          if (report.exitCode === 1 && /unexpected answer/.test(message)) expect(activities).toEqual([])
        }
        // Whatever was written is an entry of the answer, byte for byte, under its own id.
        let parsed: unknown
        try {
          parsed = JSON.parse(text)
        } catch {
          parsed = undefined
        }
        for (const key of activities) {
          const id = activityIdFromKey(PREFIX, key)!
          const entry = Array.isArray(parsed)
            ? parsed.find((e) => (e as { activityId?: unknown })?.activityId === id)
            : undefined
          expect(entry, key).toBeDefined()
          expect(new TextDecoder().decode(store.objects.get(key)!.body)).toBe(JSON.stringify(entry))
        }
      }),
      { seed: SEED, numRuns: LONG ? 300 : 60 },
    )
    recordFigure('garmin answers', runs)
  })

  it('an activity id or a date cannot reach outside the store', async () => {
    const home = await tempDir('traversal')
    try {
      const store = new DirStore(join(home.path, 'out'), { durable: false })
      for (const key of [
        'raw-data/../../escape.json',
        '../escape.json',
        '/etc/x.json',
        'raw-data/a/../../b.json',
      ]) {
        await expect(store.putIfAbsent(key, '{}', 'application/json'), key).rejects.toThrow()
      }
      expect(activityIdFromKey(PREFIX, `${PREFIX}activity_../../x.json`)).toBeUndefined()
      for (const since of ['../../2024-01-01', '2024-01-01/../..', '2024-01-01\u0000']) {
        const r = expectClear(() =>
          validateSyncOptions({ prefix: PREFIX, since, runner: 'cli', toolVersion: 't' }, Date.now()),
        )
        expect(r.ok).toBe(false)
      }
    } finally {
      await home.remove()
    }
  })
})
