/**
 * The baseline: the original Python Lambda's algorithm, faithfully, with the same GarminClient and a raw
 * S3Client. Once a day it listed the newest 50 activities, kept those that started within DAYS_BACK
 * days, sent a HeadObject for each and a PutObject for each one that was missing, one after the other.
 * A backfill is that same loop over the whole history, 50 at a time.
 */
import { randomUUID } from 'node:crypto'
import { HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import type { ActivitySource } from '../src/garmin/types.js'

/** The original's page size (`get_activities(0, 50)`). */
export const ORIGINAL_PAGE_SIZE = 50
const DAY_MS = 86_400_000

export interface OriginalOptions {
  bucket: string
  /** `raw-data/garmin-json/` in the original. */
  prefix: string
  /** Keep only activities that started within this many days (DAYS_BACK); undefined keeps all. */
  daysBack?: number
  /** 'daily': the newest page only (what the Lambda did); 'backfill': page on to the end of the history. */
  mode: 'daily' | 'backfill'
}

export interface OriginalResult {
  created: number
  existing: number
  skipped: number
  listCalls: number
}

/** Counts every request the client sends, retries included, by operation (like S3Store does for ours). */
export function countS3Requests(client: S3Client): () => Record<string, number> {
  const counts: Record<string, number> = {}
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = (context.commandName ?? 'Unknown').replace(/Command$/, '')
      counts[operation] = (counts[operation] ?? 0) + 1
      return next(args)
    },
    { step: 'finalizeRequest', priority: 'low', name: `bench-request-counter-${randomUUID()}` },
  )
  return () => ({ ...counts })
}

function isNotFound(error: unknown): boolean {
  const e = error as { name?: string; $metadata?: { httpStatusCode?: number } }
  return e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404
}

/** `startTimeGMT` is `YYYY-MM-DD HH:MM:SS` in UTC. */
function startMs(startTimeGMT: string): number {
  return Date.parse(`${startTimeGMT.replace(' ', 'T')}Z`)
}

export async function runOriginal(
  options: OriginalOptions,
  deps: { garmin: ActivitySource; s3: S3Client; now?: () => number },
): Promise<OriginalResult> {
  const now = deps.now ?? Date.now
  const cutoff = options.daysBack === undefined ? undefined : now() - options.daysBack * DAY_MS
  const result: OriginalResult = { created: 0, existing: 0, skipped: 0, listCalls: 0 }
  for (let start = 0; ; start += ORIGINAL_PAGE_SIZE) {
    const activities = await deps.garmin.listActivities({ start, limit: ORIGINAL_PAGE_SIZE })
    result.listCalls++
    for (const activity of activities) {
      if (cutoff !== undefined && startMs(activity.startTimeGMT) < cutoff) {
        result.skipped++
        continue
      }
      const key = `${options.prefix}activity_${activity.activityId}.json`
      try {
        await deps.s3.send(new HeadObjectCommand({ Bucket: options.bucket, Key: key }))
        result.existing++
        continue
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
      await deps.s3.send(
        new PutObjectCommand({
          Bucket: options.bucket,
          Key: key,
          Body: JSON.stringify(activity),
          ContentType: 'application/json',
        }),
      )
      result.created++
    }
    if (options.mode === 'daily' || activities.length < ORIGINAL_PAGE_SIZE) return result
  }
}
