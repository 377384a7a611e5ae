/**
 * The flags that choose where the data is (`--bucket` / `--out`, `--prefix`, and the S3 connection
 * flags), defined once so that every command that reads or writes the data spells them the same.
 */
import { Flags } from '@oclif/core'
import { DEFAULT_OUT_DIR, type TargetOptions } from '../store/target.js'

export const DEFAULT_PREFIX = 'raw-data/garmin-json/'

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
