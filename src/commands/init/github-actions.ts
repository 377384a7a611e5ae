import { relative } from 'node:path'
import * as Flags from '@oclif/core/flags'
import { BaseCommand } from '../../cli/base.js'
import {
  adoptFlag,
  awsProfileFlag,
  awsRegionFlag,
  bucketRegionFlag,
  deploymentNameFlag,
  domainFlag,
  dryRunFlag,
  keepLocalFlag,
  scheduledTargetFlags,
  tokenStoreFlag,
} from '../../cli/flags.js'
import type { AwsClientFactory, AwsClients } from '../../deploy/index.js'
import { changeLine } from '../../deploy/render.js'
import { UsageError } from '../../errors.js'
import { checkSession, refuseSimulatorSession } from '../../garmin/login.js'
import { openTokenStore } from '../../garmin/tokens.js'
import type { GarminDomain, TokenStore } from '../../garmin/types.js'
import type { InitResult } from '../../github/init.js'
import { DEFAULT_CRON } from '../../github/workflow.js'
import { validatePolicyPrefix } from '../../store/target.js'
import { controlPrefixFor } from '../../sync/index.js'

export default class InitGitHubActions extends BaseCommand {
  static override summary = 'Schedule garmin-s3 sync with GitHub Actions instead of Lambda.'
  static override description =
    `Writes .github/workflows/garmin-s3-sync.yml into this repository: a daily schedule (plus a manual "Run workflow" button) that signs in to AWS through GitHub OIDC (no stored keys) and runs \`npx garmin-s3 sync\` with the Garmin tokens kept in SSM, so the rotated refresh token survives between runs.

With --create-role it also creates (or reuses) GitHub's OIDC identity provider in IAM and a role that only the given repository's branch can assume, with the same least-privilege policy as the Lambda deployment, and uploads your local login to the SSM parameter. --name picks the same parameter as \`deploy\`. Safe to rerun; --dry-run shows the plan and writes nothing.`

  static override examples = [
    '<%= config.bin %> init github-actions --bucket my-data-lake --create-role --repo octocat/garmin-data --dry-run',
    '<%= config.bin %> init github-actions --bucket my-data-lake --create-role --repo octocat/garmin-data',
    '<%= config.bin %> init github-actions --bucket my-data-lake --role-arn arn:aws:iam::123456789012:role/garmin-s3-github --region us-east-1',
    '<%= config.bin %> init github-actions --bucket my-data-lake --role-arn arn:aws:iam::123456789012:role/gh --region eu-central-1 --cron "30 5 * * *" --timezone Europe/Berlin',
  ]

  static override flags = {
    ...scheduledTargetFlags('the workflow syncs into'),
    'role-arn': Flags.string({
      description: 'IAM role the workflow assumes through GitHub OIDC (or use --create-role).',
      exclusive: ['create-role'],
    }),
    'create-role': Flags.boolean({
      description:
        "Create (or reuse) GitHub's OIDC provider and a role only --repo's --branch can assume, and upload your tokens to SSM.",
    }),
    repo: Flags.string({
      description: 'With --create-role: the GitHub repository (owner/name) the workflow lives in.',
    }),
    branch: Flags.string({
      description: "With --create-role: the repository's default branch, the only one trusted.",
      default: 'main',
    }),
    name: deploymentNameFlag('Deployment name: picks the token parameter /<name>/tokens, as for deploy.'),
    region: awsRegionFlag(
      'AWS region of the bucket and the token parameter (default: AWS_REGION; with --create-role, also the profile).',
    ),
    'bucket-region': bucketRegionFlag(
      "The bucket's region, when it is not --region (the token parameter's).",
    ),
    profile: awsProfileFlag('With --create-role: AWS profile (default: AWS_PROFILE).'),
    cron: Flags.string({
      description: 'When to run: five-field cron (UTC unless --timezone).',
      default: DEFAULT_CRON,
    }),
    timezone: Flags.string({
      description: 'IANA time zone for --cron, e.g. America/Chicago (default: UTC).',
    }),
    domain: domainFlag('from your login, else garmin.com'),
    'token-store': tokenStoreFlag('With --create-role: local tokens whose session moves into SSM'),
    'keep-local': keepLocalFlag(),
    'no-issue': Flags.boolean({
      description:
        'Do not open an issue when a scheduled run fails (by default one issue labelled garmin-s3, commented on each failure, closed by the next success).',
    }),
    dir: Flags.string({ description: 'Root of the repository to write the workflow into.', default: '.' }),
    force: Flags.boolean({ description: 'Replace an existing, different workflow file.' }),
    package: Flags.string({
      description:
        'What the workflow installs with npx (default garmin-s3@<this version>): garmin-s3@x.y.z, an https tarball URL (npm pack), or github:owner/repo#tag, until the package is published.',
    }),
    adopt: adoptFlag(
      'With --create-role: take over a same-named role or parameter garmin-s3 did not make; lists the foreign policies it detaches.',
    ),
    'dry-run': dryRunFlag('Print the plan and the workflow; write nothing, change nothing in AWS.'),
  }

  /** Seams for tests: the AWS clients (default: the SDK's, loaded when the command runs), the local token store. */
  protected awsClientFactory?: AwsClientFactory
  protected tokenStore(spec: string | undefined): TokenStore {
    return openTokenStore(spec)
  }
  protected checkTokens(store: TokenStore): Promise<void> {
    return checkSession(store, process.env)
  }

  async run(): Promise<InitResult> {
    const { flags } = await this.parse(InitGitHubActions)
    if (flags.repo !== undefined && !flags['create-role']) {
      throw new UsageError('--repo is only used with --create-role', {
        hint: 'Add --create-role to let garmin-s3 create the role, or pass --role-arn for a role you made.',
      })
    }
    if (flags['create-role'] && !flags.repo) {
      throw new UsageError('--create-role needs --repo owner/name', {
        hint: 'The role trusts exactly one repository, e.g. --create-role --repo octocat/garmin-data.',
      })
    }
    const prefix = validatePolicyPrefix(flags.prefix)
    if (flags['create-role']) refuseSimulatorSession(process.env, 'init github-actions --create-role')
    const human = !this.jsonEnabled()
    const dryRun = flags['dry-run']
    let clients: AwsClients | undefined
    // The set-up, the deployment engine and the AWS SDK load here, not when the CLI starts.
    const [{ initGitHubActions }, { createAwsClients, destroyClients }] = await Promise.all([
      import('../../github/init.js'),
      import('../../deploy/index.js'),
    ])
    try {
      if (human && flags['create-role'])
        this.log(dryRun ? 'Plan (--dry-run):' : `Setting up GitHub Actions for ${flags.repo}:`)
      const result = await initGitHubActions(
        {
          dir: flags.dir,
          name: flags.name,
          bucket: flags.bucket,
          prefix,
          controlPrefix: controlPrefixFor(prefix),
          region: flags.region,
          bucketRegion: flags['bucket-region'],
          roleArn: flags['role-arn'],
          cron: flags.cron,
          timezone: flags.timezone,
          domain: flags.domain as GarminDomain | undefined,
          force: flags.force,
          dryRun,
          adopt: flags.adopt,
          keepLocal: flags['keep-local'],
          noIssue: flags['no-issue'],
          createRole:
            flags['create-role'] && flags.repo ? { repo: flags.repo, branch: flags.branch } : undefined,
          packageVersion: this.config.version,
          packageSpec: flags.package,
        },
        {
          clients: () => {
            clients = (this.awsClientFactory ?? createAwsClients)({
              ...(flags.region ? { region: flags.region } : {}),
              ...(flags.profile ? { profile: flags.profile } : {}),
            })
            return clients
          },
          ...(flags['create-role']
            ? {
                tokenStore: this.tokenStore(flags['token-store']),
                checkTokens: (store) => this.checkTokens(store),
              }
            : {}),
          ...(human && flags['create-role']
            ? { onChange: (change) => this.log(changeLine(change, dryRun)) }
            : {}),
        },
      )
      for (const warning of result.warnings) this.logToStderr(`warning: ${warning}`)
      if (human) this.render(result)
      return result
    } finally {
      if (clients) destroyClients(clients)
    }
  }

  private render(result: InitResult): void {
    const shown = relative(process.cwd(), result.path) || result.path
    const where = shown.startsWith('..') ? result.path : shown
    if (result.dryRun) {
      this.log(
        `\nWould ${result.file === 'unchanged' ? 'leave unchanged' : result.file === 'create' ? 'write' : 'replace'} ${where}:\n`,
      )
      this.log(result.workflow ?? '')
    } else if (result.file === 'unchanged') {
      this.log(`${where} is already up to date (unchanged).`)
    } else {
      this.log(`${result.file === 'create' ? 'Wrote' : 'Replaced'} ${where}.`)
    }
    const zone = result.schedule.timezone ?? 'UTC'
    this.log(
      `Runs "${result.schedule.cron}" (${zone}) as ${result.roleArn} in ${result.region}; tokens in SSM ${result.tokenParameter}.`,
    )
    this.log('\nNext steps:')
    for (const [i, step] of result.nextSteps.entries()) this.log(`  ${i + 1}. ${step}`)
  }
}
