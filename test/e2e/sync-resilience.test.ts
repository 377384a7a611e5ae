/**
 * `garmin-s3 sync` when things go wrong: killed mid-backfill, two runs at once, Garmin failing
 * mid-run. Process-level behaviour (SIGKILL, concurrency, exit codes) drives the built CLI; Garmin
 * faults that only need waiting (back-off, Retry-After) run in process on a clock that does not wait.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { GetObjectCommand } from '@aws-sdk/client-s3'
import { describe, expect, inject, it } from 'vitest'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import { DirStore } from '../../src/store/index.js'
import { RESERVED_NAME_PREFIX } from '../../src/store/keys.js'
import { runSync, type SyncSource } from '../../src/sync/index.js'
import { createTestBucket, testS3Client } from '../helpers/s3.js'
import { mulberry32 } from '../sim/prng.js'
import type { FaultRule, Simulator } from '../sim/server.js'
import {
  bucketSnapshot,
  e2eHome,
  etagOf,
  expectSameActivities,
  folderActivities,
  PREFIX,
  runCli,
  signIn,
  simClient,
  syncJson,
} from './sync-helpers.js'

const home = e2eHome('resilience')
// Every test has its own simulator, token file and output, so they run concurrently: the file takes
// as long as its longest test instead of the sum.
const account = (name: string, activities: number, seed: number) =>
  home.account(name, { activities, seed, years: 3 })

describe.concurrent('killed with SIGKILL', () => {
  it('at 10 seeded moments of a 2,000-activity backfill, then rerun: complete, no partial file, nothing twice', async () => {
    const { sim: s, env } = await account('kill', 2000, 5)
    const out = join(home.path(), 'kill-out')
    const dataDir = join(out, 'raw-data', 'garmin-json')
    const random = mulberry32(20261128)
    const moments = Array.from({ length: 10 }, () => Math.floor(random() * 1900)).sort((a, b) => a - b)
    const count = async () =>
      (await readdir(dataDir).catch(() => [])).filter((n) => n.startsWith('activity_')).length

    for (const moment of moments) {
      const killed = await runCli(['sync', '--out', out], {
        env,
        onSpawn: (child) => {
          const poll = setInterval(async () => {
            if ((await count()) >= moment) {
              clearInterval(poll)
              child.kill('SIGKILL')
            }
          }, 10)
          child.on('exit', () => clearInterval(poll))
        },
      })
      expect(killed.signal, `killed at ${moment} stored (${killed.stderr})`).toBe('SIGKILL')
    }
    expect(await count()).toBeLessThan(2000)

    const rerun = await syncJson(['--out', out], env)
    expect(rerun.result.code, rerun.result.stderr).toBe(0)
    expectSameActivities(await folderActivities(out), s.listAll())
    // Besides the activities, only the stores' own hidden bookkeeping may be left in the data folder.
    const names = await readdir(dataDir)
    expect(names.filter((n) => !n.startsWith('activity_') && !n.startsWith(RESERVED_NAME_PREFIX))).toEqual([])
    expect(names.filter((n) => n.startsWith('activity_'))).toHaveLength(2000)
    // A run after that has nothing left to do.
    s.resetStats()
    const again = await syncJson(['--out', out], env)
    expect(again.report.created).toBe(0)
    expect(s.stats().total).toBe(1)
  }, 120_000)
})

describe.concurrent('two syncs at the same time on one bucket', () => {
  it('store every object once with the right content; the state stays consistent', async () => {
    const { sim: s, env } = await account('twin', 200, 9)
    const endpoint = inject('motoEndpoint')
    const client = testS3Client(endpoint)
    const bucket = await createTestBucket(client, 'e2e-twins')
    const args = ['--bucket', bucket, '--endpoint', endpoint, '--path-style']

    const [a, b] = await Promise.all([syncJson(args, env), syncJson(args, env)])
    expect(a.result.code, a.result.stderr).toBe(0)
    expect(b.result.code, b.result.stderr).toBe(0)
    expect(a.report.created + b.report.created).toBe(200)

    const snapshot = await bucketSnapshot(client, bucket)
    const served = s.listAll()
    expect([...snapshot.keys()].filter((k) => k.startsWith(PREFIX))).toHaveLength(200)
    for (const activity of served) {
      expect(snapshot.get(`${PREFIX}activity_${activity.activityId}.json`)?.split(' ')[0]).toBe(
        etagOf(JSON.stringify(activity)),
      )
    }
    const state = JSON.parse(
      await (
        await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'raw-data/_garmin-s3/state.json' }))
      ).Body!.transformToString(),
    ).datasets[PREFIX]
    expect(state).toMatchObject({ backfillComplete: true, counts: { created: 200, runs: 2 } })
    expect(state.newestStartTimeGMT).toBe(served[0]!.startTimeGMT)
    expect([...snapshot.keys()].filter((k) => k.startsWith('raw-data/_garmin-s3/runs/'))).toHaveLength(2)

    s.resetStats()
    const third = await syncJson(args, env)
    expect(third.report.created).toBe(0)
    expect(s.stats().total).toBe(1)
  }, 120_000)
})

describe.concurrent('Garmin failing mid-run', () => {
  /** The client, with `rule` switched on in the simulator just before the third list call. */
  function faultyAt3(s: Simulator, tokens: string, rule: FaultRule): SyncSource {
    const client = simClient(s, tokens)
    let calls = 0
    return {
      listActivities: (query, signal) => {
        if (++calls === 3) s.addFault(rule)
        return client.listActivities(query, signal)
      },
      countActivities: (signal) => client.countActivities(signal),
      stats: () => client.stats(),
    }
  }

  it.each([
    [
      'a 503 burst',
      4,
      { route: 'activityList', fault: { kind: 'status', status: 503 }, times: 12 } as FaultRule,
    ],
    [
      'a 429 storm',
      4,
      {
        route: 'activityList',
        fault: { kind: 'status', status: 429, retryAfter: 3 },
        times: 100,
      } as FaultRule,
    ],
  ])(
    '%s ends with a partial report and exit code %i; the next run completes the set',
    async (_, code, rule) => {
      const { sim: s, tokens } = await account(`fault-${rule.times}`, 700, code + rule.times!)
      const store = new DirStore(join(home.path(), `fault-out-${rule.times}`), { durable: false })
      const options = { prefix: PREFIX, runner: 'cli' as const, toolVersion: 'test' }

      const first = await runSync(options, { garmin: faultyAt3(s, tokens, rule), store })
      expect(first).toMatchObject({ partial: true, exitCode: code, stopReason: 'fatal' })
      expect(first.created).toBeGreaterThanOrEqual(100)
      expect(first.created).toBeLessThan(700)
      expect(first.errors[0]?.hint).toMatch(/next run resumes/)

      s.clearFaults()
      const second = await runSync(options, { garmin: simClient(s, tokens), store })
      expect(second.exitCode).toBe(0)
      expect(first.created + second.created).toBe(700)
      expectSameActivities(await folderActivities(join(home.path(), `fault-out-${rule.times}`)), s.listAll())
    },
    120_000,
  )

  it('a revoked token ends the CLI with exit 3 and a partial report; after login the next run completes', async () => {
    const { sim: s, tokens, env } = await account('revoked', 700, 13)
    const out = join(home.path(), 'revoked-out')
    // The access token answers three more data calls; the refresh that follows is refused.
    s.expireAccessTokensAfter(3)
    s.revokeRefreshTokens()

    const first = await syncJson(['--out', out], env)
    expect(first.result.code).toBe(3)
    expect(first.report).toMatchObject({ partial: true, exitCode: 3, stopReason: 'fatal' })
    expect(first.report.created).toBeGreaterThan(0)
    expect(first.report.errors[0]?.hint).toMatch(/garmin-s3 login/)

    await signIn(s, tokens)
    expect(await new FileTokenStore(tokens).load()).toBeDefined()
    const second = await syncJson(['--out', out], env)
    expect(second.result.code, second.result.stderr).toBe(0)
    expectSameActivities(await folderActivities(out), s.listAll())
  }, 120_000)
})
