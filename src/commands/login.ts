import * as Flags from '@oclif/core/flags'
import { BaseCommand } from '../cli/base.js'
import { domainFlag, forceTokenFileFlag, tokenStoreFlag } from '../cli/flags.js'
import { type LoginIo, type LoginResult, runLogin } from '../garmin/login.js'
import { TRANSPORTS } from '../garmin/transport.js'

export default class Login extends BaseCommand {
  static override summary = 'Sign in to Garmin Connect once and store the tokens garmin-s3 runs on.'
  static override description =
    `The password comes from GARMIN_PASSWORD or a hidden prompt, never from a flag.

Sign-in tries Garmin's ways in turn, as python-garminconnect does: the mobile app's, the SSO widget's and the web portal's, with browser-like TLS first (the optional package impit, installed with garmin-s3 wherever a prebuilt binary exists; without it those ways are skipped and the first line says so). A 429 or a bot challenge moves on to the next; a wrong password or a locked account stops at once (the password is sent once). One line per way goes to stderr; --json reports them and the request count.

When Garmin asks for a verification code, garmin-s3 prompts for it in a terminal (3 tries). Without a terminal it keeps the sign-in pending (a 0600 file beside the token file, never the password) and exits 3: run \`garmin-s3 login --mfa-code <code>\` within 10 minutes, with the code Garmin sent, to finish it.

Tokens are stored in ~/.config/garmin-s3/tokens.json (mode 0600; $XDG_CONFIG_HOME is honoured) or wherever --token-store / GARMIN_S3_TOKEN_STORE points, including an SSM parameter (ssm:/garmin-s3/tokens). The access token lasts a few hours and is refreshed automatically; the refresh token lasts about a month and is renewed by use.

Logins are rate-limited by Garmin: if one fails with HTTP 429 or a bot challenge, wait an hour rather than retrying.

Exit codes: 0 signed in; 1 the token store could not be read or written, or Garmin answered something unexpected; 2 bad flags or environment (--mfa-code with no sign-in pending and no email and password to start one; an --import file that is missing or no token file), or a token store (or, without a terminal, the folder for a pending sign-in) that cannot take the tokens, checked before anything is sent; 3 sign-in refused or not finished (wrong password, locked account, a code to enter); 4 rate-limited, bot challenge or Garmin unavailable.`

  static override examples = [
    '<%= config.bin %> login --email me@example.com',
    'GARMIN_EMAIL=me@example.com GARMIN_PASSWORD=... <%= config.bin %> login --mfa-code 123456',
    '<%= config.bin %> login --import ~/.garminconnect',
    '<%= config.bin %> login --token-store ssm:/garmin-s3/tokens',
  ]

  static override flags = {
    email: Flags.string({ description: 'Garmin account email (default: GARMIN_EMAIL, else a prompt).' }),
    'mfa-code': Flags.string({
      description:
        'The verification code Garmin sent: finishes the pending sign-in (no password needed), or is used for the next one.',
    }),
    import: Flags.string({
      description:
        "Use existing tokens instead of signing in: python-garminconnect's garmin_tokens.json (or its folder), a garmin-s3 tokens.json, or - for stdin.",
      exclusive: ['email', 'mfa-code', 'transport'],
    }),
    'token-store': tokenStoreFlag('Where to keep the tokens'),
    domain: domainFlag(),
    force: forceTokenFileFlag('overwrite'),
    transport: Flags.string({
      description:
        "How the sign-in talks TLS. auto: browser-like TLS (the optional package impit) for the impersonated sign-in ways wherever impit loads, Node's fetch for the others; impit: the same, but fail if impit cannot load; fetch: Node only, the impersonated ways are skipped.",
      options: [...TRANSPORTS],
      default: 'auto',
    }),
  }

  /** The outside world; tests replace it. */
  protected io(): LoginIo {
    const interactive = Boolean(process.stdin.isTTY && process.stderr.isTTY)
    return {
      env: process.env,
      interactive,
      // Prompts write to stderr so that stdout stays clean for --json.
      promptEmail: async () => {
        const { default: input } = await import('@inquirer/input')
        return input({ message: 'Garmin email:' }, { output: process.stderr })
      },
      promptPassword: async () => {
        const { default: password } = await import('@inquirer/password')
        return password({ message: 'Garmin password:', mask: '*' }, { output: process.stderr })
      },
      promptMfa: async (method) => {
        const { default: input } = await import('@inquirer/input')
        return input({ message: `Verification code Garmin sent by ${method}:` }, { output: process.stderr })
      },
      readStdin: async () => {
        const chunks: Buffer[] = []
        for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
        return Buffer.concat(chunks).toString('utf8')
      },
    }
  }

  async run(): Promise<LoginResult> {
    const { flags } = await this.parse(Login)
    const result = await runLogin(
      {
        email: flags.email,
        mfaCode: flags['mfa-code'],
        importFrom: flags.import,
        tokenStore: flags['token-store'],
        domain: flags.domain,
        force: flags.force,
        transport: flags.transport as (typeof TRANSPORTS)[number],
      },
      // The strategy lines go to stderr, so that stdout stays clean for --json.
      { log: (line) => this.logToStderr(line), ...this.io() },
    )
    const how = result.source === 'login' ? 'Signed in to' : 'Imported tokens for'
    this.log(`${how} Garmin Connect (${result.domain}) as ${result.displayName}.`)
    this.log(`Tokens stored in ${result.tokenStore}.`)
    this.log(
      `The access token expires ${result.accessTokenExpiresAt}; garmin-s3 refreshes it automatically from ${result.refreshDueAt} (the refresh token lasts about a month and is renewed by use).`,
    )
    return result
  }
}
