import { describe, expect, it } from 'vitest'
import { StoreError } from '../../src/errors.js'
import { AuthError, GarminUnavailableError, RateLimitedError } from '../../src/garmin/errors.js'
import { controlPrefixFor, runSync } from '../../src/sync/index.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { expectExactly, PREFIX, STATE_KEY, stateOf, storedIds, world } from './helpers.js'

const DAY = 86_400_000

describe('first run', () => {
  it('copies the whole history, each activity once, exactly as Garmin sent it', async () => {
    const w = world({ count: 250 })
    const report = await w.sync()

    expect(report).toMatchObject({ created: 250, existing: 0, failed: 0, partial: false, exitCode: 0 })
    expect(report.stopReason).toBe('end-of-history')
    expectExactly(w.store, w.garmin.listAll())
    const names = w.garmin
      .listAll()
      .map((a) => JSON.parse(w.store.text(`${PREFIX}activity_${a.activityId}.json`)!))
    expect(names.some((a) => a.activityName.includes('🏛'))).toBe(true)
    // One PUT per activity, plus state checkpoints, one listing and the manifest.
    expect(report.requests.store.ListObjectsV2).toBe(1)
    expect(report.requests.store.PutObject).toBeLessThanOrEqual(250 + 4)
    expect(stateOf(w.store)).toMatchObject({ backfillComplete: true, counts: { stored: 250, created: 250 } })
  })

  it('writes a run manifest beside the data with options, counts, requests and versions', async () => {
    const w = world({ count: 5 })
    const report = await w.sync({ concurrency: 2 })
    expect(report.manifestKey).toMatch(/^raw-data\/_garmin-s3\/runs\/20261128T120000Z_run1\.json$/)
    const manifest = JSON.parse(w.store.text(report.manifestKey)!)
    expect(manifest).toMatchObject({
      runId: 'run1',
      runner: 'cli',
      toolVersion: '0.0.0-test',
      location: 'memory://test',
      prefix: PREFIX,
      options: { concurrency: 2, full: false, dryRun: false },
      counts: { created: 5, existing: 0, skipped: 0, failed: 0 },
      partial: false,
      exitCode: 0,
      errors: [],
    })
    expect(manifest.requests.garmin.list).toBe(2)
    expect(manifest.requests.store.PutObject).toBeGreaterThanOrEqual(6)
    // The data prefix holds activities only.
    expect(w.store.keys(PREFIX).every((k) => /activity_\d+\.json$/.test(k))).toBe(true)
  })

  it('adopts a bucket filled by the original pipeline: nothing rewritten, only the missing added', async () => {
    const w = world({ count: 300 })
    const all = w.garmin.listAll()
    // The original wrote these keys, with its own serialisation: they must stay byte for byte.
    for (const a of all.filter((_, i) => i % 3 !== 0)) {
      w.store.seed(`${PREFIX}activity_${a.activityId}.json`, `${JSON.stringify(a, null, 4)}\n`)
    }
    const before = w.store.snapshot()
    const report = await w.sync()

    expect(report.created).toBe(100)
    expect(report.existing).toBe(200)
    expect(report.requests.store.ListObjectsV2).toBe(1)
    // One PUT per missing activity only; no HEADs.
    expect(report.requests.store.HeadObject ?? 0).toBe(0)
    expect(report.requests.store.PutObject).toBeLessThanOrEqual(100 + 5)
    const after = w.store.snapshot()
    for (const [key, value] of before) expect(after.get(key)).toBe(value)
    expect(storedIds(w.store)).toEqual(all.map((a) => a.activityId).sort((a, b) => a - b))
  })

  it('learns existing keys from one paginated listing', async () => {
    const store = new MemoryStore({ listPageSize: 50 })
    const w = world({ count: 120, store })
    for (const a of w.garmin.listAll())
      w.store.seed(`${PREFIX}activity_${a.activityId}.json`, JSON.stringify(a))
    w.store.seed(`${PREFIX}notes.txt`, 'not an activity')
    const report = await w.sync()
    expect(report).toMatchObject({ created: 0, existing: 120 })
    expect(report.requests.store.ListObjectsV2).toBe(3)
    expect(stateOf(w.store).counts.stored).toBe(120)
  })
})

describe('incremental runs', () => {
  it.each([1_000, 10_000])(
    'a run with nothing new costs 1 Garmin call and 3 store requests (%i activities)',
    async (count) => {
      const w = world({ count })
      await w.sync()
      w.garmin.resetStats()
      w.store.resetStats()
      const report = await w.sync()

      expect(report).toMatchObject({ created: 0, failed: 0, exitCode: 0, stopReason: 'caught-up' })
      expect(w.garmin.stats().requests).toEqual({ list: 1 })
      expect(w.store.stats().requests).toEqual({ GetObject: 1, PutObject: 2 })
      expect(report.requests.store).toEqual({ GetObject: 1, PutObject: 2 })
    },
  )

  it('writes only new activities, with one PUT each and no listing of the store', async () => {
    const w = world({ count: 400 })
    await w.sync()
    const added = w.garmin.addNewer(7)
    w.store.resetStats()
    w.garmin.resetStats()
    const report = await w.sync()

    expect(report.created).toBe(7)
    expect(w.garmin.stats().requests.list).toBe(1)
    // 7 activities + state + manifest; GET of the state.
    expect(w.store.stats().requests).toEqual({ GetObject: 1, PutObject: 9 })
    expectExactly(w.store, w.garmin.listAll())
    expect(stateOf(w.store).newestStartTimeGMT).toBe(added[0]!.startTimeGMT)
  })

  it('picks up a late upload inside the overlap window; --full finds one older than it', async () => {
    const w = world({ count: 200 })
    await w.sync()
    const newest = Date.parse(`${w.garmin.listAll()[0]!.startTimeGMT.replace(' ', 'T')}Z`)
    const late = w.garmin.addAt(newest - 3 * DAY)
    const veryLate = w.garmin.addAt(newest - 60 * DAY)

    const report = await w.sync()
    expect(report.created).toBe(1)
    expect(w.store.text(`${PREFIX}activity_${late.activityId}.json`)).toBeDefined()
    expect(w.store.text(`${PREFIX}activity_${veryLate.activityId}.json`)).toBeUndefined()

    const full = await w.sync({ full: true })
    expect(full.created).toBe(1)
    expectExactly(w.store, w.garmin.listAll())
  })

  it('--since and --days-back copy only that range, and a plain run then completes the history', async () => {
    const w = world({ count: 500 })
    const all = w.garmin.listAll()
    const since = '2026-10-01'
    const inRange = all.filter((a) => (a.startTimeLocal as string).slice(0, 10) >= since)

    const report = await w.sync({ since })
    expect(report.created).toBe(inRange.length)
    expect(storedIds(w.store)).toEqual(inRange.map((a) => a.activityId).sort((a, b) => a - b))
    expect(report.stopReason).toBe('since')
    // startDate narrows the list call: far fewer calls than paging the whole history.
    expect(w.garmin.calls[0]!.startDate).toBe('2026-09-30')
    expect(w.garmin.calls.length).toBeLessThanOrEqual(2)

    const rest = await w.sync()
    expect(rest.created).toBe(all.length - inRange.length)
    expectExactly(w.store, all)

    const w2 = world({ count: 500 })
    const recent = w2.garmin
      .listAll()
      .filter((a) => (a.startTimeLocal as string).slice(0, 10) >= '2026-11-18')
    const daysBack = await w2.sync({ daysBack: 10 })
    expect(daysBack.created).toBe(recent.length)
  })

  it('a daily --days-back run with nothing new also costs one Garmin call', async () => {
    const w = world({ count: 1000 })
    await w.sync()
    w.garmin.resetStats()
    w.store.resetStats()
    const report = await w.sync({ daysBack: 3 })
    expect(report.created).toBe(0)
    expect(w.garmin.stats().requests).toEqual({ list: 1 })
    expect(w.store.stats().requests).toEqual({ GetObject: 1, PutObject: 2 })
  })

  it('resumes an interrupted backfill below what is stored instead of re-listing from the top', async () => {
    const w = world({ count: 3000 })
    // The first run is cut short after its third list call.
    w.garmin.failList = (call) => (call === 3 ? new GarminUnavailableError('Garmin is down') : undefined)
    const first = await w.sync()
    expect(first.exitCode).toBe(4)
    w.garmin.failList = undefined
    w.garmin.resetStats()
    const second = await w.sync()
    expect(second.exitCode).toBe(0)
    expectExactly(w.store, w.garmin.listAll())
    // The second run jumped below the stored part with endDate instead of paging through it.
    expect(w.garmin.calls.some((c) => c.endDate !== undefined && c.start === 0)).toBe(true)
    expect(second.created).toBe(3000 - first.created)
    const listedAgain = w.garmin.calls.reduce((n, c) => n + c.limit, 0)
    expect(listedAgain).toBeLessThan(3000 - first.created + 1200)
  })
})

describe('dry run', () => {
  it('writes nothing at all, not even state or manifest, and says what it would write', async () => {
    const w = world({ count: 150 })
    const half = w.garmin.listAll().slice(0, 60)
    for (const a of half) w.store.seed(`${PREFIX}activity_${a.activityId}.json`, JSON.stringify(a))
    const before = w.store.snapshot()
    const report = await w.sync({ dryRun: true })

    expect(w.store.snapshot()).toEqual(before)
    expect(report).toMatchObject({ dryRun: true, created: 90, existing: 60, exitCode: 0 })
    expect(report.requests.store.PutObject ?? 0).toBe(0)
    const messages = w.events.flatMap((e) => (e.type === 'dry-run' ? [e.message] : []))
    expect(messages.filter((m) => m.startsWith('would write activity '))).toHaveLength(90)
    expect(messages.some((m) => m.startsWith(`would write state ${STATE_KEY}`))).toBe(true)
    expect(messages.some((m) => m.startsWith('would write run manifest raw-data/_garmin-s3/runs/'))).toBe(
      true,
    )
  })

  it('after a real run, a dry run plans nothing', async () => {
    const w = world({ count: 80 })
    await w.sync()
    const before = w.store.snapshot()
    const report = await w.sync({ dryRun: true })
    expect(report.created).toBe(0)
    expect(w.store.snapshot()).toEqual(before)
  })
})

describe('failures', () => {
  it('isolates a failed activity: the others are written, the run is partial, the next run retries it', async () => {
    const w = world({ count: 300 })
    const victims = [w.garmin.listAll()[10]!, w.garmin.listAll()[200]!]
    for (const v of victims) {
      w.store.failWhen({
        op: 'putIfAbsent',
        key: `${PREFIX}activity_${v.activityId}.json`,
        times: 1,
        error: () =>
          Object.assign(new StoreError('S3 is unavailable: PutObject failed with 503'), { retryable: true }),
      })
    }
    const first = await w.sync()
    expect(first).toMatchObject({ created: 298, failed: 2, partial: true, exitCode: 5 })
    expect(first.errors.map((e) => e.activityId).sort()).toEqual(victims.map((v) => v.activityId).sort())
    expect(storedIds(w.store)).not.toContain(victims[0]!.activityId)

    w.store.resetStats()
    const second = await w.sync()
    expect(second).toMatchObject({ created: 2, failed: 0, exitCode: 0 })
    expectExactly(w.store, w.garmin.listAll())
    // Only the two failed ones are written again: the rest is known from one listing.
    expect(w.store.stats().requests.PutObject).toBeLessThanOrEqual(2 + 3)
  })

  it('counts the runs in a row that left activities unstored, from the state, and a clean run resets it', async () => {
    const w = world({ count: 20 })
    const victim = w.garmin.listAll()[5]!
    const failVictim = (id = victim.activityId) =>
      w.store.failWhen({
        op: 'putIfAbsent',
        key: `${PREFIX}activity_${id}.json`,
        times: 1,
        error: () =>
          Object.assign(new StoreError('S3 is unavailable: PutObject failed with 503'), { retryable: true }),
      })
    const streaks: number[] = []
    for (let run = 0; run < 3; run++) {
      failVictim()
      const report = await w.sync()
      expect(report.failed).toBe(1)
      streaks.push(report.failedRunsInARow ?? -1)
    }
    const clean = await w.sync()
    expect(clean).toMatchObject({ failed: 0, created: 1 })
    expect([...streaks, clean.failedRunsInARow]).toEqual([1, 2, 3, 0])
    // The clean run broke the streak: the next failure starts again at 1.
    const [newer] = w.garmin.addNewer(1)
    failVictim(newer!.activityId)
    const again = await w.sync()
    expect(again).toMatchObject({ failed: 1, failedRunsInARow: 1 })
  })

  it.each([
    ['a revoked token', () => new AuthError('Garmin refused the refresh token (invalid_grant)'), 3],
    ['a 429 storm', () => new RateLimitedError('Garmin kept answering 429'), 4],
    ['a 503 burst', () => new GarminUnavailableError('Garmin answered 503'), 4],
  ])(
    '%s mid-run ends with a partial report and the right exit code; the next run completes',
    async (_, error, code) => {
      const w = world({ count: 700 })
      w.garmin.failList = (call) => (call === 2 ? error() : undefined)
      const first = await w.sync()
      expect(first).toMatchObject({ partial: true, exitCode: code, stopReason: 'fatal' })
      expect(first.created).toBeGreaterThan(0)
      expect(first.errors[0]!.message).toMatch(/Garmin/)
      expect(first.errors[0]!.hint).toBeTruthy()
      // The manifest records the failed run.
      expect(JSON.parse(w.store.text(first.manifestKey)!).exitCode).toBe(code)

      w.garmin.failList = undefined
      const second = await w.sync()
      expect(second.exitCode).toBe(0)
      expectExactly(w.store, w.garmin.listAll())
    },
  )

  it('a storage error that retrying cannot fix stops the run (exit 1) without a flood of failures', async () => {
    const w = world({ count: 100 })
    w.store.failWhen({
      op: 'putIfAbsent',
      key: /activity_/,
      error: () => new StoreError('access denied: PutObject on s3://lake/x', { hint: 'needs s3:PutObject' }),
    })
    const report = await w.sync()
    expect(report).toMatchObject({ exitCode: 1, partial: true, created: 0, stopReason: 'fatal' })
    expect(report.failed).toBeLessThanOrEqual(4)
    expect(report.errors[0]).toMatchObject({
      message: expect.stringMatching(/access denied/),
      hint: 'needs s3:PutObject',
    })
  })

  it('an entry without a usable start time is quarantined with its reason, and the rest is stored', async () => {
    const w = world({ count: 150 })
    const broken = w.garmin.listAll()[149]!
    broken.startTimeGMT = 'yesterday'
    const report = await w.sync()
    expect(report).toMatchObject({ created: 149, failed: 0, invalid: 1, exitCode: 5, partial: true })
    expect(report.quarantined).toEqual([
      expect.objectContaining({
        id: String(broken.activityId),
        reason: expect.stringMatching(/startTimeGMT/),
      }),
    ])
    expect(report.errors).toEqual([])
  })

  it('stops after 10 failed writes in a row even when each looks retryable', async () => {
    const w = world({ count: 100 })
    w.store.failWhen({
      op: 'putIfAbsent',
      key: /activity_/,
      error: () => Object.assign(new StoreError('S3 is unavailable'), { retryable: true }),
    })
    const report = await w.sync({ concurrency: 1 })
    expect(report).toMatchObject({ exitCode: 1, failed: 10, created: 0 })
  })

  it('a store that cannot be read fails before anything is done', async () => {
    const w = world({ count: 10 })
    w.store.failWhen({ op: 'get', error: () => new StoreError('bucket lake does not exist') })
    await expect(w.sync()).rejects.toThrow(/does not exist/)
    expect(w.garmin.stats().requests).toEqual({})
    expect(w.store.keys()).toEqual([])
  })
})

describe('deadline', () => {
  it('stops cleanly before the deadline, checkpoints, and the next run finishes the job', async () => {
    const w = world({ count: 2000, latencyMs: 4000 })
    const deadline = w.clock.now() + 20_000
    const first = await w.sync({ deadline })
    expect(first).toMatchObject({ partial: true, exitCode: 5, stopReason: 'deadline' })
    expect(first.created).toBeGreaterThan(0)
    expect(first.created).toBeLessThan(2000)
    expect(w.clock.now()).toBeLessThan(deadline)
    expect(stateOf(w.store).counts.created).toBe(first.created)

    const second = await w.sync()
    expect(second.created).toBe(2000 - first.created)
    expectExactly(w.store, w.garmin.listAll())
  })

  it('an abort signal (Ctrl-C) stops the same clean way, and the next run finishes the job', async () => {
    const w = world({ count: 900 })
    const stop = new AbortController()
    w.garmin.failList = (call) => {
      if (call === 2) stop.abort()
      return undefined
    }
    const first = await runSync(
      { prefix: PREFIX, runner: 'cli', toolVersion: 't' },
      { garmin: w.garmin, store: w.store, clock: w.clock, signal: stop.signal },
    )
    expect(first).toMatchObject({ partial: true, exitCode: 5, stopReason: 'interrupted' })
    expect(first.created).toBeGreaterThan(0)
    expect(stateOf(w.store).counts.created).toBe(first.created)
    w.garmin.failList = undefined
    const second = await w.sync()
    expect(second.created).toBe(900 - first.created)
    expectExactly(w.store, w.garmin.listAll())
  })

  it('a deadline already past does nothing but report', async () => {
    const w = world({ count: 10 })
    const report = await w.sync({ deadline: w.clock.now() })
    expect(report).toMatchObject({ created: 0, exitCode: 5, stopReason: 'deadline' })
    expect(w.garmin.stats().requests).toEqual({})
  })
})

describe('state', () => {
  it('lives beside the data prefix', () => {
    expect(controlPrefixFor('raw-data/garmin-json/')).toBe('raw-data/_garmin-s3/')
    expect(controlPrefixFor('a/b/c/')).toBe('a/b/_garmin-s3/')
    expect(controlPrefixFor('garmin-json/')).toBe('_garmin-s3/')
    expect(controlPrefixFor('')).toBe('_garmin-s3/')
  })

  it('keeps two data prefixes under one parent apart', async () => {
    const w = world({ count: 30 })
    await w.sync()
    const other = await runSync(
      { prefix: 'raw-data/garmin-json-2/', runner: 'cli', toolVersion: 't' },
      { garmin: w.garmin, store: w.store, clock: w.clock },
    )
    expect(other.created).toBe(30)
    const state = JSON.parse(w.store.text(STATE_KEY)!)
    expect(Object.keys(state.datasets).sort()).toEqual(['raw-data/garmin-json-2/', PREFIX])
    expect(state.datasets[PREFIX].counts.created).toBe(30)
  })

  it('survives a compare-and-swap conflict by re-reading and merging', async () => {
    const w = world({ count: 120 })
    let interfered = false
    w.store.beforeRequest = async (op, key) => {
      if (op === 'putIfMatch' && key === STATE_KEY && !interfered) {
        interfered = true
        // Another run saves its state first.
        const other = {
          version: 1,
          updatedAt: 'x',
          datasets: { 'other/': { covered: [], recent: [], counts: { stored: 3, created: 3, runs: 1 } } },
        }
        w.store.seed(STATE_KEY, JSON.stringify(other))
      }
    }
    const report = await w.sync()
    expect(report.exitCode).toBe(0)
    const state = JSON.parse(w.store.text(STATE_KEY)!)
    expect(state.datasets['other/'].counts.created).toBe(3)
    expect(state.datasets[PREFIX].counts.created).toBe(120)
  })

  it('two syncs at the same time store every activity once and agree on the state', async () => {
    const w = world({ count: 600 })
    // Interleave the two runs at every store request.
    w.store.beforeRequest = () => new Promise((resolve) => setImmediate(resolve))
    const [a, b] = await Promise.all([w.sync(), w.sync({ concurrency: 3 })])
    expect(a.exitCode).toBe(0)
    expect(b.exitCode).toBe(0)
    expect(a.created + b.created).toBe(600)
    expectExactly(w.store, w.garmin.listAll())
    const state = stateOf(w.store)
    expect(state.counts.created).toBe(600)
    expect(state.counts.runs).toBe(2)
    expect(state.backfillComplete).toBe(true)
    w.store.beforeRequest = undefined
    w.garmin.resetStats()
    const third = await w.sync()
    expect(third.created).toBe(0)
    expect(w.garmin.stats().requests.list).toBe(1)
  })

  it('rebuilds an unreadable state, and refuses to touch a state from a newer version', async () => {
    const w = world({ count: 20 })
    w.store.seed(STATE_KEY, '{not json')
    const report = await w.sync()
    expect(report).toMatchObject({ created: 20, exitCode: 0 })
    expect(w.events.some((e) => e.type === 'warning' && /rebuilt/.test(e.message))).toBe(true)
    expect(stateOf(w.store).backfillComplete).toBe(true)

    const w2 = world({ count: 20 })
    w2.store.seed(STATE_KEY, JSON.stringify({ version: 99, datasets: {} }))
    await expect(w2.sync()).rejects.toThrow(/newer garmin-s3/)
    expect(w2.store.keys(PREFIX)).toEqual([])
  })
})

describe('options', () => {
  it.each([
    [{ since: '2024-13-01' }, /--since must be a date/],
    [{ since: 'yesterday' }, /--since must be a date/],
    [{ daysBack: -1 }, /--days-back/],
    [{ daysBack: 1.5 }, /--days-back/],
    [{ since: '2024-01-01', daysBack: 3 }, /one of them/],
    [{ full: true, since: '2024-01-01' }, /--full/],
    [{ concurrency: 0 }, /--concurrency/],
    [{ prefix: 'raw-data/garmin-json' }, /must end with/],
  ])('refuses %o before touching anything', async (options, message) => {
    const w = world({ count: 5 })
    await expect(w.sync(options)).rejects.toMatchObject({
      exitCode: 2,
      message: expect.stringMatching(message),
    })
    expect(w.store.requestCount).toBe(0)
    expect(w.garmin.stats().requests).toEqual({})
  })
})
