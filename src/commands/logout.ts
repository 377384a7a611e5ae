import { Flags } from '@oclif/core'
import { BaseCommand } from '../cli/base.js'
import { runLogout } from '../garmin/login.js'

export default class Logout extends BaseCommand {
  static override summary = 'Delete the stored Garmin tokens (safe to run twice).'
  static override examples = [
    '<%= config.bin %> logout',
    '<%= config.bin %> logout --token-store ssm:/garmin-s3/tokens',
  ]

  static override flags = {
    'token-store': Flags.string({
      description:
        'Where the tokens are kept: a file path or ssm:/<parameter> (default: GARMIN_S3_TOKEN_STORE, else ~/.config/garmin-s3/tokens.json).',
    }),
  }

  /** The environment; tests replace it. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }

  async run(): Promise<{ tokenStore: string; removed: boolean }> {
    const { flags } = await this.parse(Logout)
    const result = await runLogout({ tokenStore: flags['token-store'] }, this.env())
    this.log(
      result.removed
        ? `Deleted the Garmin tokens in ${result.tokenStore}.`
        : `No Garmin tokens were stored in ${result.tokenStore}.`,
    )
    return result
  }
}
