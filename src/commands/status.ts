import * as Flags from '@oclif/core/flags'
import type { AwsClientFactory, AwsClients } from '../aws/clients.js'
import { BaseCommand } from '../cli/base.js'
import { checkedDeploymentNameFlag, targetFlags, targetOptions, tokenStoreFlag } from '../cli/flags.js'
import { DEFAULT_NAME, validateName } from '../deploy/options.js'
import { openTokenStore } from '../garmin/tokens.js'
import type { StatusReport } from '../status/index.js'
import { openStore, validatePrefix } from '../store/target.js'

export default class Status extends BaseCommand {
  static override summary = 'What is in the lake, and is the pipeline healthy?'

  static override description =
    `By default reads only the sync state (one storage request, whatever the bucket holds): activities stored, newest and oldest, the last runs, and a verdict: OK, WARN (no successful run in 36 h, failures in the last run, a refresh token older than 20 days, a bucket without state) or FAIL (the last run could not sign in, nothing ever synced), each with the next step.

--deep lists the prefix once (in pages; no object is downloaded): objects and bytes, activities per year and per type, keys that do not follow the layout, and whether the state matches what is really there. --repair rewrites the state from that listing, so the next sync copies again whatever went missing.

The deployment (--name, default ${DEFAULT_NAME}) is checked when the target is a bucket or --name is given: function, schedule with its next three runs, token parameter. What AWS does not let us read is shown as unknown.

Exit codes: 0 OK or WARN, 1 FAIL (or the storage could not be read), 2 bad usage.`

  static override examples = [
    '<%= config.bin %> status',
    '<%= config.bin %> status --bucket my-garmin-lake',
    '<%= config.bin %> status --bucket my-garmin-lake --deep',
    '<%= config.bin %> status --bucket my-garmin-lake --deep --repair',
    '<%= config.bin %> status --out ~/garmin --name garmin-s3 --json',
  ]

  static override flags = {
    ...targetFlags('inspect'),
    name: checkedDeploymentNameFlag(
      `The deployment to check (as given to deploy --name; default ${DEFAULT_NAME}). Checked when the target is a bucket or --name is given.`,
    ),
    deep: Flags.boolean({
      description:
        'List the prefix: per year and type, keys off the layout, drift between state and listing.',
    }),
    repair: Flags.boolean({ description: 'With --deep (implied): rewrite the state from the listing.' }),
    'token-store': tokenStoreFlag(),
  }

  /** Seams for tests: the environment, the AWS clients, colour. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }
  /** Loaded only when a deployment is checked: a folder status never pays for the AWS SDK clients. */
  protected async awsClients(config: Parameters<AwsClientFactory>[0]): Promise<AwsClients> {
    const { createAwsClients } = await import('../aws/clients.js')
    return createAwsClients(config)
  }
  protected colorEnabled(): boolean {
    const env = this.env()
    return Boolean(process.stdout.isTTY) && !env.NO_COLOR && env.TERM !== 'dumb'
  }

  async run(): Promise<StatusReport> {
    const { flags } = await this.parse(Status)
    const env = this.env()
    const prefix = validatePrefix(flags.prefix)
    const name = validateName(flags.name ?? DEFAULT_NAME)
    const store = await openStore(targetOptions(flags), (message) => this.logToStderr(`warning: ${message}`))
    const tokenStore = openTokenStore(flags['token-store'], env)
    const checkDeployment = flags.bucket !== undefined || flags.name !== undefined
    const clients = checkDeployment
      ? await this.awsClients({
          ...(flags.region ? { region: flags.region } : {}),
          ...(flags.profile ? { profile: flags.profile } : {}),
        })
      : undefined
    // Reading the lake, the health rules and the schedule parser load when the command runs.
    const [{ gatherStatus }, { renderStatus }] = await Promise.all([
      import('../status/index.js'),
      import('../status/render.js'),
    ])
    let report: StatusReport
    try {
      report = await gatherStatus(
        { prefix, deep: flags.deep, repair: flags.repair, deploymentName: name },
        {
          store,
          tokenStore,
          aws: clients ?? { skip: 'the target is a folder; pass --name to check a Lambda deployment' },
        },
      )
    } finally {
      for (const client of Object.values(clients ?? {})) client.destroy()
    }
    if (!this.jsonEnabled())
      for (const line of renderStatus(report, { color: this.colorEnabled() })) this.log(line)
    if (report.health.verdict === 'FAIL') this.setExitCode(1)
    return report
  }
}
