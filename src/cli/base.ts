import { format, stripVTControlCharacters } from 'node:util'
import { Command } from '@oclif/core/command'
import * as Errors from '@oclif/core/errors'
import { CommandHelp } from '@oclif/core/help'
import { EXIT, type ExitCode, isGarminS3Error } from '../errors.js'

/**
 * Every command extends this: `--json` support (the value `run()` returns is printed as one JSON
 * object on stdout), and one place that turns errors into a one-line message, a next step and the
 * exit code of ARCHITECTURE.md "Exit codes", never a stack trace.
 */
export abstract class BaseCommand extends Command {
  static override enableJsonFlag = true

  /**
   * A line for a person on stderr: a warning, a sign-in strategy, a stop notice. Printed under --json
   * too (docs/json.md: stdout holds only the JSON, the rest goes to stderr); oclif's own logToStderr
   * and warn drop the line when --json is given. Progress a command shows only without --json is
   * that command's choice (sync, curate).
   */
  override logToStderr(message = '', ...args: unknown[]): void {
    // A line with no arguments is written as it is: format() would turn a "%%" in a path into "%".
    process.stderr.write(`${args.length === 0 ? message : format(message, ...args)}\n`)
  }

  /** oclif's `Warning: ...` line (deprecations), on stderr under --json too, as `logToStderr`. */
  override warn(input: string | Error): string | Error {
    Errors.warn(input)
    return input
  }

  /** Sets the process exit code without interrupting output (used for exit 5, partial). */
  protected setExitCode(code: ExitCode): void {
    process.exitCode = code
  }

  protected override async catch(
    error: Error & { exitCode?: number; oclif?: { exit?: number } },
  ): Promise<unknown> {
    // A flag or argument oclif's parser refused (unknown, a value missing or bad, conflicting flags, a
    // required one missing): oclif would print its own boxed lines, or the whole help (45 lines), and
    // nothing on stdout under --json. One line and the usage line say the same, and --json gets its
    // one JSON object.
    const message = parseErrorMessage(error, this.displayId())
    if (message !== undefined) {
      const usage = this.usageLine()
      if (this.jsonEnabled()) {
        this.report({ name: 'UsageError', message, exitCode: EXIT.usage, hint: usage })
      } else {
        process.exitCode = EXIT.usage
        this.logToStderr(`Error: ${message} (${this.config.bin} ${this.displayId()} --help lists every flag)`)
        this.logToStderr(usage)
      }
      return
    }
    // Ctrl-C (or a closed terminal) at a prompt: the person stopped it, nothing is wrong. Prompts come
    // before anything is written (login's email, password and code, destroy's confirmation).
    if (PROMPT_CANCELLED.has(error.name)) {
      process.exitCode = EXIT_CANCELLED
      const message = 'Cancelled; nothing was changed.'
      if (this.jsonEnabled()) {
        this.logJson({ error: { name: 'Cancelled', message, hint: null, exitCode: EXIT_CANCELLED } })
      } else this.logToStderr(message)
      return
    }
    // oclif's own exits and other flag parsing errors (oclif.exit = 2) keep oclif's behaviour.
    if (!isGarminS3Error(error)) {
      if (error.oclif?.exit !== undefined || error.name === 'ExitError') throw error
      this.report({
        name: 'InternalError',
        message: error.message,
        exitCode: EXIT.failure,
        hint: 'This is a bug in garmin-s3; please report it with the command you ran (rerun with DEBUG=garmin-s3 for details).',
      })
      if (process.env.DEBUG?.includes('garmin-s3')) this.logToStderr(error.stack ?? '')
      return
    }
    this.report({ name: error.name, message: error.message, exitCode: error.exitCode, hint: error.hint })
  }

  private displayId(): string {
    return (this.id ?? '').replaceAll(':', this.config.topicSeparator)
  }

  /** `Usage: garmin-s3 sync [--json] [--bucket <value> | --out <value>] ...`, on one line. */
  private usageLine(): string {
    const command = this.id ? this.config.findCommand(this.id) : undefined
    if (!command) return `Usage: ${this.config.bin} ${this.displayId()}`
    const flags = new UsageOf(command, this.config, { maxWidth: Number.POSITIVE_INFINITY })
      .line()
      .replace('<%= command.id %>', '')
      .trim()
    return `Usage: ${this.config.bin} ${this.displayId()} ${flags}`
  }

  private report(e: { name: string; message: string; exitCode: ExitCode; hint?: string | undefined }): void {
    process.exitCode = e.exitCode
    if (this.jsonEnabled()) {
      this.logJson({
        error: { name: e.name, message: e.message, hint: e.hint ?? null, exitCode: e.exitCode },
      })
    } else {
      this.logToStderr(`Error: ${e.message}`)
      if (e.hint) this.logToStderr(`  -> ${e.hint}`)
    }
  }
}

/**
 * What @inquirer's prompts reject with when the person presses Ctrl-C or the terminal closes
 * (ExitPromptError), or the prompt is aborted or cancelled (@inquirer/core's errors, told by name:
 * the prompt packages load only when a command asks).
 */
const PROMPT_CANCELLED = new Set(['ExitPromptError', 'AbortPromptError', 'CancelPromptError'])
/** 128 + SIGINT, as a shell reports a command stopped by Ctrl-C. */
const EXIT_CANCELLED = 130

const SEE_HELP = /\s*\nSee more help with --help$/
/** The parser's refusals that are plain CLIErrors: a flag without its value, given twice, unexpected. */
const PLAIN_REFUSAL = /^(Flag --\S+ (expects|can only)|Unexpected flag )/

/**
 * The message of an error oclif's parser threw, on one line, or undefined for any other error. Most
 * end "See more help with --help"; a flag's own parse failure comes as "Parsing --flag \n\t<reason>",
 * and flag validation lists its reasons under "The following error(s) occurred:".
 */
function parseErrorMessage(error: Error, command: string): string | undefined {
  // "Unexpected argument: user@x" names neither the command nor where the word ends.
  const extra = (error as { args?: unknown }).args
  if (
    error instanceof Errors.CLIError &&
    /^Unexpected arguments?: /.test(error.message) &&
    Array.isArray(extra)
  ) {
    const words = extra.map((word) => `'${stripVTControlCharacters(String(word))}'`).join(', ')
    return `Unexpected argument${extra.length === 1 ? '' : 's'} ${words} for ${command}`
  }
  const refused =
    error instanceof Errors.CLIError
      ? SEE_HELP.test(error.message) || PLAIN_REFUSAL.test(error.message)
      : error.message.startsWith('Parsing --') && SEE_HELP.test(error.message)
  if (!refused) return undefined
  const text = stripVTControlCharacters(error.message.replace(SEE_HELP, ''))
  const parsing = /^Parsing (--\S+)\s*\n\s*([\s\S]*)$/.exec(text)
  if (parsing) return `${parsing[1]}: ${oneLine(parsing[2] ?? '')}`
  const listed = /^The following errors? occurred:\s*\n([\s\S]*)$/.exec(text)
  return oneLine(listed ? (listed[1] ?? '').split('\n').join('; ') : text)
}

function oneLine(text: string): string {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .join(' ')
}

/** oclif's usage line of a command (what `--help` prints under USAGE), unwrapped. */
class UsageOf extends CommandHelp {
  line(): string {
    return this.defaultUsage()
  }
}
