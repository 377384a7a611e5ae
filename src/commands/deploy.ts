import type { GlueClient } from '@aws-sdk/client-glue'
import * as Flags from '@oclif/core/flags'
import type { CatalogResult } from '../athena/index.js'
import { DEFAULT_DATABASE, validateDatabaseName } from '../athena/options.js'
import type { AwsClientConfig } from '../aws/clients.js'
import { BaseCommand } from '../cli/base.js'
import { catalogLines, openGlueClient } from '../cli/catalog.js'
import {
  adoptFlag,
  awsProfileFlag,
  awsRegionFlag,
  bucketRegionFlag,
  deploymentNameFlag,
  dryRunFlag,
  keepLocalFlag,
  scheduledTargetFlags,
  tokenStoreFlag,
  yesFlag,
} from '../cli/flags.js'
import { DEFAULT_CURATED_PREFIX, validateCuratedPrefix } from '../curate/options.js'
import { MAX_NO_DATA_DAYS } from '../deploy/alert-options.js'
import type { AwsClientFactory, DeployResult } from '../deploy/index.js'
import {
  DEFAULT_MEMORY_MB,
  DEFAULT_RUNTIME,
  DEFAULT_SCHEDULE,
  DEFAULT_TIMEOUT_S,
  DEFAULT_TIMEZONE,
  type SchedulerKind,
  validateRuntime,
} from '../deploy/options.js'
import { changeLine, deploySummary, invokeFailureLines, isAbsentNoop } from '../deploy/render.js'
import { checkSession, refuseSimulatorSession } from '../garmin/login.js'
import { openTokenStore } from '../garmin/tokens.js'
import type { TokenStore } from '../garmin/types.js'
import { validatePolicyPrefix } from '../store/target.js'
import { controlPrefixFor, parseDatasets } from '../sync/index.js'

export default class Deploy extends BaseCommand {
  static override summary = 'Deploy garmin-s3 as a daily AWS Lambda (EventBridge schedule -> Lambda -> S3).'
  static override description =
    `Creates or updates, and is safe to rerun: an execution role limited to the bucket prefix and the token parameter, the token parameter (SSM SecureString, seeded from your local login; the password is never sent), the function (Node.js, arm64, reserved concurrency 1), and a schedule with its own role. With --alert-email or --alert-topic-arn: the function's failure destination and CloudWatch alarms on an SNS topic (docs/alerts.md); a deploy without them takes earlier alerts off.

Only what differs is changed; an unchanged bundle is not re-uploaded. --dry-run prints the plan and changes nothing. Every AWS client honours AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE>. Remove it all with \`garmin-s3 destroy\`.`

  static override examples = [
    '<%= config.bin %> deploy --bucket my-data-lake --dry-run',
    '<%= config.bin %> deploy --bucket my-data-lake --region us-east-1 --invoke',
    '<%= config.bin %> deploy --bucket my-data-lake --schedule "cron(30 5 * * ? *)" --timezone Europe/Berlin',
    '<%= config.bin %> deploy --bucket my-data-lake --scheduler rule --schedule "cron(0 12 * * ? *)"',
    '<%= config.bin %> deploy --bucket my-data-lake --alert-email you@example.com --alert-no-data-days 3',
  ]

  static override flags = {
    ...scheduledTargetFlags('the function writes to'),
    data: Flags.string({
      description:
        'What the function copies, a comma list or all (default activities); the IAM policy covers exactly their prefixes. See docs/layout.md.',
    }),
    curate: Flags.boolean({
      description:
        'After each sync the function also builds the curated Parquet tables of what it copies (docs/curated-tables.md); the IAM policy adds their prefix.',
    }),
    'curated-prefix': Flags.string({
      description: `With --curate: key prefix of the curated tables (default ${DEFAULT_CURATED_PREFIX}).`,
      default: DEFAULT_CURATED_PREFIX,
    }),
    athena: Flags.boolean({
      description:
        'Also create or update the Glue/Athena catalog of the curated tables (as garmin-s3 catalog athena).',
    }),
    database: Flags.string({ description: 'With --athena: the Glue database.', default: DEFAULT_DATABASE }),
    'days-back': Flags.integer({ description: 'Limit each run to activities of the last N days.', min: 1 }),
    'reconcile-days': Flags.integer({
      description:
        'Compare the whole activity list every N days (edits and deletions, docs/changes.md; default 7, 0: never).',
      min: 0,
      max: 366,
    }),
    name: deploymentNameFlag('Prefix of every AWS resource, so deployments can coexist.'),
    region: awsRegionFlag(),
    'bucket-region': bucketRegionFlag("The bucket's region, when it is not the function's (--region)."),
    profile: awsProfileFlag(),
    runtime: Flags.string({
      description: 'Lambda runtime: nodejs22.x or nodejs24.x.',
      default: DEFAULT_RUNTIME,
    }),
    memory: Flags.integer({ description: 'Function memory in MB.', default: DEFAULT_MEMORY_MB }),
    timeout: Flags.integer({ description: 'Function timeout in seconds.', default: DEFAULT_TIMEOUT_S }),
    schedule: Flags.string({
      description:
        'When to run, as EventBridge takes it: cron(minutes hours day-of-month month day-of-week year) with "?" in exactly one of the two day fields, or rate(1 day) / rate(N days|hours|minutes). Anything else: exit 2 before any AWS call.',
      default: DEFAULT_SCHEDULE,
    }),
    timezone: Flags.string({
      description: `Time zone of --schedule (EventBridge Scheduler; default ${DEFAULT_TIMEZONE}). Rules always use UTC.`,
    }),
    scheduler: Flags.string({
      description:
        'schedule: EventBridge Scheduler with a time zone; rule: a classic EventBridge rule (UTC).',
      options: ['schedule', 'rule'],
      default: 'schedule',
    }),
    'token-store': tokenStoreFlag('Local tokens whose session moves into the parameter'),
    'keep-local': keepLocalFlag(),
    'dry-run': dryRunFlag('Print the plan (create / update / unchanged) and change nothing.'),
    invoke: Flags.boolean({
      description:
        "Run the function once after deploying and print its report. If that run fails, the deployment stays in place and deploy exits with the run's exit code (3: sign in again; 1 otherwise), printing the function's error and where its log is.",
    }),
    adopt: adoptFlag(
      'Take over same-named resources garmin-s3 did not make (no managed-by=garmin-s3 tag for this --name); lists the foreign policies it detaches.',
    ),
    yes: yesFlag('Accepted for scripts that pass it to deploy and destroy alike; deploy never asks.'),
    'alert-email': Flags.string({
      description:
        "Email alerts (repeatable): a topic <name>-alerts with this subscription, the function's failure destination and alarms (sign-in needed, no successful run for 36 h, failed items on 3 runs in a row). Confirm the subscription in your inbox. See docs/alerts.md.",
      multiple: true,
    }),
    'alert-topic-arn': Flags.string({
      description:
        'Send the failure destination and the alarms to your own SNS topic instead (never changed or deleted by garmin-s3).',
    }),
    'alert-no-data-days': Flags.integer({
      description: `Also alarm when no new activity is stored for N days (1-${MAX_NO_DATA_DAYS}; needs --alert-email or --alert-topic-arn).`,
    }),
  }

  /**
   * Seams for tests: the AWS clients (default: the SDK's, loaded when the command runs), the local
   * token store and the Garmin check of its tokens.
   */
  protected awsClientFactory?: AwsClientFactory
  protected tokenStore(spec: string | undefined): TokenStore {
    return openTokenStore(spec)
  }
  protected checkTokens(store: TokenStore): Promise<void> {
    return checkSession(store, process.env)
  }

  /** The Glue client of --athena; tests replace it. */
  protected glueClient(config: AwsClientConfig): Promise<GlueClient> {
    return openGlueClient(config)
  }

  async run(): Promise<DeployResult & { athena?: CatalogResult }> {
    const { flags } = await this.parse(Deploy)
    const scheduler = flags.scheduler as SchedulerKind
    const prefix = validatePolicyPrefix(flags.prefix)
    const datasets = parseDatasets(flags.data)
    const database = validateDatabaseName(flags.database)
    const curatedPrefix = flags.curate
      ? validateCuratedPrefix(validatePolicyPrefix(flags['curated-prefix']), prefix)
      : undefined
    const dryRun = flags['dry-run']
    refuseSimulatorSession(process.env, 'deploy')
    // The deployment engine and the AWS SDK load here, not when the CLI starts.
    const { createAwsClients, deploy, destroyClients } = await import('../deploy/index.js')
    const clients = (this.awsClientFactory ?? createAwsClients)({
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.profile ? { profile: flags.profile } : {}),
    })
    const human = !this.jsonEnabled()
    try {
      if (human) this.log(dryRun ? 'Plan (--dry-run):' : `Deploying "${flags.name}":`)
      const result = await deploy(
        {
          name: flags.name,
          bucket: flags.bucket,
          prefix,
          controlPrefix: controlPrefixFor(prefix),
          ...(flags['days-back'] !== undefined ? { daysBack: flags['days-back'] } : {}),
          ...(flags['reconcile-days'] !== undefined ? { reconcileDays: flags['reconcile-days'] } : {}),
          ...(flags.data !== undefined ? { datasets } : {}),
          ...(curatedPrefix ? { curatedPrefix } : {}),
          ...(flags['bucket-region'] ? { bucketRegion: flags['bucket-region'] } : {}),
          runtime: validateRuntime(flags.runtime),
          memory: flags.memory,
          timeout: flags.timeout,
          schedule: flags.schedule,
          timezone: flags.timezone ?? (scheduler === 'rule' ? 'UTC' : DEFAULT_TIMEZONE),
          scheduler,
          alerts: {
            emails: flags['alert-email'] ?? [],
            ...(flags['alert-topic-arn'] ? { topicArn: flags['alert-topic-arn'] } : {}),
            ...(flags['alert-no-data-days'] !== undefined ? { noDataDays: flags['alert-no-data-days'] } : {}),
          },
        },
        {
          clients,
          tokenStore: this.tokenStore(flags['token-store']),
          checkTokens: (store) => this.checkTokens(store),
          ...(human
            ? { onChange: (change) => isAbsentNoop(change) || this.log(changeLine(change, dryRun)) }
            : {}),
        },
        { dryRun, invoke: flags.invoke, adopt: flags.adopt, keepLocal: flags['keep-local'] },
      )
      if (human) for (const line of deploySummary(result)) this.log(line)
      // The deployment stands; the failed test run sets the exit code (its own, e.g. 3: sign-in needed).
      if (result.invoke && 'error' in result.invoke) {
        this.setExitCode(result.invoke.error.exitCode)
        if (human) for (const line of invokeFailureLines(result)) this.logToStderr(line)
      }
      if (!flags.athena) return result
      const glue = await this.glueClient({
        ...(flags.region ? { region: flags.region } : {}),
        ...(flags.profile ? { profile: flags.profile } : {}),
      })
      try {
        const { reconcileCatalog } = await import('../athena/index.js')
        const athena = await reconcileCatalog(glue, {
          bucket: flags.bucket,
          rawPrefix: prefix,
          curatedPrefix: curatedPrefix ?? DEFAULT_CURATED_PREFIX,
          database,
          dryRun,
        })
        if (human) for (const line of catalogLines(athena, false)) this.log(line)
        return { ...result, athena }
      } finally {
        glue.destroy()
      }
    } finally {
      destroyClients(clients)
    }
  }
}
