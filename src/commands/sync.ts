import * as Flags from '@oclif/core/flags'
import { BaseCommand } from '../cli/base.js'
import { domainFlag, targetFlags, targetOptions, tokenStoreFlag } from '../cli/flags.js'
import { SyncProgress, summaryLines } from '../cli/progress.js'
import { prepareReportFile, writeReportFile } from '../cli/report-file.js'
import { type Clock, systemClock } from '../clock.js'
import {
  type CurateReport,
  DEFAULT_CURATED_PREFIX,
  runCurate,
  validateCuratedPrefix,
} from '../curate/index.js'
import { UsageError } from '../errors.js'
import { GarminClient } from '../garmin/client.js'
import { resolveEndpoints } from '../garmin/endpoints.js'
import { noTokensError } from '../garmin/errors.js'
import { signinOptions } from '../garmin/login.js'
import { openTokenStore } from '../garmin/tokens.js'
import {
  type NotifyDeps,
  type NotifyOn,
  type NotifyTarget,
  notify,
  parseNotifyTargets,
  shouldNotify,
} from '../notify/index.js'
import { checkTarget, DEFAULT_OUT_DIR, DEFAULT_PREFIX, openStore, validatePrefix } from '../store/target.js'
import {
  DATASET_NAMES,
  DEFAULT_CONCURRENCY,
  DEFAULT_RECONCILE_DAYS,
  DEFAULT_RELOAD_BUDGET,
  DEFAULT_REVISE_DAYS,
  MAX_CONCURRENCY,
  parseDatasets,
  runSyncWithDatasets,
  type SyncOptions,
  type SyncReport,
  validateSyncOptions,
} from '../sync/index.js'

/** `90s`, `10m`, `1h`, `500ms` or plain seconds -> milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/.exec(text.trim())
  const ms = m
    ? Number(m[1]) * ({ ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 }[m[2] ?? 's'] ?? 1000)
    : Number.NaN
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new UsageError(
      `--max-duration must be a duration like 90s, 10m or 1h, got ${JSON.stringify(text)}`,
      {
        hint: 'For example --max-duration 10m stops cleanly after ten minutes; the next run resumes.',
      },
    )
  }
  return ms
}

/** A whole number of days from a flag or DAYS_BACK; negative numbers are refused later, with the others. */
export function parseDaysBack(text: string, source: string): number {
  if (!/^\s*-?\d+\s*$/.test(text)) {
    throw new UsageError(`${source} must be a whole number of days, got ${JSON.stringify(text)}`, {
      hint: 'For example --days-back 7 (or DAYS_BACK=7) syncs the last week.',
    })
  }
  return Number(text)
}

export default class Sync extends BaseCommand {
  static override summary = 'Copy new Garmin activities into an S3 bucket or a local folder.'

  static override description =
    `Incremental: each activity is stored as ${DEFAULT_PREFIX}activity_<id>.json (the list entry exactly as Garmin sent it), and a run with nothing new costs one Garmin call and three storage requests. The first run copies the whole history and adopts what is already there (for example a bucket filled by the original Python Lambda) without rewriting it.

Edits in Garmin replace the stored entry, whose old version is kept in raw-data/garmin-json-history/ (create-only, then a compare-and-swap); daily runs check the last 7 days, --reconcile (by itself every --reconcile-days days) the whole list, and activities deleted in Garmin get a tombstone in raw-data/garmin-json-deleted/ (nothing is deleted). --no-track-changes keeps the original skip-only behaviour. See docs/changes.md.

Without --bucket or --out, data goes to the folder ${DEFAULT_OUT_DIR}. A checkpoint and one manifest per run are kept beside the data prefix in _garmin-s3/ (e.g. raw-data/_garmin-s3/state.json).

Exit codes: 0 done, 1 failure, 2 bad usage, 3 sign-in needed (run garmin-s3 login), 4 Garmin rate-limited or unavailable, 5 partial (stopped early or some activities failed; the next run resumes).`

  static override examples = [
    '<%= config.bin %> sync',
    '<%= config.bin %> sync --bucket my-garmin-lake',
    '<%= config.bin %> sync --out ~/garmin --days-back 30',
    '<%= config.bin %> sync --bucket my-lake --dry-run',
    '<%= config.bin %> sync --bucket my-lake --endpoint http://127.0.0.1:9000 --path-style',
    '<%= config.bin %> sync --bucket my-lake --max-duration 10m --json',
    '<%= config.bin %> sync --bucket my-lake --reconcile',
  ]

  static override flags = {
    ...targetFlags('copy into'),
    since: Flags.string({ description: 'Only activities from this day on (YYYY-MM-DD, local date).' }),
    'days-back': Flags.string({
      description: 'Only the last N days (default: DAYS_BACK, else the whole history).',
    }),
    full: Flags.boolean({
      description:
        'Rescan the whole history against a fresh listing of the storage (repairs gaps, in datasets too).',
    }),
    'dry-run': Flags.boolean({
      description: 'Show what would be written; write nothing, not even the checkpoint.',
    }),
    concurrency: Flags.integer({
      description: `Parallel writes (1-${MAX_CONCURRENCY}).`,
      default: DEFAULT_CONCURRENCY,
      min: 1,
      max: MAX_CONCURRENCY,
    }),
    data: Flags.string({
      description: `What to copy, a comma list or all (default: DATASETS, else activities): ${DATASET_NAMES.join(', ')}. See docs/layout.md.`,
    }),
    'revise-days': Flags.integer({
      description: `Daily datasets: fetch the last N days again every run, Garmin revises them (0 to 60, default ${DEFAULT_REVISE_DAYS}).`,
    }),
    'reload-budget': Flags.integer({
      description: `Daily datasets: ask Garmin back at most N archived days per run, oldest first (Garmin grants about 30 a day; 0 to 1000, default ${DEFAULT_RELOAD_BUDGET}). See docs/archive.md.`,
    }),
    'track-changes': Flags.boolean({
      description:
        'Follow edits in Garmin: a changed activity replaces the stored one, whose old version goes to raw-data/garmin-json-history/ (default). --no-track-changes keeps the original skip-only behaviour. See docs/changes.md.',
      allowNo: true,
      default: true,
    }),
    reconcile: Flags.boolean({
      description:
        'Compare the whole activity list now (pages of 1,000): changes everywhere, and deletions (tombstones in raw-data/garmin-json-deleted/).',
    }),
    'reconcile-days': Flags.integer({
      description: `Reconcile by itself once the last reconcile is N days old (0 to 366, default RECONCILE_DAYS, else ${DEFAULT_RECONCILE_DAYS}; 0: only with --reconcile).`,
    }),
    'prune-deleted': Flags.boolean({
      description:
        'Move the data object of each activity deleted in Garmin into its history (nothing is deleted without it).',
    }),
    'max-duration': Flags.string({
      description: 'Stop cleanly and checkpoint before this much time (90s, 10m, 1h).',
    }),
    curate: Flags.boolean({
      description:
        'Then build the curated Parquet tables from what is stored (garmin-s3 curate), within --max-duration.',
    }),
    'curated-prefix': Flags.string({
      description: `With --curate: key prefix of the curated tables (default ${DEFAULT_CURATED_PREFIX}).`,
      default: DEFAULT_CURATED_PREFIX,
    }),
    'token-store': tokenStoreFlag(),
    domain: domainFlag(),
    report: Flags.string({
      description:
        'Also write the run report (what --json prints) to this file, e.g. for a CI summary; its folder is created, and a path that cannot be written stops the run before it starts.',
    }),
    notify: Flags.string({
      description:
        'Webhook to tell when a run fails (repeatable; default: GARMIN_S3_NOTIFY): ntfy, Slack and Discord URLs get their own format, others JSON.',
      multiple: true,
    }),
    'notify-on': Flags.string({
      description: 'When to notify: failure (any exit code but 0) or always.',
      options: ['failure', 'always'],
      default: 'failure',
    }),
  }

  /** How notifications are sent; tests replace it. */
  protected notifyDeps(): NotifyDeps {
    return {}
  }

  /** The environment; tests replace it. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }

  /** The clock the run's deadline and timings are measured on; tests replace it. */
  protected clock(): Clock {
    return systemClock
  }

  /** Where progress goes (stderr, so stdout stays clean for --json); tests replace it. */
  protected progressStream(): NodeJS.WriteStream {
    return process.stderr
  }

  async run(): Promise<SyncReport & { curate?: CurateReport }> {
    const { flags } = await this.parse(Sync)
    const env = this.env()
    const json = this.jsonEnabled()
    const say = (text: string) => {
      if (!json) this.logToStderr(text)
    }

    // Everything is checked before anything is read or written.
    const daysBackText =
      flags['days-back'] ?? (flags.since || flags.full ? undefined : env.DAYS_BACK?.trim() || undefined)
    const daysBack =
      daysBackText === undefined
        ? undefined
        : parseDaysBack(daysBackText, flags['days-back'] ? '--days-back' : 'DAYS_BACK')
    const maxDurationMs =
      flags['max-duration'] === undefined ? undefined : parseDuration(flags['max-duration'])
    const datasets = parseDatasets(flags.data ?? env.DATASETS)
    const reconcileDays =
      flags['reconcile-days'] ??
      (env.RECONCILE_DAYS?.trim() ? parseDaysBack(env.RECONCILE_DAYS, 'RECONCILE_DAYS') : undefined)
    const clock = this.clock()
    const startedAt = clock.now()
    const options: SyncOptions = {
      prefix: validatePrefix(flags.prefix),
      ...(flags.since === undefined ? {} : { since: flags.since.trim() }),
      ...(daysBack === undefined ? {} : { daysBack }),
      full: flags.full,
      dryRun: flags['dry-run'],
      concurrency: flags.concurrency,
      datasets,
      ...(flags['revise-days'] === undefined ? {} : { reviseDays: flags['revise-days'] }),
      ...(flags['reload-budget'] === undefined ? {} : { reloadBudget: flags['reload-budget'] }),
      trackChanges: flags['track-changes'],
      reconcile: flags.reconcile,
      ...(reconcileDays === undefined ? {} : { reconcileDays }),
      pruneDeleted: flags['prune-deleted'],
      ...(maxDurationMs === undefined ? {} : { deadline: startedAt + maxDurationMs }),
      runner: env.GITHUB_ACTIONS === 'true' ? 'github-actions' : 'cli',
      toolVersion: this.config.version,
    }
    validateSyncOptions(options, startedAt)
    const curatedPrefix = flags.curate
      ? validateCuratedPrefix(validatePrefix(flags['curated-prefix']), options.prefix)
      : undefined
    const notifyTargets = parseNotifyTargets(
      flags.notify ?? (env.GARMIN_S3_NOTIFY ? [env.GARMIN_S3_NOTIFY] : []),
    )
    const reportFile = flags.report === undefined ? undefined : await prepareReportFile(flags.report)

    // Bad target flags are usage errors (exit 2) before anything else; opening a store does no I/O, and
    // a folder that cannot be made (a file in the way, /proc) is refused here, before Garmin is asked.
    const store = await openStore(targetOptions(flags), (message) => this.logToStderr(`warning: ${message}`))
    await checkTarget(store)
    // A local mistake never marks the lake: without usable tokens (and no way to sign in) the run stops
    // here, before the store is touched, so no state or run record says the lake failed.
    const tokenStore = openTokenStore(flags['token-store'], env)
    const stored = await tokenStore.load()
    const signIn = Boolean(env.GARMIN_EMAIL && env.GARMIN_PASSWORD) && !stored
    if (!stored && !signIn) {
      throw noTokensError(tokenStore, 'Nothing was written.')
    }
    const defaultLocation = !flags.bucket && !flags.out
    if (defaultLocation) say(`No --bucket or --out given: copying into the folder ${store.location}`)

    const garmin = new GarminClient({
      tokenStore,
      endpoints: resolveEndpoints({ ...(flags.domain ? { domain: flags.domain } : {}), env }),
      clock,
      // Signing in here goes through the same strategies, transports and stderr lines as `login`.
      ...(signIn ? { ...(await signinOptions('auto')), log: (line: string) => this.logToStderr(line) } : {}),
    })
    if (signIn && env.GARMIN_EMAIL && env.GARMIN_PASSWORD) {
      this.logToStderr(
        `warning: no Garmin tokens in ${tokenStore.location}; signing in with GARMIN_EMAIL/GARMIN_PASSWORD. ` +
          'Run `garmin-s3 login` once instead: Garmin rate-limits sign-ins, not token refreshes.',
      )
      await tokenStore.checkWritable?.()
      await garmin.login({ email: env.GARMIN_EMAIL, password: env.GARMIN_PASSWORD })
    }

    // A terminal without a width (some CI pseudo-terminals) gets plain lines: a spinner needs to know it.
    const stream = this.progressStream()
    const interactive = Boolean(stream.isTTY) && (stream.columns ?? 0) > 0 && !json
    const progress = json ? undefined : await SyncProgress.open({ stream, interactive })
    // Ctrl-C (SIGINT) or SIGTERM (what Lambda, CI runners and `kill` send) once: finish the writes in
    // flight, save the checkpoint, report (exit 5). A second signal quits at once (128 + its number).
    const interrupt = new AbortController()
    const onSignal = (signal: NodeJS.Signals) => {
      if (interrupt.signal.aborted) process.exit(signal === 'SIGTERM' ? 143 : 130)
      interrupt.abort()
      this.logToStderr(
        `${signal === 'SIGTERM' ? 'SIGTERM' : 'Ctrl-C'}: stopping after the writes in flight (a second ${signal} quits at once)...`,
      )
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    let report: SyncReport & { curate?: CurateReport }
    try {
      report = await runSyncWithDatasets(options, {
        garmin,
        store,
        clock,
        signal: interrupt.signal,
        ...(progress ? { log: progress.onEvent } : {}),
      })
      // --curate: after a sync that stored what it could (done, or partial but not stopped), in the
      // time that is left; a stopped curate makes the run partial (exit 5), the next one resumes.
      const stopped = report.stopReason === 'deadline' || report.stopReason === 'interrupted'
      if (
        curatedPrefix !== undefined &&
        !options.dryRun &&
        (report.exitCode === 0 || report.exitCode === 5) &&
        !stopped
      ) {
        const curate = await runCurate(
          {
            rawPrefix: options.prefix,
            curatedPrefix,
            ...(options.deadline ? { deadline: options.deadline } : {}),
          },
          { store, clock, signal: interrupt.signal },
        )
        report = { ...report, curate, exitCode: report.exitCode === 0 ? curate.exitCode : report.exitCode }
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
      progress?.stop()
    }
    if (!json) {
      for (const line of summaryLines(report, { defaultLocation })) this.log(line)
      if (report.curate)
        this.log(
          report.curate.stopReason === 'done'
            ? `✔ Curated: ${report.curate.written.length} file(s) rewritten, ${report.curate.unchanged} up to date (${report.curate.curatedPrefix})`
            : `⚠ Curate stopped with ${report.curate.remaining} file(s) left; the next run continues.`,
        )
      // The error that stopped the run, in the same form as any other error of the CLI.
      const fatal = report.stopReason === 'fatal' ? report.errors[0] : undefined
      if (fatal) {
        this.logToStderr(`Error: ${fatal.message}`)
        if (fatal.hint) this.logToStderr(`  -> ${fatal.hint}`)
      }
    }
    this.setExitCode(report.exitCode)
    const result = await this.notifyAbout(report, notifyTargets, flags['notify-on'] as NotifyOn)
    if (reportFile) await writeReportFile(reportFile, result)
    return result
  }

  private async notifyAbout(
    report: SyncReport,
    notifyTargets: NotifyTarget[],
    on: NotifyOn,
  ): Promise<SyncReport> {
    if (notifyTargets.length > 0 && shouldNotify(on, report.exitCode)) {
      const fatal = report.errors[0]
      const notifications = await notify(
        notifyTargets,
        {
          exitCode: report.exitCode,
          stopReason: report.stopReason,
          created: report.created,
          failed: report.failed,
          location: report.location,
          runId: report.runId,
          ...(fatal && report.exitCode !== 0
            ? { error: fatal.message, ...(fatal.hint ? { hint: fatal.hint } : {}) }
            : {}),
        },
        this.notifyDeps(),
      )
      // A notification never changes the exit code: a failed one is a warning.
      for (const n of notifications.filter((r) => !r.ok))
        this.logToStderr(`warning: could not notify ${n.host} (${n.shape}): ${n.error}`)
      return { ...report, notifications }
    }
    return report
  }
}
