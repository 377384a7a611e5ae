/**
 * Runs one of the CLI's commands in process, as a user would (real flag parsing, real output
 * formatting), capturing stdout, stderr and the exit code. The caller passes the command class, or a
 * subclass that overrides the command's own seams (token store, environment, prompts, AWS clients).
 */
import { join } from 'node:path'
import { type Command, Config } from '@oclif/core'

export interface CommandRun {
  exitCode: number
  stdout: string
  stderr: string
  /** stdout parsed, when `--json` was given. */
  json: Record<string, unknown> | undefined
}

let config: Promise<Config> | undefined

/** The CLI's oclif configuration (package.json at the repository root), loaded once per test file. */
export function cliConfig(): Promise<Config> {
  config ??= Config.load(join(import.meta.dirname, '../..'))
  return config
}

// biome-ignore lint/suspicious/noExplicitAny: a mixin's base class must take any constructor arguments
type MixinArgs = any[]
type CommandClass = (new (
  ...args: MixinArgs
) => Command & { run(): Promise<unknown> }) &
  Pick<typeof Command, 'run'>

export interface RunOptions {
  /** Every line printed (stdout and stderr) is appended here, even when the command throws. */
  printed?: string[]
  /** Collects stderr here, so that lines the caller captures elsewhere (a progress stream) interleave. */
  stderr?: string[]
}

export async function runCommand(
  Base: CommandClass,
  argv: string[],
  options: RunOptions = {},
): Promise<CommandRun> {
  const out: string[] = []
  const err = options.stderr ?? []
  // Same rules as the base command's (src/cli/base.ts): stdout lines are dropped under --json, where
  // stdout holds only the JSON; stderr lines are kept (test/cli/json-stderr.process.test.ts checks the
  // real streams).
  class Captured extends Base {
    override log(message = ''): void {
      if (!this.jsonEnabled()) out.push(message)
    }
    override logToStderr(message = ''): void {
      err.push(message)
    }
    override logJson(json: unknown): void {
      out.push(JSON.stringify(json))
    }
    override warn(input: Error | string): Error | string {
      err.push(String(input))
      return input
    }
  }
  process.exitCode = undefined
  try {
    await Captured.run(argv, await cliConfig())
  } finally {
    options.printed?.push(...out, ...err)
  }
  const exitCode = Number(process.exitCode ?? 0)
  process.exitCode = undefined
  const stdout = out.join('\n')
  return {
    exitCode,
    stdout,
    stderr: err.join('\n'),
    json: argv.includes('--json') ? (JSON.parse(stdout) as Record<string, unknown>) : undefined,
  }
}
