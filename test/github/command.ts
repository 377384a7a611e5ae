/**
 * Runs `garmin-s3 init github-actions` in process, as a user would (real flag parsing, real output
 * formatting), capturing stdout, stderr and the exit code. The token store and the AWS clients are the
 * command's own seams.
 */
import { join } from 'node:path'
import { Config } from '@oclif/core'
import InitGitHubActions from '../../src/commands/init/github-actions.js'
import type { AwsClientFactory } from '../../src/deploy/index.js'
import type { TokenStore } from '../../src/garmin/types.js'

export interface CommandRun {
  exitCode: number
  stdout: string
  stderr: string
  json: Record<string, unknown> | undefined
}

let config: Config | undefined

export interface Seams {
  tokens?: TokenStore
  aws?: AwsClientFactory
}

export async function runInit(argv: string[], seams: Seams = {}): Promise<CommandRun> {
  config ??= await Config.load(join(import.meta.dirname, '../..'))
  const out: string[] = []
  const err: string[] = []
  class TestInit extends InitGitHubActions {
    constructor(...args: ConstructorParameters<typeof InitGitHubActions>) {
      super(...args)
      if (seams.aws) this.awsClientFactory = seams.aws
    }
    protected override tokenStore(spec: string | undefined): TokenStore {
      return seams.tokens ?? super.tokenStore(spec)
    }
    override log(message = ''): void {
      if (!this.jsonEnabled()) out.push(message)
    }
    override logToStderr(message = ''): void {
      if (!this.jsonEnabled()) err.push(message)
    }
    override logJson(json: unknown): void {
      out.push(JSON.stringify(json))
    }
  }
  process.exitCode = undefined
  await TestInit.run(argv, config)
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
