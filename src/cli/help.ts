/**
 * oclif's help (`garmin-s3 help`, `-h`; package.json "oclif.helpClass") with one change: help for a
 * command that does not exist answers as a mistyped command does (src/cli/hooks/not-found.ts, one
 * rule in src/cli/suggest.ts): the command meant, or `garmin-s3 help`, exit 2, where oclif says only
 * "Command sycn not found.". `help login user@x` shows login's help, as `login user@x` runs login.
 */
import { Errors, Help } from '@oclif/core'
import { EXIT } from '../errors.js'
import { commandIndex, printProblem, resolveNotFound } from './suggest.js'

/** What oclif's Help.showHelp throws for a subject that is no command or topic. */
const NOT_FOUND = /^Command (.+) not found\.$/

export default class GarminS3Help extends Help {
  override async showHelp(argv: string[]): Promise<void> {
    try {
      await super.showHelp(argv)
    } catch (error) {
      const subject = error instanceof Error ? NOT_FOUND.exec(error.message)?.[1] : undefined
      if (subject === undefined) throw error
      const verdict = resolveNotFound(subject, [], commandIndex(this.config))
      if (verdict.kind === 'run') return super.showHelp([verdict.id])
      printProblem(verdict.problem, false)
      Errors.exit(EXIT.usage)
    }
  }
}
