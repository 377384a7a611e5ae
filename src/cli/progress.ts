/**
 * How `garmin-s3 sync` shows its work. On a terminal: a spinner while the activity list is paged, a
 * progress bar with rate and ETA while activities are written, and another while the datasets are
 * fetched, on stderr. Elsewhere (CI, pipes): one plain line per page and warning, and one every
 * DATASET_LINE_EVERY_MS while the datasets are fetched, so logs stay short. The closing summary is
 * built by `summaryLines`.
 */
import type { Ora, Options as OraOptions } from 'ora'
import pc from 'picocolors'
import { formatCount } from '../format.js'
import { describeEvent } from '../sync/describe.js'
import { datasetFailures } from '../sync/state.js'
import type { SyncEvent, SyncReport } from '../sync/types.js'

/** Dry runs print this many "would write activity ..." lines, then a count. */
const MAX_DRY_RUN_LINES = 50
/** Without a terminal, the datasets' progress is one line this often. */
const DATASET_LINE_EVERY_MS = 15_000
/** Datasets named on a progress line; the rest are counted. */
const MAX_NAMED_DATASETS = 4

/** `1.2 s`, `3 min 5 s`, `1 h 2 min`. */
function formatDuration(ms: number): string {
  if (ms < 10_000) return `${(Math.max(0, ms) / 1000).toFixed(1)} s`
  const s = Math.round(ms / 1000)
  if (s < 3600) return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`
}

/** `[██████░░░░░░]` for done/total; an empty bar when the total is unknown. */
function progressBar(done: number, total: number, width = 20): string {
  const ratio = total > 0 ? Math.min(1, done / total) : 0
  const full = Math.round(ratio * width)
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`
}

/** The bar's text: `[████░░░░] 120/1,000 · 85/s · ETA 11 s`. */
function progressText(done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done * 1000) / elapsedMs : 0
  const parts = [`${progressBar(done, total)} ${formatCount(done)}/${formatCount(Math.max(done, total))}`]
  if (rate > 0) parts.push(`${rate >= 10 ? Math.round(rate) : rate.toFixed(1)}/s`)
  if (rate > 0 && total > done) parts.push(`ETA ${formatDuration(((total - done) / rate) * 1000)}`)
  return parts.join(' · ')
}

export interface SyncProgressOptions {
  stream: NodeJS.WritableStream
  /** A person is watching a terminal: animate. Otherwise print plain lines. */
  interactive: boolean
  now?: () => number
  /** Makes the terminal's spinner (default: ora, imported only then); tests record instead. */
  spinner?: SpinnerFactory
}

/** ora's default export: a spinner from its options. */
export type SpinnerFactory = (options: OraOptions) => Ora

/** Where one dataset's items stand. */
interface DatasetProgress {
  done: number
  total: number
}

export class SyncProgress {
  /**
   * Progress for `options`. ora (a dozen modules) is imported only when a terminal will show the
   * spinner: plain lines (CI, pipes, cron) never pay for loading it (docs/performance.md "Start-up").
   */
  static async open(options: SyncProgressOptions): Promise<SyncProgress> {
    const spinner = options.interactive ? (options.spinner ?? (await import('ora')).default) : undefined
    return new SyncProgress(options, spinner)
  }

  private spinner: Ora | undefined
  private readonly now: () => number
  private writesStartedAt: number | undefined
  private paging = ''
  private dryRunLines = 0
  private dryRunHidden = 0
  private readonly datasets = new Map<string, DatasetProgress>()
  private datasetsStartedAt: number | undefined
  private datasetLineAt: number | undefined

  private constructor(
    private readonly options: SyncProgressOptions,
    private readonly makeSpinner: SpinnerFactory | undefined,
  ) {
    this.now = options.now ?? Date.now
  }

  readonly onEvent = (event: SyncEvent): void => {
    if (event.type === 'dry-run') this.dryRun(event.message)
    else if (this.options.interactive) this.animate(event)
    else this.plain(event)
  }

  private line(text: string): void {
    if (this.spinner?.isSpinning) {
      this.spinner.clear()
      this.options.stream.write(`${text}\n`)
      this.spinner.render()
    } else {
      this.options.stream.write(`${text}\n`)
    }
  }

  private dryRun(message: string): void {
    // Data objects (activities and the other datasets) are capped; state and manifest always show.
    const data =
      message.startsWith('would write ') && !/^would write (state|run manifest|dataset state) /.test(message)
    if (data && this.dryRunLines >= MAX_DRY_RUN_LINES) {
      this.dryRunHidden++
      return
    }
    if (data) this.dryRunLines++
    this.line(message)
  }

  private plain(event: SyncEvent): void {
    if (event.type === 'progress' || event.type === 'checkpoint') return
    if (event.type === 'dataset-progress') {
      this.trackDataset(event)
      const now = this.now()
      const due = this.datasetLineAt === undefined || now - this.datasetLineAt >= DATASET_LINE_EVERY_MS
      if (event.done > 0 && event.done < event.total && due) {
        this.datasetLineAt = now
        const { done, total } = this.datasetTotals()
        this.line(
          `datasets: ${formatCount(done)}/${formatCount(total)} items fetched (${this.runningDatasets()})`,
        )
      }
    }
    const text = describeEvent(event)
    if (text) this.line(text)
  }

  private trackDataset(event: Extract<SyncEvent, { type: 'dataset-progress' }>): void {
    this.datasetsStartedAt ??= this.now()
    this.datasets.set(event.dataset, { done: event.done, total: event.total })
  }

  private datasetTotals(): DatasetProgress {
    let done = 0
    let total = 0
    for (const d of this.datasets.values()) {
      done += d.done
      total += d.total
    }
    return { done, total }
  }

  /** `fit 12/40 · sleep 100/365 · +2 more`: the datasets not done yet. */
  private runningDatasets(): string {
    const running = [...this.datasets].filter(([, d]) => d.done < d.total)
    const named = running
      .slice(0, MAX_NAMED_DATASETS)
      .map(([name, d]) => `${name} ${formatCount(d.done)}/${formatCount(d.total)}`)
    if (running.length > MAX_NAMED_DATASETS) named.push(`+${running.length - MAX_NAMED_DATASETS} more`)
    return named.join(' · ')
  }

  private animate(event: SyncEvent): void {
    switch (event.type) {
      case 'start':
        this.startSpinner(`Reading sync state in ${event.location}`)
        return
      case 'listing-store':
        this.setText(`Listing ${event.prefix} to see what is already stored`)
        return
      case 'listed-store':
        this.line(pc.dim(`  ${formatCount(event.keys)} activities already stored`))
        return
      case 'page':
        this.paging = `page ${event.page + 1}${event.oldest ? `, back to ${event.oldest.slice(0, 10)}` : ''}`
        if (this.writesStartedAt === undefined) this.setText(`Listing activities (${this.paging})`)
        return
      case 'progress':
        if (event.done === 0) return
        this.writesStartedAt ??= this.now()
        this.setText(
          `Copying ${progressText(event.done, event.total, this.now() - this.writesStartedAt)}  ${pc.dim(this.paging)}`,
        )
        return
      case 'warning':
        this.line(pc.yellow(`⚠ ${event.message}`))
        return
      case 'dataset-progress': {
        this.trackDataset(event)
        // The activity phase's spinner stopped with its `stop` event: the datasets get their own.
        if (!this.spinner) this.startSpinner('Fetching datasets')
        const { done, total } = this.datasetTotals()
        const elapsed = this.now() - (this.datasetsStartedAt ?? 0)
        const running = this.runningDatasets()
        this.setText(
          `Fetching datasets ${progressText(done, total, elapsed)}${running ? `  ${pc.dim(running)}` : ''}`,
        )
        const text = describeEvent(event)
        if (text) this.line(pc.dim(`  ${text}`))
        return
      }
      case 'stop':
        this.stop()
        return
      default:
        return
    }
  }

  private startSpinner(text: string): void {
    this.spinner = this.makeSpinner?.({ text, stream: this.options.stream, discardStdin: false })
    this.spinner?.start()
  }

  private setText(text: string): void {
    if (this.spinner) this.spinner.text = text
  }

  /** Clears the spinner (idempotent); call before printing the summary or an error. */
  stop(): void {
    this.spinner?.stop()
    this.spinner = undefined
    if (this.dryRunHidden > 0) {
      this.options.stream.write(
        `... and ${formatCount(this.dryRunHidden)} more activities would be written\n`,
      )
      this.dryRunHidden = 0
    }
  }
}

/** Objects the datasets other than activities created or revised (restored archive days included). */
function otherDatasetsWritten(report: SyncReport): number {
  let written = 0
  for (const [name, c] of Object.entries(report.datasets ?? {}))
    if (name !== 'activities') written += c.created + c.updated
  return written
}

/** Items of the datasets other than activities that failed. */
function otherDatasetsFailed(report: SyncReport): number {
  return Object.values(datasetFailures(report).failed).reduce((sum, n) => sum + n, 0)
}

/** The first line of a run that finished with a non-zero exit code: what was done, and what was not. */
function partialHeadline(report: SyncReport, done: string): string {
  const failed = report.failed + otherDatasetsFailed(report)
  const problems = [
    ...(failed > 0 ? [`${formatCount(failed)} ${failed === 1 ? 'item' : 'items'} failed`] : []),
    ...(report.invalid > 0
      ? [`${formatCount(report.invalid)} list ${report.invalid === 1 ? 'entry' : 'entries'} quarantined`]
      : []),
  ]
  const what = problems.length > 0 ? problems.join(', ') : 'the run did not finish cleanly'
  const next = failed > 0 ? '; the next run retries them' : ''
  const text = `${done}, but ${what} (exit ${report.exitCode}${failed > 0 || problems.length === 0 ? ', details below' : ''})${next}`
  return report.exitCode === 5 ? pc.yellow(`⚠ ${text}`) : pc.red(`✖ ${text}`)
}

/** The closing summary: what happened, where, how long, and what to do next if anything. */
export function summaryLines(report: SyncReport, options: { defaultLocation?: boolean } = {}): string[] {
  const where = `${report.location}/${report.prefix}`
  const activities = (count: number, adjective = '') =>
    `${formatCount(count)} ${adjective}${count === 1 ? 'activity' : 'activities'}`
  const lines: string[] = []
  const fatal = report.stopReason === 'fatal' ? report.errors[0] : undefined
  // No new activity, but other datasets wrote: the headline must not say "nothing new".
  const written = otherDatasetsWritten(report)

  if (report.dryRun) {
    const others =
      written > 0
        ? ` and ${formatCount(written)} ${written === 1 ? 'object' : 'objects'} of the other datasets`
        : ''
    lines.push(
      `Dry run: would copy ${activities(report.created, 'new ')}${others} to ${where}; nothing was written.`,
    )
  } else if (fatal) {
    lines.push(pc.red(`✖ Stopped early (the error is below); the next run resumes where this one stopped.`))
  } else if (report.stopReason === 'deadline' || report.stopReason === 'interrupted') {
    const why = report.stopReason === 'deadline' ? 'before the time limit' : 'as asked'
    lines.push(
      pc.yellow(
        `⚠ Stopped ${why} after copying ${activities(report.created)}; run again to continue where this run stopped.`,
      ),
    )
  } else {
    const done =
      report.created > 0
        ? `Copied ${activities(report.created, 'new ')} to ${where}`
        : written > 0
          ? `No new activities in ${where}; ${formatCount(written)} new or revised ${written === 1 ? 'object' : 'objects'} in the other datasets (below)`
          : report.exitCode === 0
            ? `Up to date: nothing new for ${where}`
            : `Nothing new for ${where}`
    // A success mark only for exit 0: a run that left failures behind says so in its first line.
    lines.push(report.exitCode === 0 ? pc.green(`✔ ${done}`) : partialHeadline(report, done))
  }
  if (report.failed > 0 && !report.dryRun) {
    lines.push(pc.yellow(`⚠ ${activities(report.failed)} could not be written; the next run retries them.`))
  }
  if (report.invalid > 0) {
    // Older reports (the Lambda's, a manifest read back) may lack the list.
    const listed = report.quarantined ?? []
    lines.push(
      pc.yellow(
        `⚠ ${formatCount(report.invalid)} list ${report.invalid === 1 ? 'entry' : 'entries'} quarantined: Garmin sent ${report.invalid === 1 ? 'it' : 'them'} in a form that cannot be stored; every run reports ${report.invalid === 1 ? 'it' : 'them'} (exit 5) until Garmin sends a valid version.`,
      ),
    )
    for (const q of listed.slice(0, 5)) lines.push(pc.dim(`  activityId ${q.id}: ${q.reason}`))
    if (listed.length > 5 || report.invalid > listed.length)
      lines.push(
        pc.dim(
          `  ... and ${formatCount(report.invalid - Math.min(listed.length, 5))} more (see the run manifest)`,
        ),
      )
  }
  const counts = [
    `${formatCount(report.created)} ${report.dryRun ? 'to write' : 'created'}`,
    `${formatCount(report.existing)} already there`,
    ...(report.skipped > 0 ? [`${formatCount(report.skipped)} outside the date range`] : []),
    `${formatCount(report.failed)} failed`,
    ...(report.invalid > 0 ? [`${formatCount(report.invalid)} quarantined`] : []),
    // Edits and deletions followed (docs/changes.md).
    ...(report.changed ? [`${formatCount(report.changed)} changed in Garmin (old versions kept)`] : []),
    ...(report.deleted ? [`${formatCount(report.deleted)} deleted in Garmin (tombstones)`] : []),
    ...(report.pruned ? [`${formatCount(report.pruned)} moved into the history`] : []),
    ...(report.reconciled ? ['whole list compared'] : []),
    formatDuration(report.durationMs),
  ]
  lines.push(`  ${counts.join(' · ')}`)
  for (const [name, c] of Object.entries(report.datasets ?? {})) {
    if (name === 'activities') continue
    const parts = [
      `${formatCount(c.created)} new`,
      ...(c.updated > 0 ? [`${formatCount(c.updated)} revised`] : []),
      ...(c.noData > 0 ? [`${formatCount(c.noData)} without data`] : []),
      ...(c.archived ? [`${formatCount(c.archived)} archived by Garmin`] : []),
      ...(c.restored ? [`${formatCount(c.restored)} restored`] : []),
      ...(c.failed > 0 ? [`${formatCount(c.failed)} failed`] : []),
    ]
    lines.push(`  ${name}: ${parts.join(' · ')}`)
  }
  const archive = report.archive
  if (archive && (archive.pending > 0 || archive.reloads > 0)) {
    const quota = archive.denied ? " · Garmin's reload quota is spent: the rest resumes tomorrow" : ''
    lines.push(
      `  archive: ${formatCount(archive.restored)} days restored · ${formatCount(archive.pending)} still archived (${formatCount(archive.budget)} reloads a run; docs/archive.md)${quota}`,
    )
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0)
  lines.push(
    pc.dim(
      `  requests: Garmin ${formatCount(sum(report.requests.garmin))} · storage ${formatCount(sum(report.requests.store))}`,
    ),
  )
  for (const error of report.errors.slice(fatal ? 1 : 0, (fatal ? 1 : 0) + 5)) {
    const where =
      error.activityId !== undefined
        ? `${error.dataset ? `${error.dataset} ` : ''}activity ${error.activityId}: `
        : error.dataset
          ? `${error.dataset}${error.date ? ` ${error.date}` : ''}: `
          : ''
    lines.push(pc.dim(`  ${where}${error.message}`))
  }
  if (options.defaultLocation && !report.dryRun) {
    lines.push(pc.dim('  (no --bucket or --out given: this is the default folder ./garmin-data)'))
  }
  return lines
}
