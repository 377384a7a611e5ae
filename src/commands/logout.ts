import { BaseCommand } from '../cli/base.js'
import { forceTokenFileFlag, tokenStoreFlag } from '../cli/flags.js'
import { type LogoutResult, runLogout } from '../garmin/login.js'

export default class Logout extends BaseCommand {
  static override summary = 'Delete the stored Garmin tokens (safe to run twice).'
  static override description =
    `Deletes the token file (an empty one too), or, after deploy moved the session into SSM, only the pointer file (the deployment's parameter stays; destroy removes it), and a sign-in left waiting for its MFA code. With --token-store ssm:/... it deletes that parameter.

Exit codes: 0 done (also when nothing was stored); 1 the store could not be read or changed; 2 a file that is not a token file (pass --force), or a token path or SSM store that is not usable (no AWS region).`
  static override examples = [
    '<%= config.bin %> logout',
    '<%= config.bin %> logout --token-store ssm:/garmin-s3/tokens',
  ]

  static override flags = {
    'token-store': tokenStoreFlag('Where the tokens are kept'),
    force: forceTokenFileFlag('delete'),
  }

  /** The environment; tests replace it. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }

  async run(): Promise<LogoutResult> {
    const { flags } = await this.parse(Logout)
    const result = await runLogout({ tokenStore: flags['token-store'], force: flags.force }, this.env())
    if (result.pointer) {
      this.log(
        `Removed the pointer to ${result.pointer}; the deployment's tokens there stay (garmin-s3 destroy removes them).`,
      )
    } else {
      this.log(
        result.removed
          ? `Deleted the Garmin tokens in ${result.tokenStore}.`
          : `No Garmin tokens were stored in ${result.tokenStore}.`,
      )
    }
    if (result.pendingSignin) this.log(`Deleted the unfinished sign-in in ${result.pendingSignin}.`)
    return result
  }
}
