/**
 * The handler's own decisions, in process with injected collaborators: the time budget it hands to
 * the sync, what it logs, when it returns and when it throws, and that no token reaches a log line.
 */
import { describe, expect, it } from 'vitest'
import { GarminClient } from '../../src/garmin/client.js'
import type { ActivitySource, TokenStore } from '../../src/garmin/types.js'
import { createHandler, deadlineMargin, type HandlerDeps } from '../../src/lambda/handler.js'
import type { Store } from '../../src/store/types.js'
import type { SyncOptions, SyncReport } from '../../src/sync/types.js'
import { fixtureTokens, MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'

const ENV = {
  BUCKET: 'my-lake',
  PREFIX: 'raw-data/garmin-json/',
  TOKEN_PARAMETER: '/garmin-s3/tokens',
  DAYS_BACK: '30',
}

function report(overrides: Partial<SyncReport> = {}): SyncReport {
  return {
    runId: 'run-1',
    startedAt: '2026-11-28T12:00:00.000Z',
    finishedAt: '2026-11-28T12:00:01.000Z',
    durationMs: 1000,
    location: 's3://my-lake',
    prefix: 'raw-data/garmin-json/',
    created: 2,
    existing: 40,
    skipped: 0,
    failed: 0,
    invalid: 0,
    quarantined: [],
    partial: false,
    dryRun: false,
    requests: { garmin: { list: 1 }, store: { PutObject: 3 } },
    errors: [],
    exitCode: 0,
    stopReason: 'caught-up',
    manifestKey: 'raw-data/_garmin-s3/runs/x.json',
    ...overrides,
  }
}

const context = (remainingMs: number) => ({
  awsRequestId: 'req-1',
  getRemainingTimeInMillis: () => remainingMs,
})

function setup(sync: (options: SyncOptions) => Promise<SyncReport>, env: NodeJS.ProcessEnv = ENV) {
  const lines: Record<string, unknown>[] = []
  const raw: string[] = []
  const calls: SyncOptions[] = []
  const tokens = new MemoryTokenStore(fixtureTokens())
  const clock = new FakeClock()
  const deps: HandlerDeps = {
    env,
    clock,
    writeLine: (line) => {
      raw.push(line)
      lines.push(JSON.parse(line))
    },
    tokenStore: () => tokens,
    store: () => ({ location: 's3://my-lake' }) as Store,
    // Loads the tokens like the Garmin client does, so the handler learns what to keep out of logs.
    garmin: (store: TokenStore) => {
      void store.load()
      return { listActivities: async () => [], stats: () => ({ requests: {} }) } satisfies ActivitySource
    },
    runSync: async (options) => {
      calls.push(options)
      return sync(options)
    },
  }
  return { handler: createHandler(deps), deps, lines, raw, calls, clock }
}

describe('Lambda handler', () => {
  it('gives the sync the remaining time minus a margin, as a deadline on its clock, and logs one line', async () => {
    const { handler, lines, calls, clock } = setup(async () => report())

    const result = await handler({}, context(300_000))

    expect(result).toMatchObject({ runId: 'run-1', created: 2 })
    expect(calls).toEqual([
      expect.objectContaining({
        prefix: 'raw-data/garmin-json/',
        daysBack: 30,
        runner: 'lambda',
        deadline: clock.now() + 300_000 - 30_000,
      }),
    ])
    expect(deadlineMargin(20_000)).toBe(5_000)
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'info',
        runner: 'lambda',
        requestId: 'req-1',
        coldStart: true,
        runId: 'run-1',
        created: 2,
        existing: 40,
        durationMs: 1000,
      }),
    ])
  })

  it('passes RECONCILE_DAYS and TRACK_CHANGES on, and logs what a reconcile found (docs/changes.md)', async () => {
    const { handler, lines, calls } = setup(
      async () => report({ changed: 2, deleted: 1, reconciled: true }),
      { ...ENV, RECONCILE_DAYS: '3', TRACK_CHANGES: 'false' },
    )
    await handler({}, context(300_000))
    expect(calls[0]).toMatchObject({ reconcileDays: 3, trackChanges: false })
    expect(lines[0]).toMatchObject({ changed: 2, deleted: 1, reconciled: true })
    // Unset: the sync's defaults (track changes, reconcile every 7 days).
    const defaults = setup(async () => report())
    await defaults.handler({}, context(300_000))
    expect(defaults.calls[0]).not.toHaveProperty('reconcileDays')
    expect(defaults.calls[0]).not.toHaveProperty('trackChanges')
    expect(defaults.lines[0]).not.toHaveProperty('changed')
  })

  it('returns a partial run normally (the next run resumes), logged as a warning', async () => {
    const { handler, lines } = setup(async () =>
      report({ partial: true, exitCode: 5, stopReason: 'deadline' }),
    )

    await expect(handler({}, context(60_000))).resolves.toMatchObject({ partial: true })

    expect(lines).toEqual([expect.objectContaining({ level: 'warn', partial: true, stopReason: 'deadline' })])
  })

  it('throws on a real failure after logging it, so Lambda retries and alarms see it', async () => {
    const { handler, lines } = setup(async () =>
      report({
        exitCode: 4,
        failed: 0,
        errors: [{ message: 'Garmin is unavailable (HTTP 503)' }],
        stopReason: 'fatal',
      }),
    )

    await expect(handler({}, context(60_000))).rejects.toThrow(
      'garmin-s3 sync failed (exit 4): Garmin is unavailable (HTTP 503)',
    )
    expect(lines).toEqual([expect.objectContaining({ level: 'error', exitCode: 4 })])
  })

  it('takes an empty GARMIN_DOMAIN as unset (garmin.com), as the CLI does', async () => {
    for (const blank of ['', '  ']) {
      // Its own Garmin client this time (not the injected one): the one the function builds from its environment.
      const { garmin: _own, ...deps } = setup(async () => report()).deps
      let client: unknown
      const handler = createHandler({
        ...deps,
        env: { ...ENV, GARMIN_DOMAIN: blank },
        runSync: async (_options, used) => {
          client = used.garmin
          return report()
        },
      })
      await expect(handler({}, context(60_000))).resolves.toMatchObject({ exitCode: 0 })
      expect(client).toBeInstanceOf(GarminClient)
    }
  })

  it('never lets a token into a log line or the thrown error', async () => {
    const { accessToken, refreshToken } = fixtureTokens()
    const { handler, raw } = setup(async () => {
      throw new Error(`refresh failed for ${refreshToken} with Bearer ${accessToken}`)
    })

    const error = (await handler({}, context(60_000)).catch((e: unknown) => e)) as Error

    expect(error.message).toBe('refresh failed for [redacted] with Bearer [redacted]')
    expect(`${error.stack}`).not.toContain(refreshToken)
    expect(raw).toHaveLength(1)
    expect(raw[0]).not.toContain(refreshToken)
    expect(raw[0]).not.toContain(accessToken)
  })

  it('reads its configuration once per cold start and names every missing variable', async () => {
    const env: NodeJS.ProcessEnv = { PREFIX: 'x/', DAYS_BACK: 'soon' }
    const { handler, lines, calls } = setup(async () => report(), env)
    env.BUCKET = 'late-bucket' // a change after the cold start is not seen

    for (let i = 0; i < 2; i++) {
      await expect(handler({}, context(60_000))).rejects.toThrow(
        'garmin-s3 function configuration: missing environment variables BUCKET, TOKEN_PARAMETER; DAYS_BACK must be a positive whole number (got "soon")',
      )
    }
    expect(calls).toEqual([])
    expect(lines.map((l) => [l.level, l.coldStart])).toEqual([
      ['error', true],
      ['error', false],
    ])
  })
})
