/**
 * `status --deep --repair`: rewrite this prefix's section of the state from what the listing found,
 * by compare-and-swap (cas-document.ts, one attempt) on the state object read at the start (a sync that saved in between wins and
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
import { isRecord } from '../unknown.js'
import { CasConflictError, CasDocument } from './cas-document.js'
import { type CatalogEntry, decodeCatalog, encodeCatalog } from './catalog.js'
import { cutCoverage, SORT_SLACK_MS } from './coverage.js'
import { decodeFingerprints, encodeFingerprints } from './fingerprint.js'
import type { DatasetState } from './state.js'
import { DAY_MS, formatGmt, parseGmt } from './time.js'

export interface RepairSummary {
  written: boolean
  storedBefore: number | null
  storedAfter: number | null
  /** Which checkpoint coverage was dropped so the next sync rechecks it: none, the affected years, or all. */
  coverageDropped: 'none' | 'years' | 'all'
  message: string
}

/** The state as `status` read it at the start (status/lake.ts `readState`): the repair swaps that version. */
export interface StateAsRead {
  summary: { key: string; problem: string | null }
  /** This prefix's section, when the state could be read. */
  dataset: DatasetState | undefined
  /** The object's text and ETag; undefined when there is no state. */
  object: { text: string; etag: string } | undefined
}

/** The state object as a plain record: every field this version does not know is written back as read. */
function parseRecord(text: string): Record<string, unknown> | undefined {
  const raw: unknown = JSON.parse(text)
  return isRecord(raw) ? raw : undefined
}

function yearStretch(year: string): [string, string] {
  // Catalog years are local years; a day either side covers every time zone.
  const y = Number(year)
  return [formatGmt(Date.UTC(y, 0, 1) - DAY_MS), formatGmt(Date.UTC(y + 1, 0, 1) + DAY_MS)]
}

export async function repairState(
  store: Store,
  prefix: string,
  read: StateAsRead,
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
  if (!read.object) {
    return none('No state to repair: `garmin-s3 sync` creates one and adopts what is stored.')
  }
  if (!dataset) {
    return none(
      `The state cannot be read by this version (${read.summary.problem ?? 'unknown format'}); not rewritten.`,
    )
  }

  const catalog = decodeCatalog(dataset.catalog)
  const sortedIds = () => [...catalog.keys()].sort((a, b) => a - b)
  const fingerprints = decodeFingerprints(sortedIds(), dataset.fingerprints)
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
    // Aligned with the catalog's ids (fingerprint.ts): re-aligned with what is left of it.
    ...(dataset.fingerprints ? { fingerprints: encodeFingerprints(sortedIds(), fingerprints) } : {}),
  }
  // Only this prefix's section and updatedAt change; everything else is written back as read. One
  // attempt: the listing was compared with the state as read, so a state changed since needs a new look.
  const doc = new CasDocument(store, read.summary.key, parseRecord, 1)
  doc.adopt(read.object.text, read.object.etag)
  try {
    await doc.update(
      (file = {}) => {
        const datasets = isRecord(file.datasets) ? file.datasets : {}
        const previous = isRecord(datasets[prefix]) ? datasets[prefix] : {}
        return {
          ...file,
          updatedAt: new Date(clock.now()).toISOString(),
          datasets: { ...datasets, [prefix]: { ...previous, ...section } },
        }
      },
      (key, body, etag) => store.putIfMatch(key, body, 'application/json', etag),
    )
  } catch (error) {
    if (!(error instanceof CasConflictError)) throw error
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
