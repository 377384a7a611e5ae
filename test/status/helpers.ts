/**
 * Shared by the status tests: the figures a set of activities should produce, a state + objects
 * seeded straight into a folder (for 20,000 activities, where syncing them would take minutes), and
 * token fixtures.
 */
import { writeFileSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { ActivityEntry, StoredTokens } from '../../src/garmin/types.js'
import { type CatalogEntry, catalogEntryOf } from '../../src/sync/catalog.js'
import { activityKey, stateKeyFor } from '../../src/sync/index.js'
import { applyProgress, type LastRun, STATE_VERSION } from '../../src/sync/state.js'
import { fixtureTokens } from '../deploy/helpers.js'

export const PREFIX = 'raw-data/garmin-json/'
export const SKIP_AWS = { skip: 'not checked in this test' }

export interface Figures {
  count: number
  bytes: number
  newest: string
  oldest: string
  byYear: Record<string, number>
  byType: Record<string, number>
}

/** What status should report for these stored activities (each stored as JSON.stringify(entry)). */
export function figuresOf(entries: ActivityEntry[]): Figures {
  const byYear: Record<string, number> = {}
  const byType: Record<string, number> = {}
  let bytes = 0
  for (const e of entries) {
    const { year, type } = catalogEntryOf(e)
    byYear[year] = (byYear[year] ?? 0) + 1
    byType[type] = (byType[type] ?? 0) + 1
    bytes += Buffer.byteLength(JSON.stringify(e))
  }
  const starts = entries.map((e) => e.startTimeGMT).sort()
  return { count: entries.length, bytes, newest: starts.at(-1)!, oldest: starts[0]!, byYear, byType }
}

/** `count` activities, one every 7 hours back from `newest`, types in rotation, ids ascending with time. */
export function syntheticActivities(
  count: number,
  newest = Date.UTC(2026, 10, 27, 7, 0, 0),
): ActivityEntry[] {
  const types = ['running', 'cycling', 'lap_swimming', 'walking', 'strength_training']
  return Array.from({ length: count }, (_, i) => {
    const start = newest - i * 7 * 3_600_000
    const gmt = new Date(start).toISOString().slice(0, 19).replace('T', ' ')
    const local = new Date(start + 3_600_000).toISOString().slice(0, 19).replace('T', ' ')
    return {
      activityId: 20_000_000_000 - i * 137,
      activityName: `Activity ${i}`,
      startTimeLocal: local,
      startTimeGMT: gmt,
      activityType: { typeId: i % types.length, typeKey: types[i % types.length] },
      distance: 1000 + i,
    }
  })
}

/** The state a complete sync of `entries` leaves, built with the pipeline's own merge. */
export function stateAfterSync(entries: ActivityEntry[], lastRun: LastRun, updatedAt: string): string {
  const seen = new Map<number, string>()
  const catalog = new Map<number, CatalogEntry>()
  for (const e of entries) {
    seen.set(e.activityId, e.startTimeGMT)
    catalog.set(e.activityId, catalogEntryOf(e))
  }
  const newest = entries
    .map((e) => e.startTimeGMT)
    .sort()
    .at(-1)!
  const dataset = applyProgress(undefined, {
    claims: [{ from: null, to: newest }],
    seen,
    newest,
    createdUnsaved: entries.length,
    overlapDays: 7,
    countRun: true,
    lastRun,
    catalog,
  })
  return JSON.stringify({ version: STATE_VERSION, updatedAt, datasets: { [PREFIX]: dataset } })
}

export function lastRunAt(finishedAt: number, overrides: Partial<LastRun> = {}): LastRun {
  return {
    runId: 'seeded1',
    startedAt: new Date(finishedAt - 60_000).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    runner: 'lambda',
    created: 0,
    existing: 0,
    failed: 0,
    partial: false,
    exitCode: 0,
    manifestKey: 'raw-data/_garmin-s3/runs/seeded1.json',
    stopReason: 'caught-up',
    ...overrides,
  }
}

/** Writes the activity files and the state straight into a folder (what DirStore would hold). */
export async function seedFolder(root: string, entries: ActivityEntry[], state: string): Promise<void> {
  const dir = join(root, ...PREFIX.split('/').filter(Boolean))
  await mkdir(dir, { recursive: true })
  // Synchronous writes: for 20,000 small files this is several times faster than 20,000 promises.
  for (const e of entries) writeFileSync(join(root, activityKey(PREFIX, e.activityId)), JSON.stringify(e))
  const stateKey = stateKeyFor(PREFIX)
  await mkdir(join(root, stateKey, '..'), { recursive: true })
  await writeFile(join(root, stateKey), state)
}

export function tokensRotatedAt(rotatedAt: number, overrides: Partial<StoredTokens> = {}): StoredTokens {
  return fixtureTokens({
    expiresAt: new Date(rotatedAt + 86_400_000).toISOString(),
    obtainedAt: new Date(rotatedAt).toISOString(),
    refreshTokenRotatedAt: new Date(rotatedAt).toISOString(),
    ...overrides,
  })
}
