import { describe, expect, it } from 'vitest'
import { type DeployOptions, resourceNames } from '../../src/deploy/options.js'
import { executionPolicy } from '../../src/deploy/policy.js'
import { functionEnvironment } from '../../src/deploy/resources.js'
import { UsageError } from '../../src/errors.js'
import { RateLimitedError } from '../../src/garmin/errors.js'
import { DEFAULT_RETRY_POLICY, RateLimitGate, withRetries } from '../../src/garmin/retry.js'
import { loadConfig } from '../../src/lambda/environment.js'
import { decodeDays, encodeDays, readDatasetState } from '../../src/sync/dataset-state.js'
import { DATASET_NAMES, datasetPrefix, datasetPrefixes, parseDatasets } from '../../src/sync/datasets.js'
import { fixtureTokens } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'

describe('--data', () => {
  it('defaults to activities, takes a comma list or all, and brings activities along for per-activity data', () => {
    expect(parseDatasets(undefined)).toEqual(['activities'])
    expect(parseDatasets('sleep, hrv')).toEqual(['sleep', 'hrv'])
    expect(parseDatasets('fit')).toEqual(['activities', 'fit'])
    expect(parseDatasets('all')).toEqual(DATASET_NAMES)
    expect(DATASET_NAMES).toHaveLength(12)
  })

  it('refuses unknown names with a usage error that lists the valid ones', () => {
    expect(() => parseDatasets('sleep,steps')).toThrow(UsageError)
    expect(() => parseDatasets('sleep,steps')).toThrow(/steps/)
    try {
      parseDatasets('steps')
    } catch (error) {
      expect((error as UsageError).exitCode).toBe(2)
      expect((error as UsageError).hint).toContain('training-readiness')
    }
  })
})

describe('layout', () => {
  it('puts every dataset in a sibling of the activity prefix, never inside it', () => {
    expect(datasetPrefix('raw-data/garmin-json/', 'fit')).toBe('raw-data/garmin-fit/')
    expect(datasetPrefix('raw-data/garmin-json/', 'daily-summary')).toBe('raw-data/garmin-daily-summary/')
    expect(datasetPrefix('raw-data/garmin-json/', 'activities')).toBe('raw-data/garmin-json/')
    expect(datasetPrefix('garmin/', 'sleep')).toBe('garmin-sleep/')
    for (const name of DATASET_NAMES.slice(1)) {
      expect(datasetPrefix('raw-data/garmin-json/', name).startsWith('raw-data/garmin-json/')).toBe(false)
    }
  })

  it('remembers days as compact ranges', () => {
    const days = ['2026-01-01', '2026-01-02', '2026-01-03', '2026-02-01', '2025-12-31']
    expect(encodeDays(days)).toEqual(['2025-12-31..2026-01-03', '2026-02-01'])
    expect([...decodeDays(encodeDays(days))].sort()).toEqual([...days].sort())
  })
})

describe('deploy and Lambda', () => {
  it('widens the function policy to exactly the selected dataset prefixes', () => {
    const prefix = 'raw-data/garmin-json/'
    const policy = (datasets: string[]) =>
      executionPolicy({
        partition: 'aws',
        bucket: 'lake',
        prefix,
        controlPrefix: 'raw-data/_garmin-s3/',
        datasetPrefixes: datasetPrefixes(prefix, datasets),
        parameterArn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/garmin-s3/tokens',
      })
    // The activities' history and tombstones are always there (docs/changes.md).
    expect(policy(['fit', 'sleep']).Statement[0]?.Resource).toEqual([
      'arn:aws:s3:::lake/raw-data/garmin-json/*',
      'arn:aws:s3:::lake/raw-data/garmin-json-history/*',
      'arn:aws:s3:::lake/raw-data/garmin-json-deleted/*',
      'arn:aws:s3:::lake/raw-data/garmin-fit/*',
      'arn:aws:s3:::lake/raw-data/garmin-sleep/*',
      'arn:aws:s3:::lake/raw-data/_garmin-s3/*',
    ])
    // Details and splits follow edits: their history too; the FIT original has none.
    expect(policy(['fit', 'details']).Statement[0]?.Resource).toContain(
      'arn:aws:s3:::lake/raw-data/garmin-details-history/*',
    )
    expect(policy(['fit']).Statement[0]?.Resource).not.toContain(
      'arn:aws:s3:::lake/raw-data/garmin-fit-history/*',
    )
  })

  it('passes the selection to the function as DATASETS, only when it is more than activities', () => {
    const options: DeployOptions = {
      name: 'unit',
      bucket: 'lake',
      prefix: 'raw-data/garmin-json/',
      controlPrefix: 'raw-data/_garmin-s3/',
      runtime: 'nodejs22.x',
      memory: 256,
      timeout: 300,
      schedule: 'cron(0 6 * * ? *)',
      timezone: 'UTC',
      scheduler: 'schedule',
    }
    const env = (datasets?: string[]) =>
      functionEnvironment(
        {
          options: { ...options, ...(datasets ? { datasets } : {}) },
          tokens: fixtureTokens(),
          zip: new Uint8Array(),
          codeSha256: 'x',
        },
        resourceNames('unit'),
      )
    expect(env(['activities', 'fit', 'sleep']).DATASETS).toBe('activities,fit,sleep')
    expect(env(['activities'])).not.toHaveProperty('DATASETS')
    expect(env()).not.toHaveProperty('DATASETS')
  })

  it('reads DATASETS from the function environment and names a bad one', () => {
    const env = { BUCKET: 'lake', TOKEN_PARAMETER: '/garmin-s3/tokens' }
    expect(loadConfig({ ...env, DATASETS: 'all' }).datasets).toEqual(DATASET_NAMES)
    expect(loadConfig(env).datasets).toBeUndefined()
    expect(() => loadConfig({ ...env, DATASETS: 'sleep,nope' })).toThrow(/DATASETS.*nope/)
  })
})

describe('one rate-limit budget per client', () => {
  it('a 429 on one call pauses the others, and the waiting is counted once for all', async () => {
    const clock = new FakeClock()
    const gate = new RateLimitGate()
    const policy = { ...DEFAULT_RETRY_POLICY, rateLimitBudgetMs: 10_000 }
    const attempts: Array<{ call: string; at: number }> = []
    let limited = true
    const call = (name: string) =>
      withRetries(
        async () => {
          attempts.push({ call: name, at: clock.now() })
          if (name === 'a' && limited) {
            limited = false
            return { ok: false as const, kind: 'rateLimited' as const, endpoint: '/a', retryAfterMs: 4000 }
          }
          return { ok: true as const, value: name }
        },
        { policy, clock, random: () => 0.5, gate },
      )
    const start = clock.now()
    await call('a')
    // After the 429, b waits for the pause to end before its first attempt.
    const b = call('b')
    await b
    expect(attempts.map((a) => a.call)).toEqual(['a', 'a', 'b'])
    expect(attempts[1]!.at - start).toBe(4000)

    // A storm that outlasts the shared budget ends with RateLimitedError.
    const storm = () =>
      withRetries(
        async () => ({
          ok: false as const,
          kind: 'rateLimited' as const,
          endpoint: '/x',
          retryAfterMs: 3000,
        }),
        { policy, clock, random: () => 0.5, gate },
      )
    await expect(Promise.all([storm(), storm()])).rejects.toThrow(RateLimitedError)
  })
})

describe('datasets.json across releases', () => {
  const key = 'raw-data/_garmin-s3/datasets.json'
  const write = (store: MemoryStore, doc: unknown) =>
    store.putIfAbsent(key, new TextEncoder().encode(JSON.stringify(doc)), 'application/json')
  const sleep = {
    kind: 'daily',
    from: '2025-01-01',
    through: '2026-12-01',
    pending: [],
    noData: ['2025-02-03'],
  }

  it('reads a version 1 file of an earlier release as it is: its cursors are kept, not backfilled again', async () => {
    const store = new MemoryStore()
    await write(store, {
      version: 1,
      updatedAt: '2026-12-01T06:00:00Z',
      datasets: { 'raw-data/garmin-sleep/': sleep },
    })
    const state = await readDatasetState(store, 'raw-data/garmin-json/')
    expect(state.datasets['raw-data/garmin-sleep/']).toMatchObject({
      from: '2025-01-01',
      through: '2026-12-01',
    })
  })

  it('refuses a file of a newer release with the upgrade hint', async () => {
    const store = new MemoryStore()
    await write(store, { version: 99, updatedAt: '', datasets: {} })
    await expect(readDatasetState(store, 'raw-data/garmin-json/')).rejects.toThrow(
      /newer garmin-s3 \(version 99\)/,
    )
  })
})
