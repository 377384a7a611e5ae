/**
 * Error translation for both stores, in one place: backend errors become StoreErrors that say what
 * went wrong in the user's terms and give a next step. Errors that are not backend errors (bugs)
 * are returned unchanged.
 */
import {
  type AwsErrorShape,
  awsErrorName,
  awsExitCode,
  awsStatus,
  bucketRegionHeader,
  isNoCredentials,
  isNoRegion,
  NO_REGION_HINT,
  noCredentialsHint,
} from '../aws/errors.js'
import { StoreError } from '../errors.js'

/**
 * The backend is there but failed for now (throttling, 5xx after the SDK's retries, network):
 * the same request may succeed on the next run. Every other StoreError means retrying will not help.
 */
export class StoreUnavailableError extends StoreError {
  readonly retryable = true
}

export interface S3ErrorContext {
  operation: string
  bucket: string
  key?: string | undefined
  /** The region the client used, when known. */
  region?: string | undefined
  endpoint?: string | undefined
  profile?: string | undefined
}

type S3LikeError = AwsErrorShape & { Region?: string; Endpoint?: string }

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
])

function isObject(value: unknown): value is S3LikeError {
  return typeof value === 'object' && value !== null
}

/** The region S3 says the bucket lives in, from the redirect header or the error body. */
function regionHint(error: S3LikeError): string | undefined {
  const header = bucketRegionHeader(error)
  if (header) return header
  if (error.Region) return error.Region
  const fromEndpoint = error.Endpoint?.match(/s3[.-]([a-z0-9-]+)\.amazonaws\.com/)?.[1]
  if (fromEndpoint && fromEndpoint !== 'external-1') return fromEndpoint
  const fromMessage = error.message?.match(/expecting '([a-z0-9-]+)'/)?.[1]
  return fromMessage
}

function where(ctx: S3ErrorContext): string {
  return ctx.key === undefined ? `s3://${ctx.bucket}` : `s3://${ctx.bucket}/${ctx.key}`
}

function credentialSource(ctx: S3ErrorContext): string {
  return ctx.profile
    ? `profile "${ctx.profile}"`
    : 'the default credential chain (AWS_PROFILE, env, SSO, role)'
}

/**
 * Turns an AWS SDK error (or a credential / network failure under it) into a StoreError.
 * Anything that is not recognisably from the S3 request path is returned unchanged.
 */
export function translateS3Error(error: unknown, ctx: S3ErrorContext): unknown {
  if (!isObject(error) || error instanceof StoreError) return error
  const name = awsErrorName(error) ?? ''
  const status = awsStatus(error)
  const message = error.message ?? ''
  const at = where(ctx)
  const cause = { cause: error }

  if (isNoCredentials(error)) {
    return new StoreError(`no AWS credentials found${ctx.profile ? ` for profile "${ctx.profile}"` : ''}`, {
      ...cause,
      hint: noCredentialsHint(ctx.profile),
    })
  }
  if (isNoRegion(error)) {
    return new StoreError('no AWS region is configured for the bucket', {
      ...cause,
      exitCode: awsExitCode(error),
      hint: NO_REGION_HINT,
    })
  }
  if (name === 'NoSuchBucket') {
    return new StoreError(`bucket ${ctx.bucket} does not exist${ctx.endpoint ? ` at ${ctx.endpoint}` : ''}`, {
      ...cause,
      hint: `Create it first (aws s3 mb s3://${ctx.bucket}${ctx.region ? ` --region ${ctx.region}` : ''}) or check the name; garmin-s3 never creates buckets.`,
    })
  }
  // A HEAD in the wrong region gets a bare 301 or 400; only the x-amz-bucket-region header tells.
  const bucketRegion = bucketRegionHeader(error)
  if (
    name === 'PermanentRedirect' ||
    name === 'AuthorizationHeaderMalformed' ||
    name === 'IllegalLocationConstraintException' ||
    status === 301 ||
    (status === 400 && bucketRegion !== undefined && bucketRegion !== ctx.region)
  ) {
    const right = regionHint(error)
    const wrong = ctx.region ? `, not ${ctx.region}` : ''
    return new StoreError(
      right
        ? `bucket ${ctx.bucket} is in region ${right}${wrong}`
        : `bucket ${ctx.bucket} is in another region${wrong}`,
      {
        ...cause,
        hint: right
          ? `Pass --region ${right} (or set AWS_REGION=${right}).`
          : `Pass --region with the bucket's region (aws s3api get-bucket-location --bucket ${ctx.bucket}).`,
      },
    )
  }
  if (name === 'InvalidAccessKeyId' || name === 'SignatureDoesNotMatch') {
    return new StoreError(`S3 rejected the credentials from ${credentialSource(ctx)} (${name})`, {
      ...cause,
      hint: 'Check the access key and secret (aws configure list), or choose another profile with --profile / AWS_PROFILE.',
    })
  }
  if (name === 'ExpiredToken' || name === 'ExpiredTokenException' || name === 'TokenRefreshRequired') {
    return new StoreError(`the AWS session from ${credentialSource(ctx)} has expired`, {
      ...cause,
      hint: `Refresh it (aws sso login${ctx.profile ? ` --profile ${ctx.profile}` : ''}) and run again.`,
    })
  }
  if (name === 'AccessDenied' || name === 'AllAccessDisabled' || name === 'Forbidden' || status === 403) {
    return new StoreError(`access denied: ${ctx.operation} on ${at}`, {
      ...cause,
      hint: `The identity from ${credentialSource(ctx)} needs s3:ListBucket on the bucket and s3:GetObject + s3:PutObject on its objects; check the IAM policy and bucket policy, or pick another profile (--profile / AWS_PROFILE).`,
    })
  }
  if (name === 'InvalidBucketName') {
    return new StoreError(`S3 refused the bucket name ${JSON.stringify(ctx.bucket)}`, {
      ...cause,
      hint: 'Bucket names are 3-63 lowercase letters, digits, dots and hyphens.',
    })
  }
  const code = error.code ?? ''
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return new StoreUnavailableError(
      `cannot reach S3${ctx.endpoint ? ` at ${ctx.endpoint}` : ''} (${code || name})`,
      {
        ...cause,
        hint: ctx.endpoint
          ? 'Check that --endpoint / AWS_ENDPOINT_URL is right and the server is running.'
          : 'Check the network connection and try again.',
      },
    )
  }
  if (
    (status !== undefined && status >= 500) ||
    name === 'SlowDown' ||
    name === 'ServiceUnavailable' ||
    name === 'InternalError' ||
    name === 'ThrottlingException'
  ) {
    return new StoreUnavailableError(
      `S3 is unavailable: ${ctx.operation} on ${at} failed with ${name || status}`,
      {
        ...cause,
        hint: 'This is usually temporary; run again later (what was written so far is kept).',
      },
    )
  }
  if (error.$fault !== undefined || status !== undefined) {
    return new StoreError(`S3 ${ctx.operation} on ${at} failed: ${name}${message ? `: ${message}` : ''}`, {
      ...cause,
      hint: 'Check the bucket settings; run again with DEBUG=garmin-s3 for details.',
    })
  }
  return error
}

/** Turns a file-system error on a DirStore into a StoreError naming the folder and a next step. */
export function translateFsError(
  error: unknown,
  ctx: { operation: string; path: string; root: string },
): unknown {
  if (!isObject(error) || error instanceof StoreError) return error
  const code = error.code
  if (typeof code !== 'string') return error
  const cause = { cause: error }
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return new StoreError(`permission denied: cannot ${ctx.operation} ${ctx.path}`, {
        ...cause,
        hint: `Fix the folder's permissions (ls -ld ${ctx.root}) or choose another folder with --out.`,
      })
    case 'EROFS':
      return new StoreError(`the folder ${ctx.root} is on a read-only file system`, {
        ...cause,
        hint: 'Choose a writable folder with --out.',
      })
    case 'ENOSPC':
    case 'EDQUOT':
      return new StoreError(`no space left to ${ctx.operation} ${ctx.path}`, {
        ...cause,
        hint: 'Free some disk space or choose another folder with --out; nothing partial was written.',
      })
    case 'ENOTDIR':
    case 'EEXIST':
      return new StoreError(`cannot ${ctx.operation} ${ctx.path}: a file is in the way of a folder`, {
        ...cause,
        hint: `Check that ${ctx.root} and the folders under it are folders, or choose another folder with --out.`,
      })
    case 'ENAMETOOLONG':
      return new StoreError(`the path ${ctx.path} is too long for this file system`, {
        ...cause,
        hint: 'Choose a shorter --out folder or --prefix.',
      })
    default:
      return new StoreError(`cannot ${ctx.operation} ${ctx.path} (${code})`, {
        ...cause,
        hint: `Check the folder ${ctx.root}, or choose another one with --out.`,
      })
  }
}
