/**
 * `status --deep --repair`: rewrite this prefix's section of the state from what the listing found,
 * by compare-and-swap on the state object read at the start (a sync that saved in between wins and
 * the repair asks to be run again). It never touches data objects. What it changes:
 * - `counts.stored` becomes the listed number of activities;
 * - ids the listing does not have leave the catalog and the recent ids, so the next sync rechecks them;
 * - checkpoint coverage that claims them stored is dropped: for the years of the missing activities
 *   the catalog knows, or all of it when the state counted activities it cannot name. The next sync
 *   then pages through that stretch of history again and copies what is missing.
 * Other prefixes' sections and fields this version does not know are kept as they are.
 */
import type { Clock } from '../clock.js'
import type { Store } from '../store/types.js'
import { type CatalogEntry, decodeCatalog, encodeCatalog } from '../sync/catalog.js'
import { type Interval, mergeIntervals } from '../sync/coverage.js'
import { SORT_SLACK_MS } from '../sync/index.js'
import { formatGmt, parseGmt } from '../sync/time.js'
import { isRecord } from '../unknown.js'
import type { StateRead } from './lake.js'
import type { RepairSummary } from './types.js'

const DAY_MS = 86_400_000

/** `intervals` without the closed stretch [from, to] (Garmin times). */
export function cutCoverage(intervals: readonly Interval[], from: string, to: string): Interval[] {
  const out: Interval[] = []
  for (const i of intervals) {
    const startsBefore = i.from === null || i.from < from
    if (i.to <= from || (i.from !== null && i.from >= to)) {
      out.push(i)
      continue
    }
    if (startsBefore) out.push({ from: i.from, to: from })
    if (i.to > to) out.push({ from: to, to: i.to })
  }
  return mergeIntervals(out)
}

function yearStretch(year: string): [string, string] {
  // Catalog years are local years; a day either side covers every time zone.
  const y = Number(year)
  return [formatGmt(Date.UTC(y, 0, 1) - DAY_MS), formatGmt(Date.UTC(y + 1, 0, 1) + DAY_MS)]
}

export async function repairState(
  store: Store,
  prefix: string,
  read: StateRead,
  listed: ReadonlySet<number>,
  clock: Clock,
): Promise<RepairSummary> {
  const dataset = read.dataset
  const none = (message: string): RepairSummary => ({
    written: false,
    storedBefore: dataset?.counts.stored ?? null,
    storedAfter: dataset?.counts.stored ?? null,
    coverageDropped: 'none',
    message,
  })
  if (!read.object || !read.summary.present) {
    return none('No state to repair: `garmin-s3 sync` creates one and adopts what is stored.')
  }
  if (!dataset || !read.summary.readable) {
    return none(
      `The state cannot be read by this version (${read.summary.problem ?? 'unknown format'}); not rewritten.`,
    )
  }

  const catalog = decodeCatalog(dataset.catalog)
  const missingCatalogued: [number, CatalogEntry][] = [...catalog].filter(([id]) => !listed.has(id))
  for (const [id] of missingCatalogued) catalog.delete(id)
  const missingRecent = dataset.recent.filter(([id]) => !listed.has(id))
  const recent = dataset.recent.filter(([id]) => listed.has(id))
  const named = new Set([...missingCatalogued.map(([id]) => id), ...missingRecent.map(([id]) => id)])
  const storedAfter = listed.size
  const unexplained = dataset.counts.stored - storedAfter > named.size

  let covered = dataset.covered
  let coverageDropped: RepairSummary['coverageDropped'] = 'none'
  if (unexplained && dataset.covered.length > 0) {
    covered = []
    coverageDropped = 'all'
  } else {
    for (const year of new Set(missingCatalogued.map(([, e]) => e.year))) {
      const [from, to] = yearStretch(year)
      covered = cutCoverage(covered, from, to)
    }
    for (const [, start] of missingRecent) {
      const at = parseGmt(start)
      if (at !== undefined)
        covered = cutCoverage(covered, formatGmt(at - SORT_SLACK_MS), formatGmt(at + SORT_SLACK_MS))
    }
    if (JSON.stringify(covered) !== JSON.stringify(dataset.covered)) coverageDropped = 'years'
  }

  const unchanged = storedAfter === dataset.counts.stored && named.size === 0 && coverageDropped === 'none'
  if (unchanged) return none('The state matches the listing: nothing to repair.')

  const section = {
    ...dataset,
    covered,
    backfillComplete: covered.some((i) => i.from === null),
    recent,
    counts: { ...dataset.counts, stored: storedAfter },
    ...(dataset.catalog ? { catalog: encodeCatalog(catalog) } : {}),
  }
  // Only this prefix's section and updatedAt change; everything else is written back as read.
  const raw: unknown = JSON.parse(read.object.text)
  const file = isRecord(raw) ? raw : {}
  const datasets = isRecord(file.datasets) ? file.datasets : {}
  const previous = isRecord(datasets[prefix]) ? datasets[prefix] : {}
  const body = JSON.stringify({
    ...file,
    updatedAt: new Date(clock.now()).toISOString(),
    datasets: { ...datasets, [prefix]: { ...previous, ...section } },
  })
  const result = await store.putIfMatch(read.summary.key, body, 'application/json', read.object.etag)
  if (!result.ok) {
    return none(
      'The state changed while repairing (a sync is probably running); run the repair again after it.',
    )
  }
  const missingText = named.size > 0 ? `; ${named.size} missing will be copied again by the next sync` : ''
  return {
    written: true,
    storedBefore: dataset.counts.stored,
    storedAfter,
    coverageDropped,
    message: `State rewritten from the listing: ${storedAfter} activities stored${missingText}.`,
  }
}
