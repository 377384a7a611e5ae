import * as Flags from '@oclif/core/flags'
import { BaseCommand } from '../cli/base.js'
import { targetFlags, targetOptions } from '../cli/flags.js'
import { type Clock, systemClock } from '../clock.js'
import {
  type CurateEvent,
  type CurateReport,
  DEFAULT_CURATED_PREFIX,
  parseTables,
  runCurate,
  TABLES,
  validateCuratedPrefix,
} from '../curate/index.js'
import { formatCount } from '../format.js'
import { openStore, validatePrefix } from '../store/target.js'
import { parseDuration } from './sync.js'

export default class Curate extends BaseCommand {
  static override summary = 'Build typed Parquet tables (the curated layer) from the raw JSON.'

  static override description =
    `Reads what sync stored and writes one Parquet file per table and year, at ${DEFAULT_CURATED_PREFIX}<table>/year=<YYYY>/<table>_<YYYY>.parquet, ready for DuckDB, Athena, pandas or polars. Tables: ${TABLES.map((t) => t.name).join(', ')} (columns and units: docs/curated-tables.md).

Incremental: a table-year is rebuilt only when the raw objects it comes from changed, and replaced in one PUT, so a reader sees the old file or the new one, never half of one. A run with nothing new writes nothing. What each file was built from is kept in _garmin-s3/curate.json beside the curated prefix.

Exit codes: 0 done, 1 failure (storage unusable), 2 bad usage, 5 stopped early (Ctrl-C, --max-duration; the next run resumes).`

  static override examples = [
    '<%= config.bin %> curate',
    '<%= config.bin %> curate --bucket my-garmin-lake',
    '<%= config.bin %> curate --out ~/garmin --tables activities,sleep',
    '<%= config.bin %> curate --bucket my-lake --curated-prefix lake/curated/ --json',
  ]

  static override flags = {
    ...targetFlags('curate'),
    'curated-prefix': Flags.string({
      description: 'Key prefix of the curated tables.',
      default: DEFAULT_CURATED_PREFIX,
    }),
    tables: Flags.string({
      description: `Which tables, a comma list or all: ${TABLES.map((t) => t.name).join(', ')}.`,
      default: 'all',
    }),
    concurrency: Flags.integer({ description: 'Raw objects read in parallel.', default: 8, min: 1, max: 64 }),
    'max-duration': Flags.string({
      description: 'Start no new file after this much time (90s, 10m, 1h); the next run resumes.',
    }),
  }

  /** The clock; tests replace it. */
  protected clock(): Clock {
    return systemClock
  }

  async run(): Promise<CurateReport> {
    const { flags } = await this.parse(Curate)
    const json = this.jsonEnabled()
    const rawPrefix = validatePrefix(flags.prefix)
    const curatedPrefix = validateCuratedPrefix(validatePrefix(flags['curated-prefix']), rawPrefix)
    const tables = parseTables(flags.tables)
    const clock = this.clock()
    const deadline =
      flags['max-duration'] === undefined ? undefined : clock.now() + parseDuration(flags['max-duration'])
    const store = await openStore(targetOptions(flags), (message) => this.logToStderr(`warning: ${message}`))

    const interrupt = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      if (interrupt.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130)
      interrupt.abort()
      this.logToStderr(
        `${signal}: stopping after the file being written (a second ${signal} quits at once)...`,
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let report: CurateReport
    try {
      report = await runCurate(
        {
          rawPrefix,
          curatedPrefix,
          tables,
          concurrency: flags.concurrency,
          ...(deadline ? { deadline } : {}),
        },
        { store, clock, signal: interrupt.signal, log: (event) => this.progress(event, json) },
      )
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (!json) {
      const where = `${report.location}/${report.curatedPrefix}`
      if (report.stopReason !== 'done')
        this.log(
          `⚠ Stopped ${report.stopReason === 'deadline' ? 'before the time limit' : 'as asked'} after ${report.written.length} file(s); ${report.remaining} left: run curate again to continue.`,
        )
      else if (report.written.length === 0 && report.unchanged === 0)
        this.log(
          `Nothing to curate: no raw data under ${report.location}/${report.rawPrefix} (or its sibling dataset folders). Run garmin-s3 sync first (--data all fills every table).`,
        )
      else if (report.written.length === 0) this.log(`✔ Up to date: nothing new for ${where}`)
      else
        this.log(
          `✔ Wrote ${report.written.length} file(s), ${formatCount(report.rows)} rows, ${formatCount(report.bytesWritten)} bytes to ${where} (${report.unchanged} unchanged)`,
        )
      if (report.skipped.length > 0)
        this.log(
          `⚠ ${report.skipped.length} raw object(s) left out (not readable as JSON); --json lists them.`,
        )
    }
    this.setExitCode(report.exitCode)
    return report
  }

  /** One line per file on stderr, so stdout stays clean for --json. */
  private progress(event: CurateEvent, json: boolean): void {
    if (json) return
    if (event.type === 'plan')
      this.logToStderr(
        `Curating: ${event.toBuild} table-year file(s) to build, ${event.unchanged} up to date.`,
      )
    else if (event.type === 'file')
      this.logToStderr(
        `[${event.done}/${event.total}] ${event.key}: ${formatCount(event.rows)} rows, ${formatCount(event.bytes)} bytes`,
      )
  }
}
