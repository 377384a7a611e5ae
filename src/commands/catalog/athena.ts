import type { GlueClient } from '@aws-sdk/client-glue'
import * as Flags from '@oclif/core/flags'
import type { CatalogResult } from '../../athena/index.js'
import { DEFAULT_DATABASE, validateDatabaseName } from '../../athena/options.js'
import type { AwsClientConfig } from '../../aws/clients.js'
import { BaseCommand } from '../../cli/base.js'
import { catalogLines, openGlueClient } from '../../cli/catalog.js'
import { awsProfileFlag, awsRegionFlag, dryRunFlag } from '../../cli/flags.js'
import { DEFAULT_CURATED_PREFIX, validateCuratedPrefix } from '../../curate/options.js'
import { DEFAULT_PREFIX, validateBucketName, validatePrefix } from '../../store/target.js'

export default class CatalogAthena extends BaseCommand {
  static override summary = 'Create or update the Glue/Athena catalog of the curated tables.'

  static override description =
    `Makes a Glue database (--database, default ${DEFAULT_DATABASE}) with one table per curated table (Parquet, partitioned by year with partition projection: no crawler, no MSCK REPAIR) and one table over the raw activity JSON (activities_raw). Reconciled like deploy: a second run changes nothing. Run garmin-s3 curate first; the IAM it needs is in docs/iam.md.

--remove deletes the tables garmin-s3 made (and the database, if it made it and nothing else is in it); never an S3 object.

Exit codes: 0 done, 1 failure (AWS refused), 2 bad usage (or a same-named table garmin-s3 did not make).`

  static override examples = [
    '<%= config.bin %> catalog athena --bucket my-garmin-lake',
    '<%= config.bin %> catalog athena --bucket my-garmin-lake --database garmin --region eu-west-1 --dry-run',
    '<%= config.bin %> catalog athena --bucket my-garmin-lake --remove',
  ]

  static override flags = {
    bucket: Flags.string({ description: 'The S3 bucket holding the lake.', required: true }),
    prefix: Flags.string({ description: 'Key prefix of the raw activity objects.', default: DEFAULT_PREFIX }),
    'curated-prefix': Flags.string({
      description: 'Key prefix of the curated tables.',
      default: DEFAULT_CURATED_PREFIX,
    }),
    database: Flags.string({ description: 'Glue database name.', default: DEFAULT_DATABASE }),
    region: awsRegionFlag(),
    profile: awsProfileFlag(),
    'dry-run': dryRunFlag('Print what would change and change nothing.'),
    remove: Flags.boolean({ description: 'Delete the tables (and database) garmin-s3 made; never data.' }),
  }

  /** The Glue client; tests replace it. */
  protected glueClient(config: AwsClientConfig): Promise<GlueClient> {
    return openGlueClient(config)
  }

  async run(): Promise<CatalogResult> {
    const { flags } = await this.parse(CatalogAthena)
    const bucket = validateBucketName(flags.bucket)
    const rawPrefix = validatePrefix(flags.prefix)
    const curatedPrefix = validateCuratedPrefix(validatePrefix(flags['curated-prefix']), rawPrefix)
    const database = validateDatabaseName(flags.database)
    const glue = await this.glueClient({
      ...(flags.region ? { region: flags.region } : {}),
      ...(flags.profile ? { profile: flags.profile } : {}),
    })
    try {
      const dryRun = flags['dry-run']
      const { reconcileCatalog, removeCatalog } = await import('../../athena/index.js')
      const result = flags.remove
        ? await removeCatalog(glue, { database, dryRun })
        : await reconcileCatalog(glue, { bucket, rawPrefix, curatedPrefix, database, dryRun })
      if (!this.jsonEnabled()) for (const line of catalogLines(result, flags.remove)) this.log(line)
      return result
    } finally {
      glue.destroy()
    }
  }
}
