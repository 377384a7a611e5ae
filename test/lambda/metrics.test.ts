/**
 * The metrics the function prints, checked against the Embedded Metric Format specification (what
 * CloudWatch Logs needs to turn a log line into metrics) and for what a user's alarms would see:
 * a successful run, a run whose Garmin sign-in expired, a run with failed datasets.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type AlarmSpec, alarmSpecs } from '../../src/deploy/alerts.js'
import { AuthError } from '../../src/garmin/errors.js'
import type { ActivitySource } from '../../src/garmin/types.js'
import { createHandler } from '../../src/lambda/handler.js'
import type { Store } from '../../src/store/types.js'
import type { SyncReport } from '../../src/sync/types.js'
import { NOW, recentAccount, signedInClient } from '../datasets/helpers.js'
import { fixtureTokens, MemoryTokenStore } from '../deploy/helpers.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import type { Simulator } from '../sim/server.js'

const ENV = {
  BUCKET: 'my-lake',
  PREFIX: 'raw-data/garmin-json/',
  TOKEN_PARAMETER: '/nightly/tokens',
  AWS_LAMBDA_FUNCTION_NAME: 'nightly',
}

const REPORT: SyncReport = {
  runId: 'run-1',
  startedAt: '2026-11-28T12:00:00.000Z',
  finishedAt: '2026-11-28T12:00:01.000Z',
  durationMs: 1234,
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
  requests: { garmin: {}, store: {} },
  errors: [],
  exitCode: 0,
  stopReason: 'caught-up',
  manifestKey: 'raw-data/_garmin-s3/runs/x.json',
}

async function run(sync: () => Promise<SyncReport>): Promise<Record<string, unknown>[]> {
  const lines: Record<string, unknown>[] = []
  const handler = createHandler({
    env: ENV,
    clock: new FakeClock(),
    writeLine: (line) => lines.push(JSON.parse(line)),
    tokenStore: () => new MemoryTokenStore(fixtureTokens()),
    store: () => ({ location: 's3://my-lake' }) as Store,
    garmin: () => ({ listActivities: async () => [], stats: () => ({ requests: {} }) }) as ActivitySource,
    runSync: sync,
  })
  await handler({}, { awsRequestId: 'req-1', getRemainingTimeInMillis: () => 300_000 }).catch(() => {})
  return lines
}

interface Extracted {
  namespace: string
  dimensions: Record<string, string>
  metric: string
  unit: string
  value: number
}

/** What CloudWatch would extract from one line, failing on anything the EMF spec rejects. */
function extract(line: Record<string, unknown>): Extracted[] {
  const aws = line._aws as { Timestamp: unknown; CloudWatchMetrics: unknown }
  expect(Number.isInteger(aws.Timestamp)).toBe(true)
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true)
  const out: Extracted[] = []
  for (const directive of aws.CloudWatchMetrics as Record<string, unknown>[]) {
    const namespace = directive.Namespace as string
    expect(namespace).toMatch(/^[^:].{0,254}$/)
    const sets = directive.Dimensions as string[][]
    const metrics = directive.Metrics as { Name: string; Unit: string }[]
    expect(metrics.length).toBeLessThanOrEqual(100)
    for (const set of sets) {
      expect(set.length).toBeLessThanOrEqual(30)
      const dimensions: Record<string, string> = {}
      for (const key of set) {
        // A dimension must be a top-level string member of the same line.
        expect(typeof line[key]).toBe('string')
        dimensions[key] = line[key] as string
      }
      for (const { Name, Unit } of metrics) {
        expect(Name.length).toBeGreaterThan(0)
        expect(['Count', 'Milliseconds', 'None', 'Seconds']).toContain(Unit)
        // A metric must be a top-level number member, else CloudWatch drops it silently.
        expect(typeof line[Name]).toBe('number')
        out.push({ namespace, dimensions, metric: Name, unit: Unit, value: line[Name] as number })
      }
    }
  }
  return out
}

const metricsOf = (lines: Record<string, unknown>[]) => lines.filter((l) => l._aws).flatMap(extract)
const metricValue = (m: Extracted[], metric: string, dataset?: string) =>
  m.find((x) => x.metric === metric && x.dimensions.Dataset === dataset)?.value

describe('Lambda metrics (Embedded Metric Format)', () => {
  it('a successful run: one line that is both the log and the run metrics, by deployment', async () => {
    const lines = await run(async () => REPORT)

    expect(lines).toHaveLength(1)
    const m = metricsOf(lines)
    expect(new Set(m.map((x) => x.namespace))).toEqual(new Set(['garmin-s3']))
    expect(m.every((x) => x.dimensions.Deployment === 'nightly')).toBe(true)
    expect(Object.fromEntries(m.map((x) => [x.metric, x.value]))).toEqual({
      runs: 1,
      successes: 1,
      signInNeeded: 0,
      exitCode: 0,
      created: 2,
      failed: 0,
      failedRunsInARow: 0,
      durationMs: 1234,
    })
    expect(m.find((x) => x.metric === 'durationMs')?.unit).toBe('Milliseconds')
  })

  it('an expired sign-in (thrown or reported) counts as a run with signInNeeded and no success', async () => {
    for (const sync of [
      async () => {
        throw new AuthError('Garmin refused the refresh token')
      },
      async () => ({ ...REPORT, created: 0, exitCode: 3 as const }),
    ]) {
      const m = metricsOf(await run(sync))
      expect(metricValue(m, 'runs')).toBe(1)
      expect(metricValue(m, 'successes')).toBe(0)
      expect(metricValue(m, 'signInNeeded')).toBe(1)
      expect(metricValue(m, 'exitCode')).toBe(3)
    }
  })

  it("the run's failed counts every item it could not store: activities, dataset items, whole datasets", async () => {
    const counts = { created: 0, updated: 0, unchanged: 0, existing: 0, noData: 0, requests: 1 }
    const lines = await run(async () => ({
      ...REPORT,
      failed: 0,
      exitCode: 5,
      partial: true,
      failedRunsInARow: 1,
      datasets: {
        activities: { ...counts, created: 2, failed: 0 },
        sleep: { ...counts, failed: 3 },
        hrv: { ...counts, failed: 0, error: 'could not list raw-data/garmin-hrv/' },
      },
    }))

    const m = metricsOf(lines)
    // Three sleep days and the hrv dataset, though no activity failed.
    expect(metricValue(m, 'failed')).toBe(4)
    // The same items as the per-dataset lines, so a dashboard's sum over Dataset matches the run's.
    const perDataset = m.filter((x) => x.metric === 'failed' && x.dimensions.Dataset !== undefined)
    expect(perDataset.reduce((sum, x) => sum + x.value, 0)).toBe(4)
    // The log line says the same as the metric (it is the same member).
    expect(lines[0]?.failed).toBe(4)
  })

  it('per dataset: created and failed on lines of their own, with a Dataset dimension', async () => {
    const counts = { updated: 0, unchanged: 0, existing: 0, noData: 0, requests: 1 }
    const lines = await run(async () => ({
      ...REPORT,
      failed: 1,
      exitCode: 5,
      partial: true,
      datasets: {
        activities: { ...counts, created: 2, failed: 0 },
        sleep: { ...counts, created: 3, failed: 1 },
      },
    }))

    expect(lines).toHaveLength(3)
    const m = metricsOf(lines)
    expect(metricValue(m, 'successes')).toBe(1)
    // The run's failed: the activity and the sleep day.
    expect(metricValue(m, 'failed')).toBe(2)
    expect(metricValue(m, 'created', 'sleep')).toBe(3)
    expect(metricValue(m, 'failed', 'sleep')).toBe(1)
    expect(metricValue(m, 'created', 'activities')).toBe(2)
    expect(m.filter((x) => x.dimensions.Dataset).every((x) => x.dimensions.Deployment === 'nightly')).toBe(
      true,
    )
  })
})

/** What an alarm's statistic makes of one period holding these values, against its threshold. */
function breaches(spec: AlarmSpec, values: number[]): boolean {
  const statistic = spec.Statistic === 'Sum' ? values.reduce((a, b) => a + b, 0) : Math.max(...values)
  return spec.ComparisonOperator === 'GreaterThanOrEqualToThreshold'
    ? statistic >= spec.Threshold
    : statistic < spec.Threshold
}

describe('the alarms deploy creates watch what the handler emits', () => {
  // The function is named after the deployment, which is the Deployment dimension's value.
  const specs = alarmSpecs({ name: 'nightly', bucket: 'my-lake', noDataDays: 3 })
  const runs = {
    signInExpired: async () => {
      throw new AuthError('Garmin refused the refresh token')
    },
    successful: async () => REPORT,
    itemsFailed: async () => ({
      ...REPORT,
      created: 0,
      failed: 2,
      failedRunsInARow: 3,
      exitCode: 5 as const,
      partial: true,
    }),
    // Failures on the second run in a row only: not yet an alarm.
    itemsFailedTwice: async () => ({
      ...REPORT,
      created: 1,
      failed: 2,
      failedRunsInARow: 2,
      exitCode: 5 as const,
      partial: true,
    }),
  }

  /** The values CloudWatch would record for the alarm's exact metric (namespace, name, dimension set). */
  async function seen(spec: AlarmSpec, sync: () => Promise<SyncReport>): Promise<number[]> {
    const wanted = Object.fromEntries(spec.Dimensions.map((d) => [d.Name, d.Value]))
    return metricsOf(await run(sync))
      .filter(
        (x) =>
          x.namespace === spec.Namespace &&
          x.metric === spec.MetricName &&
          JSON.stringify(Object.entries(x.dimensions).sort()) ===
            JSON.stringify(Object.entries(wanted).sort()),
      )
      .map((x) => x.value)
  }

  it('every alarm: its namespace, metric name and dimensions are on the lines of every kind of run', async () => {
    expect(specs.map((s) => s.kind).sort()).toEqual([
      'failed-items',
      'no-new-activity',
      'no-successful-run',
      'sign-in-needed',
    ])
    for (const spec of specs) {
      for (const [kind, sync] of Object.entries(runs)) {
        expect({ alarm: spec.AlarmName, run: kind, values: (await seen(spec, sync)).length }).toEqual({
          alarm: spec.AlarmName,
          run: kind,
          values: 1,
        })
      }
    }
  })

  it("each alarm's statistic and threshold tell the run it is about from a good one", async () => {
    const verdicts: Record<string, Record<string, boolean>> = {}
    for (const spec of specs) {
      verdicts[spec.kind] = {}
      for (const [kind, sync] of Object.entries(runs)) {
        ;(verdicts[spec.kind] as Record<string, boolean>)[kind] = breaches(spec, await seen(spec, sync))
      }
    }
    expect(verdicts).toEqual({
      'sign-in-needed': {
        signInExpired: true,
        successful: false,
        itemsFailed: false,
        itemsFailedTwice: false,
      },
      // A partial run with failed items still succeeded: the next run resumes.
      'no-successful-run': {
        signInExpired: true,
        successful: false,
        itemsFailed: false,
        itemsFailedTwice: false,
      },
      'failed-items': { signInExpired: false, successful: false, itemsFailed: true, itemsFailedTwice: false },
      'no-new-activity': {
        signInExpired: true,
        successful: false,
        itemsFailed: true,
        itemsFailedTwice: false,
      },
    })
  })
})

describe('the failed-items alarm sees runs whose datasets failed (a real sync, simulator over HTTP)', () => {
  let sim: Simulator
  beforeAll(async () => {
    sim = await recentAccount(10)
  })
  afterAll(async () => {
    await sim.close()
  })

  it('three runs in a row with failed dataset items or a failed dataset breach it; a clean run clears it', async () => {
    const spec = alarmSpecs({ name: 'nightly', bucket: 'my-lake' }).find((s) => s.kind === 'failed-items')!
    const clock = new FakeClock(NOW)
    const store = new MemoryStore()
    const garmin = await signedInClient(sim, clock)
    const handler = createHandler({
      env: { ...ENV, DATASETS: 'activities,sleep,splits', DAYS_BACK: '9' },
      clock,
      writeLine: (line) => lines.push(JSON.parse(line)),
      tokenStore: () => new MemoryTokenStore(fixtureTokens()),
      store: () => store,
      garmin: () => garmin,
    })
    let lines: Record<string, unknown>[] = []
    /** One invocation: the alarm metric's values on its lines, and whether the alarm would fire. */
    const invoke = async () => {
      lines = []
      await handler({}, { awsRequestId: 'req', getRemainingTimeInMillis: () => 300_000 })
      const values = metricsOf(lines)
        .filter((x) => x.metric === spec.MetricName && x.dimensions.Dataset === undefined)
        .map((x) => x.value)
      clock.advance(3_600_000)
      return { values, alarm: breaches(spec, values) }
    }

    // Runs 1 and 2: every sleep day fails to be written (the activities are all stored).
    store.failWhen({ op: 'putIfAbsent', key: /sleep_/, error: () => new Error('socket hang up') })
    expect(await invoke()).toEqual({ values: [1], alarm: false })
    const sleepFailed = metricValue(metricsOf(lines), 'failed', 'sleep')
    expect(sleepFailed).toBeGreaterThan(0)
    expect(metricValue(metricsOf(lines), 'failed', 'activities')).toBe(0)
    // The run's failed counts the sleep days too, though every activity was stored.
    expect(metricValue(metricsOf(lines), 'failed')).toBe(sleepFailed)
    expect(await invoke()).toEqual({ values: [2], alarm: false })
    // Run 3: sleep works again, but the datasets fail as a whole (their cursors cannot be read, once).
    store.clearFailures()
    store.failWhen({ op: 'get', key: /datasets\.json$/, times: 1, error: () => new Error('socket hang up') })
    expect(await invoke()).toEqual({ values: [3], alarm: true })
    expect(metricValue(metricsOf(lines), 'failed', 'splits')).toBe(1)
    // Both datasets failed as a whole: one item each in the run's failed.
    expect(metricValue(metricsOf(lines), 'failed')).toBe(2)
    // Run 4 stores everything: the streak is over.
    expect(await invoke()).toEqual({ values: [0], alarm: false })
  })
})
