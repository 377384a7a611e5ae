/**
 * The human `status` report (src/status/render.ts) with every section filled in: a deployment with
 * its schedule and token parameter, --deep figures, several runs and every dataset, training-readiness
 * (the longest name) among them. Whatever its length, a label never runs into its value, and a dataset
 * name never runs into its figures (issue 14: `token param/garmin-s3/tokens`,
 * `training-readiness1,094 days`).
 */
import { describe, expect, it } from 'vitest'
import { renderStatus } from '../../src/status/render.js'
import type { RunSummary, StatusReport } from '../../src/status/types.js'
import { DATASETS } from '../../src/sync/datasets.js'

const NOW = '2026-11-28T15:00:00.000Z'

function run(startedAt: string): RunSummary {
  return {
    runId: startedAt,
    startedAt,
    finishedAt: startedAt,
    durationMs: 2100,
    runner: 'lambda',
    created: 1,
    existing: 9,
    failed: 0,
    datasetsFailed: {},
    datasetsErrored: {},
    partial: false,
    exitCode: 0,
    stopReason: null,
    error: null,
    manifestKey: `raw-data/_garmin-s3/runs/${startedAt}.json`,
  }
}

const report: StatusReport = {
  schemaVersion: 1,
  generatedAt: NOW,
  location: 's3://my-garmin-lake',
  prefix: 'raw-data/garmin-json/',
  mode: 'deep',
  state: {
    key: 'raw-data/_garmin-s3/state.json',
    present: true,
    readable: true,
    updatedAt: '2026-11-28T12:00:00.000Z',
    problem: null,
    problemKind: null,
  },
  datasetsState: {
    key: 'raw-data/_garmin-s3/datasets.json',
    present: true,
    readable: true,
    updatedAt: '2026-11-28T12:00:00.000Z',
    problem: null,
    problemKind: null,
  },
  activities: {
    stored: 1873,
    newest: '2026-11-28 06:00:00',
    oldest: '2016-03-02 07:00:00',
    historyComplete: true,
    quarantined: 0,
    dataPresent: null,
    changes: {
      changed: 3,
      deleted: 1,
      lastReconcileAt: '2026-11-26T12:00:00.000Z',
      nextReconcileDue: '2026-12-03T12:00:00.000Z',
      reconcileDays: 7,
    },
  },
  archive: {
    pending: 69,
    oldest: '2026-03-24',
    restored: 30,
    noFiles: 1,
    budget: 25,
    deniedOn: null,
    daysToRestore: 3,
  },
  datasets: DATASETS.map((spec) =>
    spec.kind === 'daily'
      ? {
          dataset: spec.name,
          kind: 'daily' as const,
          prefix: `raw-data/garmin-json/${spec.name}/`,
          stored: 1094,
          newest: '2026-11-27',
          pending: [],
        }
      : {
          dataset: spec.name,
          kind: 'per-activity' as const,
          prefix: `raw-data/garmin-json/${spec.name}/`,
          stored: 1873,
        },
  ),
  lastRun: run('2026-11-28T12:00:00.000Z'),
  lastSuccessAt: '2026-11-28T12:00:00.000Z',
  recentRuns: [run('2026-11-28T12:00:00.000Z'), run('2026-11-27T12:00:00.000Z')],
  deep: {
    objects: 1880,
    bytes: 123_456_789,
    activities: 1873,
    byYear: { '2025': 300, '2026': 1573 },
    byType: { running: 1873 },
    uncatalogued: 0,
    offLayout: { count: 0, examples: [] },
    drift: { detected: false, stateCount: 1873, listedCount: 1873, missing: { count: 0, examples: [] } },
    repair: null,
    listRequests: 2,
    durationMs: 900,
  },
  deployment: {
    name: 'garmin-s3',
    checked: true,
    deployed: true,
    reason: null,
    function: {
      status: 'present',
      name: 'garmin-s3',
      runtime: 'nodejs22.x',
      lastModified: '2026-11-20T09:12:00.000Z',
      state: 'Active',
      bucket: 'my-garmin-lake',
      prefix: 'raw-data/garmin-json/',
      reason: null,
    },
    schedule: {
      status: 'present',
      kind: 'schedule',
      name: 'garmin-s3',
      expression: 'cron(0 6 * * ? *)',
      timezone: 'America/Chicago',
      enabled: true,
      nextRuns: [{ at: '2026-11-29T12:00:00.000Z', local: '2026-11-29 06:00 CST' }],
      reason: null,
    },
    tokenParameter: {
      status: 'present',
      name: '/garmin-s3/tokens',
      lastModified: '2026-11-28T12:00:00.000Z',
      reason: null,
    },
    alerts: null,
  },
  tokens: {
    local: {
      location: '~/.config/garmin-s3/tokens.json',
      status: 'present',
      displayName: 'runner_1',
      accessTokenExpiresAt: '2026-11-29T12:00:00.000Z',
      refreshTokenRotatedAt: '2026-11-28T12:00:00.000Z',
      obtainedAt: '2026-11-28T12:00:00.000Z',
      reason: null,
      next: null,
    },
    deployed: null,
  },
  health: { verdict: 'OK', causes: [], next: null },
  requests: { store: { GetObject: 2 } },
}

describe('the human status report', () => {
  const lines = renderStatus(report, { color: false })

  it('parts every label from its value: one value column, at least one space before it', () => {
    const labelled = lines.filter((line) => /^ {0,2}[A-Za-z]/.test(line))
    // Top-level and indented labels alike (Location … Health, `  schedule`, `  parameter`, `  by year`).
    expect(labelled.length).toBeGreaterThan(15)
    for (const line of labelled) {
      expect(line.slice(12, 13), line).toBe(' ')
      expect(line.slice(13, 14), line).not.toBe(' ')
    }
    expect(lines).toContain('  parameter  /garmin-s3/tokens, written 2026-11-28 12:00Z (3 h ago)')
    expect(lines.join('\n')).not.toMatch(/param\/garmin-s3/)
  })

  it('reports edits and deletions followed, the last reconcile and the next one due (docs/changes.md)', () => {
    const line = lines.find((l) => l.startsWith('Changes'))
    expect(line).toBe(
      'Changes      3 changed, 1 deleted in Garmin; last reconcile 2026-11-26 12:00Z (2 days ago), next due 2026-12-03 12:00Z (in 5 days)',
    )
  })

  it('parts every dataset name from its figures, the longest (training-readiness) too', () => {
    const rows = lines.filter((line) => DATASETS.some((d) => line.slice(13).startsWith(`${d.name} `)))
    expect(rows).toHaveLength(DATASETS.length)
    const readiness = rows.find((line) => line.includes('training-readiness'))
    expect(readiness).toMatch(/training-readiness {2,}1,094 days, newest 2026-11-27$/)
    // The figures start in one column for every dataset.
    const column = (line: string) => line.search(/\d/)
    expect(new Set(rows.map(column)).size).toBe(1)
  })
})
