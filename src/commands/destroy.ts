import type { GlueClient } from '@aws-sdk/client-glue'
import * as Flags from '@oclif/core/flags'
import type * as Interfaces from '@oclif/core/interfaces'
import type { CatalogResult } from '../athena/index.js'
import { DEFAULT_DATABASE, validateDatabaseName } from '../athena/options.js'
import type { AwsClientConfig } from '../aws/clients.js'
import { BaseCommand } from '../cli/base.js'
import { catalogLines, openGlueClient } from '../cli/catalog.js'
import {
  adoptFlag,
  awsProfileFlag,
  awsRegionFlag,
  deploymentNameFlag,
  dryRunFlag,
  tokenStoreFlag,
  yesFlag,
} from '../cli/flags.js'
import type { AwsClientFactory, DestroyResult } from '../deploy/index.js'
import { changeLine, destroySummary } from '../deploy/render.js'
import { UsageError } from '../errors.js'
import { openTokenStore } from '../garmin/tokens.js'
import type { TokenStore } from '../garmin/types.js'

export default class Destroy extends BaseCommand {
  static override summary = 'Remove what `garmin-s3 deploy` created (never the bucket or its objects).'
  static override description =
    `Deletes the schedule (or rule, target and permission), the function, both roles with their policies, and the token parameter of the deployment named --name. When your local token file points to that parameter (deploy moved the session there), the session moves back into the file: you stay signed in. Safe to rerun: a second run finds nothing and changes nothing.

The token parameter is kept (and the plan says why) when deploy did not create it (garmin-s3 login --token-store made it) or nothing shows who made it (one tagged by a version before garmin-s3:created-by; the plan gives the command that settles it), or while a GitHub Actions workflow still uses it (the role <name>-github of init github-actions --create-role, or a role of yours GitHub may assume whose policies allow ssm:PutParameter on it: destroy names it and never deletes it); --adopt does not change that.

--athena also removes the Glue/Athena catalog garmin-s3 made (as catalog athena --remove).

Asks for confirmation on a terminal; pass --yes in scripts.`

  static override examples = [
    '<%= config.bin %> destroy --dry-run',
    '<%= config.bin %> destroy --name garmin-s3 --region us-east-1 --yes',
  ]

  static override flags = {
    name: deploymentNameFlag('The deployment to remove (its --name at deploy time).'),
    region: awsRegionFlag(),
    profile: awsProfileFlag(),
    yes: yesFlag('Do not ask for confirmation.'),
    'dry-run': dryRunFlag('Print what would be removed and change nothing.'),
    athena: Flags.boolean({
      description: 'Also remove the Glue/Athena tables (and database) garmin-s3 made; never the data.',
    }),
    database: Flags.string({ description: 'With --athena: the Glue database.', default: DEFAULT_DATABASE }),
    adopt: adoptFlag(
      'Also delete same-named resources garmin-s3 did not make (without it, destroy refuses, exit 2); lists the foreign policies on them.',
    ),
    'token-store': tokenStoreFlag(
      'Local tokens that deploy moved into the parameter; they get the session back, so you stay signed in',
    ),
  }

  /** Seams for tests (default AWS clients: the SDK's, loaded when the command runs; the local token store). */
  protected awsClientFactory?: AwsClientFactory
  protected tokenStore(spec: string | undefined): TokenStore {
    return openTokenStore(spec)
  }
  protected interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stderr.isTTY)
  }
  protected async confirm(question: string): Promise<boolean> {
    const { default: input } = await import('@inquirer/input')
    const answer = await input({ message: question }, { output: process.stderr })
    return /^y(es)?$/i.test(answer.trim())
  }

  /** The Glue client of --athena; tests replace it. */
  protected glueClient(config: AwsClientConfig): Promise<GlueClient> {
    return openGlueClient(config)
  }

  async run(): Promise<DestroyResult & { athena?: CatalogResult }> {
    const { flags } = await this.parse(Destroy)
    const database = validateDatabaseName(flags.database)
    const result = await this.destroyDeployment(flags)
    if (!flags.athena) return result
    const glue = await this.glueClient({
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.profile ? { profile: flags.profile } : {}),
    })
    try {
      const { removeCatalog } = await import('../athena/index.js')
      const athena = await removeCatalog(glue, { database, dryRun: flags['dry-run'] })
      if (!this.jsonEnabled()) for (const line of catalogLines(athena, true)) this.log(line)
      return { ...result, athena }
    } finally {
      glue.destroy()
    }
  }

  private async destroyDeployment(
    flags: Interfaces.InferredFlags<typeof Destroy.flags>,
  ): Promise<DestroyResult> {
    const dryRun = flags['dry-run']
    if (!dryRun && !flags.yes && !this.interactive()) {
      throw new UsageError('destroy needs confirmation, and there is no terminal to ask on', {
        hint: `Rerun with --yes to remove the deployment "${flags.name}" (or --dry-run to see what it holds).`,
      })
    }
    // The deployment engine and the AWS SDK load here, not when the CLI starts.
    const { createAwsClients, destroy, destroyClients } = await import('../deploy/index.js')
    const clients = (this.awsClientFactory ?? createAwsClients)({
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.profile ? { profile: flags.profile } : {}),
    })
    const human = !this.jsonEnabled()
    const show = (result: DestroyResult, asPlan: boolean) => {
      if (!human) return
      for (const change of result.changes)
        if (change.action !== 'unchanged') this.log(changeLine(change, asPlan))
    }
    try {
      const adopt = flags.adopt
      const tokenStore = this.tokenStore(flags['token-store'])
      const plan = await destroy(flags.name, { clients, tokenStore }, { dryRun: true, adopt })
      const toDelete = plan.changes.some((c) => c.action === 'delete')
      if (dryRun || !toDelete) {
        show(plan, true)
        if (human) for (const line of destroySummary({ ...plan, dryRun })) this.log(line)
        return { ...plan, dryRun }
      }
      if (!flags.yes) {
        show(plan, true)
        const ok = await this.confirm(
          `Remove the garmin-s3 deployment "${flags.name}" from account ${plan.accountId} (${plan.region})? [y/N]`,
        )
        if (!ok) throw new UsageError('Cancelled: nothing was removed')
      }
      const result = await destroy(
        flags.name,
        {
          clients,
          tokenStore,
          ...(human ? { onChange: (c) => show({ ...plan, changes: [c] }, false) } : {}),
        },
        { adopt },
      )
      if (human) for (const line of destroySummary(result)) this.log(line)
      return result
    } finally {
      destroyClients(clients)
    }
  }
}
