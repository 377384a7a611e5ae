/**
 * The run manifest: one object per run beside the data (`<controlPrefix>runs/<startedAt>_<runId>.json`),
 * written create-only after the state. It is the SyncReport plus what produced it (options, runner,
 * tool version), so a bucket carries its own history of runs.
 */
import type { ResolvedOptions } from './options.js'
import { controlPrefixFor } from './state.js'
import { compactTimestamp } from './time.js'
import type { SyncReport } from './types.js'

const MANIFEST_VERSION = 1

/** `raw-data/garmin-json/` -> `raw-data/_garmin-s3/runs/20261128T120000Z_1a2b3c4d.json`: sorts by start time. */
export function manifestKeyFor(prefix: string, startedAt: number, runId: string): string {
  return `${controlPrefixFor(prefix)}runs/${compactTimestamp(startedAt)}_${runId}.json`
}

/** The manifest's bytes. Its request counts stop just before its own PUT (the SyncReport's include it). */
export function manifestBody(report: SyncReport, o: ResolvedOptions): string {
  const { original } = o
  const manifest = {
    version: MANIFEST_VERSION,
    runId: report.runId,
    startedAt: report.startedAt,
    finishedAt: report.finishedAt,
    durationMs: report.durationMs,
    runner: original.runner,
    toolVersion: original.toolVersion,
    location: report.location,
    prefix: report.prefix,
    options: {
      since: original.since ?? null,
      daysBack: original.daysBack ?? null,
      effectiveSince: o.since ?? null,
      full: o.full,
      dryRun: o.dryRun,
      concurrency: o.concurrency,
      deadline: o.deadline === undefined ? null : new Date(o.deadline).toISOString(),
      trackChanges: o.trackChanges,
      reconcile: report.reconciled === true,
    },
    counts: {
      created: report.created,
      existing: report.existing,
      skipped: report.skipped,
      failed: report.failed,
      invalid: report.invalid,
      changed: report.changed ?? 0,
      deleted: report.deleted ?? 0,
      pruned: report.pruned ?? 0,
    },
    partial: report.partial,
    exitCode: report.exitCode,
    stopReason: report.stopReason,
    requests: report.requests,
    errors: report.errors,
    quarantined: report.quarantined,
    ...(report.datasets ? { datasets: report.datasets } : {}),
    ...(report.archive ? { archive: report.archive } : {}),
  }
  return `${JSON.stringify(manifest, null, 2)}\n`
}
