/**
 * The health verdict, one test per cause: real syncs (the pipeline with an in-memory Garmin list and
 * store) produce the state, a FakeClock decides how much time has passed, and status judges it.
 */
import { randomUUID } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { AuthError } from '../../src/garmin/errors.js'
import { openTokenStore } from '../../src/garmin/tokens.js'
import type { StoredTokens } from '../../src/garmin/types.js'
import { judgeHealth } from '../../src/status/health.js'
import { type AlertsSummary, gatherStatus, type StatusReport } from '../../src/status/index.js'
import { runSync, stateKeyFor } from '../../src/sync/index.js'
import { MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { FakeGarmin } from '../sync/fake-garmin.js'
import { PREFIX, SKIP_AWS, tokensRotatedAt } from './helpers.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

function world(count = 40) {
  const clock = new FakeClock(Date.UTC(2026, 10, 28, 12, 0, 0))
  const garmin = new FakeGarmin({ count, clock })
  const store = new MemoryStore()
  let runs = 0
  const tokens = new MemoryTokenStore(tokensRotatedAt(clock.now() - 2 * DAY))
  return {
    clock,
    garmin,
    store,
    tokens,
    sync: (runner: 'cli' | 'lambda' | 'github-actions' = 'cli') =>
      runSync(
        { prefix: PREFIX, runner, toolVersion: '0.0.0-test' },
        { garmin, store, clock, newRunId: () => `run${++runs}` },
      ),
    status: (extra: { tokens?: StoredTokens } = {}): Promise<StatusReport> =>
      gatherStatus(
        { prefix: PREFIX, deploymentName: 'garmin-s3' },
        {
          store,
          clock,
          tokenStore: extra.tokens ? new MemoryTokenStore(extra.tokens) : tokens,
          aws: SKIP_AWS,
        },
      ),
  }
}

const codes = (report: StatusReport) => report.health.causes.map((c) => c.code)

describe('health verdict', () => {
  it('OK: a recent successful run, fresh tokens', async () => {
    const w = world()
    expect((await w.sync()).exitCode).toBe(0)
    w.clock.advance(2 * HOUR)
    const report = await w.status()
    expect(report.health).toEqual({ verdict: 'OK', causes: [], next: 'Nothing to do.' })
    expect(report.activities.stored).toBe(40)
  })

  it('WARN: no successful run in 36 hours', async () => {
    const w = world()
    await w.sync('lambda')
    w.clock.advance(35 * HOUR)
    expect((await w.status()).health.verdict).toBe('OK')
    w.clock.advance(2 * HOUR)
    const report = await w.status()
    expect(report.health.verdict).toBe('WARN')
    expect(codes(report)).toEqual(['stale'])
    expect(report.health.causes[0]?.message).toMatch(/No successful run for 37 h/)
    expect(report.health.causes[0]?.next).toMatch(/garmin-s3 sync|deploy/)
  })

  it('WARN: failures in the last run', async () => {
    const w = world()
    w.store.failWhen({
      op: 'putIfAbsent',
      key: /activity_/,
      times: 2,
      error: () => new Error('socket hang up'),
    })
    const run = await w.sync()
    expect(run.failed).toBe(2)
    const report = await w.status()
    expect(report.health.verdict).toBe('WARN')
    expect(codes(report)).toEqual(['last-run-failures'])
    expect(report.health.causes[0]?.message).toMatch(/2 activities failed/)
    expect(report.health.causes[0]?.next).toContain(run.manifestKey)
    // The next run retries them and the warning goes away.
    expect((await w.sync()).created).toBe(2)
    expect((await w.status()).health.verdict).toBe('OK')
  })

  it('WARN: a state that is not valid JSON is named as unreadable, with sync to rebuild it; a newer one asks for an upgrade', async () => {
    const w = world()
    await w.sync()
    const key = stateKeyFor(PREFIX)
    const good = (await w.store.get(key))!.body
    w.store.seed(key, new TextDecoder().decode(good).slice(0, 40))
    const report = await w.status()
    expect(report.health.verdict).toBe('WARN')
    const cause = report.health.causes.find((c) => c.code === 'state-unreadable')
    expect(cause?.message).toContain(key)
    expect(cause?.message).toMatch(/not valid JSON/)
    expect(cause?.next).not.toMatch(/[Uu]pgrade/)
    expect(cause?.next).toMatch(/garmin-s3 sync/)
    expect(cause?.next).toMatch(/move it aside/i)
    // What the next step says: a sync rebuilds it from what is stored, copying nothing again.
    const rebuilt = await w.sync()
    expect(rebuilt.exitCode).toBe(0)
    expect(rebuilt.created).toBe(0)
    expect(codes(await w.status())).not.toContain('state-unreadable')

    w.store.seed(key, JSON.stringify({ version: 99, updatedAt: '', datasets: {} }))
    const newer = (await w.status()).health.causes.find((c) => c.code === 'state-unreadable')
    expect(newer?.message).toMatch(/newer garmin-s3/)
    expect(newer?.next).toMatch(/npm install -g garmin-s3@latest/)
  })

  it('WARN: the refresh token is older than 20 days', async () => {
    const w = world()
    await w.sync()
    const fresh = await w.status({ tokens: tokensRotatedAt(w.clock.now() - 19 * DAY) })
    expect(fresh.health.verdict).toBe('OK')
    const old = await w.status({ tokens: tokensRotatedAt(w.clock.now() - 21 * DAY) })
    expect(old.health.verdict).toBe('WARN')
    expect(codes(old)).toEqual(['refresh-token-old'])
    expect(old.health.causes[0]?.message).toMatch(/21 days old/)
    expect(old.health.causes[0]?.next).toMatch(/garmin-s3 login/)
    expect(old.tokens.local.refreshTokenRotatedAt).toBe(new Date(w.clock.now() - 21 * DAY).toISOString())
  })

  it('FAIL: the last run could not sign in', async () => {
    const w = world()
    await w.sync('lambda')
    w.clock.advance(DAY)
    w.garmin.addNewer(3)
    w.garmin.failList = () => new AuthError('Garmin refused the refresh token (invalid_grant)')
    const run = await w.sync('lambda')
    expect(run.exitCode).toBe(3)
    const report = await w.status()
    expect(report.health.verdict).toBe('FAIL')
    expect(codes(report)).toEqual(['auth-failed'])
    expect(report.health.causes[0]?.message).toContain('invalid_grant')
    // Lambda runs take their tokens from the deployment: the next step says how to get new ones there.
    expect(report.health.causes[0]?.next).toMatch(/garmin-s3 login.*garmin-s3 deploy --name garmin-s3/)
    expect(report.lastRun).toMatchObject({ exitCode: 3, runner: 'lambda', stopReason: 'fatal' })
  })

  it('FAIL: nothing ever synced (an empty target)', async () => {
    const w = world()
    const report = await w.status()
    expect(report.health.verdict).toBe('FAIL')
    expect(codes(report)).toEqual(['nothing-synced'])
    expect(report.health.causes[0]?.next).toMatch(/garmin-s3 sync/)
    expect(report.state.present).toBe(false)
    expect(report.activities.dataPresent).toBe(false)
  })

  it('FAIL: nothing ever synced (the first run failed to sign in)', async () => {
    const w = world()
    w.garmin.failList = () => new AuthError('Garmin refused the refresh token (invalid_grant)')
    expect((await w.sync()).exitCode).toBe(3)
    const report = await w.status()
    expect(report.health.verdict).toBe('FAIL')
    expect(codes(report)).toEqual(['nothing-synced', 'auth-failed'])
  })

  it('FAIL: a CLI run found no tokens: the next step is the login into the token store status reads', async () => {
    const w = world()
    w.garmin.failList = () => new AuthError('No Garmin tokens are stored at /somewhere/tokens.json.')
    expect((await w.sync()).exitCode).toBe(3)
    const path = join(tmpdir(), `garmin-s3-no-such-folder-${randomUUID()}`, 'tokens.json')
    const report = await gatherStatus(
      { prefix: PREFIX, deploymentName: 'garmin-s3' },
      { store: w.store, clock: w.clock, tokenStore: openTokenStore(path, {}), aws: SKIP_AWS },
    )
    const hint = `Run \`garmin-s3 login --token-store ${path}\` first (or pass the right --token-store).`
    expect(report.tokens.local).toMatchObject({ status: 'absent', next: hint })
    expect(report.health.causes.find((c) => c.code === 'auth-failed')?.next).toBe(`${hint} Then sync again.`)
  })

  it('alerts: an alarm in ALARM is a cause with the next step of its description; unconfirmed emails WARN', async () => {
    const w = world()
    await w.sync('lambda')
    const report = await w.status()
    const alerts: AlertsSummary = {
      status: 'present',
      failureDestination: 'arn:aws:sns:us-east-1:123456789012:garmin-s3-alerts',
      topicArn: 'arn:aws:sns:us-east-1:123456789012:garmin-s3-alerts',
      subscriptions: [
        { endpoint: 'a@example.com', pending: false },
        { endpoint: 'b@example.com', pending: true },
      ],
      alarms: [
        {
          name: 'garmin-s3-failed-items',
          kind: 'failed-items',
          state: 'ALARM',
          since: '2026-11-28T06:00:00.000Z',
          description: 'Every run left items it could not store, 3 days in a row.',
          next: 'garmin-s3 status --name garmin-s3 --bucket my-lake lists them.',
        },
        {
          name: 'garmin-s3-sign-in-needed',
          kind: 'sign-in-needed',
          state: 'OK',
          since: null,
          description: null,
          next: null,
        },
      ],
      reason: null,
    }
    const health = judgeHealth({
      now: w.clock.now(),
      state: report.state,
      activities: report.activities,
      lastRun: report.lastRun,
      lastSuccessAt: report.lastSuccessAt,
      deployment: { ...report.deployment, alerts },
      tokens: report.tokens.local,
      drift: null,
    })
    expect(health.verdict).toBe('WARN')
    expect(health.causes).toEqual([
      {
        code: 'alarm',
        level: 'WARN',
        message:
          'Alarm garmin-s3-failed-items is in ALARM since 2026-11-28T06:00:00.000Z: Every run left items it could not store, 3 days in a row.',
        next: 'garmin-s3 status --name garmin-s3 --bucket my-lake lists them.',
      },
      expect.objectContaining({
        code: 'alerts-unconfirmed',
        level: 'WARN',
        message: expect.stringContaining('b@example.com'),
      }),
    ])
    expect(health.causes[1]?.next).toContain(
      'aws sns subscribe --topic-arn arn:aws:sns:us-east-1:123456789012:garmin-s3-alerts',
    )
    expect(health.causes[1]?.message).not.toContain('a@example.com')
  })
})
