/**
 * Runs `garmin-s3 init github-actions` in process (see ../helpers/command.ts). The token store and the
 * AWS clients are the command's own seams.
 */
import InitGitHubActions from '../../src/commands/init/github-actions.js'
import type { AwsClientFactory } from '../../src/deploy/index.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { type CommandRun, runCommand } from '../helpers/command.js'

export type { CommandRun }

export interface Seams {
  tokens?: TokenStore
  aws?: AwsClientFactory
}

export async function runInit(argv: string[], seams: Seams = {}): Promise<CommandRun> {
  class TestInit extends InitGitHubActions {
    constructor(...args: ConstructorParameters<typeof InitGitHubActions>) {
      super(...args)
      if (seams.aws) this.awsClientFactory = seams.aws
    }
    protected override tokenStore(spec: string | undefined): TokenStore {
      return seams.tokens ?? super.tokenStore(spec)
    }
    /** The fixture tokens are unknown to Garmin; nothing here may call it. */
    protected override async checkTokens(): Promise<void> {}
  }
  return runCommand(TestInit, argv)
}
