/**
 * One base error for everything the user can be told about. Each error carries the exit code the CLI
 * ends with and a one-line next step (`hint`). Commands print `message` and `hint`, never a stack.
 *
 * Exit codes (ARCHITECTURE.md "Exit codes"): 0 ok, 1 failure, 2 usage, 3 authentication needed,
 * 4 rate limited / Garmin unavailable, 5 partial (resumes next run).
 */
export type ExitCode = 0 | 1 | 2 | 3 | 4 | 5

export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  auth: 3,
  unavailable: 4,
  partial: 5,
} as const satisfies Record<string, ExitCode>

export interface GarminS3ErrorOptions {
  hint?: string
  exitCode?: ExitCode
  cause?: unknown
}

export class GarminS3Error extends Error {
  readonly exitCode: ExitCode
  readonly hint: string | undefined

  constructor(message: string, options: GarminS3ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.exitCode = options.exitCode ?? EXIT.failure
    this.hint = options.hint
  }
}

/** Bad flags, environment or arguments: exit 2, nothing was done. */
export class UsageError extends GarminS3Error {
  constructor(message: string, options: Omit<GarminS3ErrorOptions, 'exitCode'> = {}) {
    super(message, { ...options, exitCode: EXIT.usage })
  }
}

/** The configured storage cannot be used (missing bucket, no access, unreadable folder): exit 1. */
export class StoreError extends GarminS3Error {}

export function isGarminS3Error(error: unknown): error is GarminS3Error {
  return error instanceof GarminS3Error
}
