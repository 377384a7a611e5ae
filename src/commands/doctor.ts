import * as Flags from '@oclif/core/flags'
import type { AwsClientFactory, AwsClients } from '../aws/clients.js'
import { BaseCommand } from '../cli/base.js'
import {
  checkedDeploymentNameFlag,
  domainFlag,
  targetFlags,
  targetOptions,
  tokenStoreFlag,
} from '../cli/flags.js'
import { systemClock } from '../clock.js'
import { DEFAULT_NAME, validateName } from '../deploy/options.js'
import type { DoctorReport } from '../doctor/index.js'
import { GarminClient } from '../garmin/client.js'
import { resolveEndpoints } from '../garmin/endpoints.js'
import { FileTokenStore, openTokenStore } from '../garmin/tokens.js'
import { openStore, validatePrefix } from '../store/target.js'

export default class Doctor extends BaseCommand {
  static override summary = 'Check every stage a sync needs, in order, and say what to do next.'

  static override description =
    `With the stored tokens: 1 the token file (readable, not readable by others), 2 the access token's expiry, 3 a refresh (only when due, or with --refresh), 4 Garmin's profile, 5 one list call, 6 the target store (a create-only probe under _garmin-s3/, deleted afterwards with any folder it made: the target is left as found; never a data key), 7 the deployment (--name; when the target is a bucket or --name is given): function, schedule and token parameter.

Prints a table (stage, result, time, next step); --json prints the same as one object (docs/doctor.md). Attach it to a bug report: it holds no secret.

Exit codes: the first failing stage's, as everywhere else: 0 ok, 1 failure, 2 usage, 3 sign-in needed, 4 Garmin rate-limited or unavailable.`

  static override examples = [
    '<%= config.bin %> doctor',
    '<%= config.bin %> doctor --bucket my-garmin-lake --json',
    '<%= config.bin %> doctor --refresh',
  ]

  static override flags = {
    ...targetFlags('check'),
    name: checkedDeploymentNameFlag(
      `The deployment to check (default ${DEFAULT_NAME}); checked when the target is a bucket or --name is given.`,
    ),
    refresh: Flags.boolean({ description: 'Refresh the access token even when it is not due.' }),
    'token-store': tokenStoreFlag(),
    domain: domainFlag(),
  }

  /** Seams for tests: the environment, the AWS clients. */
  protected env(): NodeJS.ProcessEnv {
    return process.env
  }
  protected async awsClients(config: Parameters<AwsClientFactory>[0]): Promise<AwsClients> {
    const { createAwsClients } = await import('../aws/clients.js')
    return createAwsClients(config)
  }

  async run(): Promise<DoctorReport> {
    const { flags } = await this.parse(Doctor)
    const env = this.env()
    const prefix = validatePrefix(flags.prefix)
    const name = validateName(flags.name ?? DEFAULT_NAME)
    // Doctor creates nothing: a mistyped --out fails the store stage instead of becoming a folder.
    const store = await openStore(
      targetOptions(flags),
      (message) => this.logToStderr(`warning: ${message}`),
      {
        createFolder: false,
      },
    )
    const tokenStore = openTokenStore(flags['token-store'], env)
    const endpoints = resolveEndpoints({ ...(flags.domain ? { domain: flags.domain } : {}), env })
    const garmin = new GarminClient({
      tokenStore,
      endpoints,
    })
    const checkDeployment = flags.bucket !== undefined || flags.name !== undefined
    const clients = checkDeployment
      ? await this.awsClients({
          ...(flags.region ? { region: flags.region } : {}),
          ...(flags.profile ? { profile: flags.profile } : {}),
        })
      : undefined
    // The checks (and, through the deployment check, the AWS SDK commands) load when the command runs.
    const { renderDoctor, runDoctor } = await import('../doctor/index.js')
    let report: DoctorReport
    try {
      report = await runDoctor(
        { refresh: flags.refresh, prefix, deploymentName: name, domain: endpoints.domain },
        {
          tokenStore,
          tokenPath: tokenStore instanceof FileTokenStore ? tokenStore.path : undefined,
          garmin,
          store,
          aws: clients ?? { skip: 'the target is a folder; pass --name to check a Lambda deployment' },
          clock: systemClock,
        },
      )
    } finally {
      for (const client of Object.values(clients ?? {})) client.destroy()
    }
    if (!this.jsonEnabled()) for (const line of renderDoctor(report)) this.log(line)
    this.setExitCode(report.exitCode)
    return report
  }
}
