/**
 * Every flag more than one command takes, defined once so that each command spells, checks and
 * defaults it the same: where the data is (`--bucket` / `--out`, `--prefix`, the S3 connection
 * flags), where the Garmin tokens are (`--token-store`, `--domain`) and which deployment
 * (`--name`, `--region`, `--profile`, `--dry-run`, `--adopt`, `--yes`). A command passes only the
 * words that say what it does with the flag.
 */
import * as Flags from '@oclif/core/flags'
import { DEFAULT_NAME } from '../deploy/options.js'
import { GARMIN_DOMAINS } from '../garmin/endpoints.js'
import { DEFAULT_OUT_DIR, DEFAULT_PREFIX, type TargetOptions } from '../store/target.js'

/** `verb` completes "S3 bucket to ..." and "Local folder to ..." (e.g. "copy into", "inspect"). */
export function targetFlags(verb: string) {
  return {
    bucket: Flags.string({ description: `S3 bucket to ${verb} (it must exist).`, exclusive: ['out'] }),
    out: Flags.string({
      description: `Local folder to ${verb} (default when no --bucket: ${DEFAULT_OUT_DIR}).`,
    }),
    prefix: Flags.string({ description: 'Key prefix for the activity objects.', default: DEFAULT_PREFIX }),
    profile: Flags.string({
      description: 'AWS profile (default: AWS_PROFILE, else the default credential chain).',
    }),
    region: Flags.string({ description: "The bucket's AWS region (default: AWS_REGION)." }),
    endpoint: Flags.string({ description: 'S3-compatible endpoint URL (MinIO, SeaweedFS, R2, B2...).' }),
    'path-style': Flags.boolean({ description: 'Path-style S3 URLs (most S3-compatible servers need it).' }),
  }
}

/** The parsed target flags as `openStore` takes them. */
export function targetOptions(flags: {
  bucket?: string | undefined
  out?: string | undefined
  region?: string | undefined
  profile?: string | undefined
  endpoint?: string | undefined
  'path-style'?: boolean | undefined
}): TargetOptions {
  return {
    bucket: flags.bucket,
    out: flags.out,
    region: flags.region,
    profile: flags.profile,
    endpoint: flags.endpoint,
    pathStyle: flags['path-style'],
  }
}

/**
 * `--bucket` (required) and `--prefix` for the commands that set up a scheduled sync (deploy, init
 * github-actions). `writer` completes "S3 bucket ...", e.g. "the function writes to".
 */
export function scheduledTargetFlags(writer: string) {
  return {
    bucket: Flags.string({
      description: `S3 bucket ${writer} (never created).`,
      env: 'GARMIN_S3_BUCKET',
      required: true,
    }),
    prefix: Flags.string({
      description: 'Key prefix for activities.',
      env: 'GARMIN_S3_PREFIX',
      default: DEFAULT_PREFIX,
    }),
  }
}

/**
 * `--token-store`: `what` starts the description, e.g. "Where to keep the tokens". The store itself
 * is opened by `openTokenStore` (src/garmin/tokens.ts), which applies the defaults named here.
 */
export function tokenStoreFlag(what = 'Where the Garmin tokens are') {
  return Flags.string({
    description: `${what}: a file path or ssm:/<parameter> (default: GARMIN_S3_TOKEN_STORE, else ~/.config/garmin-s3/tokens.json).`,
  })
}

/** `--domain`; `fallback` is what applies without it, e.g. "GARMIN_DOMAIN, else garmin.com". */
export function domainFlag(fallback = 'GARMIN_DOMAIN, else garmin.com') {
  return Flags.string({
    description: `Garmin domain (default: ${fallback}).`,
    options: [...GARMIN_DOMAINS],
  })
}

/** `--name` of the deployment a command makes, changes or removes; default `DEFAULT_NAME`. */
export function deploymentNameFlag(description: string) {
  return Flags.string({ description, default: DEFAULT_NAME })
}

/**
 * `--name` of a deployment to check, without a default: the command tells "not given" (check it only
 * when the target is a bucket) from "given", and applies `DEFAULT_NAME` itself.
 */
export function checkedDeploymentNameFlag(description: string) {
  return Flags.string({ description })
}

/** `--region` of the AWS resources. */
export function awsRegionFlag(description = 'AWS region (default: AWS_REGION or the profile).') {
  return Flags.string({ description })
}

/** `--bucket-region`, for a bucket in another region than the other resources. */
export function bucketRegionFlag(description: string) {
  return Flags.string({ description })
}

/** `--profile` for the AWS credentials. */
export function awsProfileFlag(description = 'AWS profile (default: AWS_PROFILE).') {
  return Flags.string({ description })
}

/** `--dry-run`: `description` says what is shown instead of done. */
export function dryRunFlag(description: string) {
  return Flags.boolean({ description })
}

/** `--adopt`: take over, or delete, same-named resources garmin-s3 did not make. */
export function adoptFlag(description: string) {
  return Flags.boolean({ description })
}

/** `--yes` / `-y`. */
export function yesFlag(description: string) {
  return Flags.boolean({ char: 'y', description })
}

/** `--force` for login and logout: a file at the token path that holds no garmin-s3 tokens. */
export function forceTokenFileFlag(action: 'overwrite' | 'delete') {
  return Flags.boolean({
    description: `${action === 'overwrite' ? 'Overwrite' : 'Delete'} the file at the token path even if it is not a token file.`,
  })
}

/** `--keep-local` for deploy and init github-actions: do not move the local session into SSM. */
export function keepLocalFlag() {
  return Flags.boolean({
    description:
      'Keep the local sign-in local instead of moving it into the SSM parameter; then sign the deployment in separately with garmin-s3 login --token-store ssm:/<name>/tokens.',
  })
}
