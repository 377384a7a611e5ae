/**
 * AWS SDK errors, sorted once for every module that talks to AWS (the S3 store, the SSM token store,
 * deploy, destroy, init github-actions and status). One rule names an error, one rule picks its exit
 * code: a missing region is bad environment (exit 2, nothing was done); everything else a user must act
 * on (no credentials, access denied) is a failure (exit 1).
 */
import { EXIT, type ExitCode, GarminS3Error, UsageError } from '../errors.js'

export interface AwsErrorShape {
  name?: string
  message?: string
  /** The service's own error code, from the response body (query and XML protocols). */
  Code?: string
  /** Node's network error code (ECONNREFUSED, ...). */
  code?: string
  $fault?: string
  $metadata?: { httpStatusCode?: number }
  $response?: { headers?: Record<string, string | undefined> }
}

export function awsShape(error: unknown): AwsErrorShape {
  return error && typeof error === 'object' ? (error as AwsErrorShape) : {}
}

/**
 * The error's name: the service's wire code when it sent one (`NoSuchEntity`, `NoSuchBucket`), else the
 * SDK's exception name (`ResourceNotFoundException`, `NotFound` for a body-less 404). Undefined for
 * something that is not an error object.
 */
export function awsErrorName(error: unknown): string | undefined {
  const e = awsShape(error)
  return e.Code ?? e.name
}

/** Whether the error carries one of `names`, as its wire code or as its SDK exception name. */
export function awsErrorIs(error: unknown, ...names: string[]): boolean {
  const e = awsShape(error)
  return names.some((n) => n === e.Code || n === e.name)
}

export function awsStatus(error: unknown): number | undefined {
  return awsShape(error).$metadata?.httpStatusCode
}

/** The region S3 names for a bucket in an error's `x-amz-bucket-region` header (a 301, a 400 of a HEAD). */
export function bucketRegionHeader(error: unknown): string | undefined {
  return awsShape(error).$response?.headers?.['x-amz-bucket-region'] || undefined
}

/** The SDK found no credentials in the chain (profile, environment, SSO, instance role). */
export function isNoCredentials(error: unknown): boolean {
  return (
    awsErrorIs(error, 'CredentialsProviderError') ||
    /could not load credentials/i.test(awsShape(error).message ?? '')
  )
}

/** The SDK had no region to send the request to. */
export function isNoRegion(error: unknown): boolean {
  return /region is missing/i.test(awsShape(error).message ?? '')
}

const NOT_FOUND = [
  'NoSuchEntityException',
  'NoSuchEntity',
  'ResourceNotFoundException',
  'ParameterNotFound',
  'NotFoundException',
]

/** The resource asked for does not exist (IAM, Lambda, Scheduler, SSM, EventBridge). */
export function isNotFound(error: unknown): boolean {
  return awsErrorIs(error, ...NOT_FOUND)
}

export function isAccessDenied(error: unknown): boolean {
  const name = awsErrorName(error) ?? ''
  return (
    /AccessDenied|UnauthorizedOperation|NotAuthorized|AuthorizationError/i.test(name) ||
    (awsStatus(error) === 403 && !/Throttl/i.test(name))
  )
}

/** The exit code of an AWS failure: a missing region is bad environment (2), the rest a failure (1). */
export function awsExitCode(error: unknown): ExitCode {
  return isNoRegion(error) ? EXIT.usage : EXIT.failure
}

/** For the callers whose commands all take `--region` for this client (the bucket, a deployment). */
export const NO_REGION_HINT =
  'Pass --region (e.g. --region us-east-1), or set AWS_REGION or a region in your AWS profile.'
/** The ways every command has: the environment and the AWS profile. */
const NO_REGION_FLAG_HINT = 'Set AWS_REGION (e.g. AWS_REGION=us-east-1) or a region in your AWS profile.'

/**
 * The one "no region" error: exit 2, with the ways to give one. `flag`: the command's `--region`
 * reaches this client. Without it (the SSM token store, which every command with --token-store opens,
 * and whose region no --region sets) the hint names only the environment and the profile.
 */
export function noRegionError(cause?: unknown, options: { flag?: boolean } = {}): UsageError {
  return new UsageError('No AWS region configured', {
    hint: options.flag ? NO_REGION_HINT : NO_REGION_FLAG_HINT,
    ...(cause === undefined ? {} : { cause }),
  })
}

/** How to give the SDK credentials, for `profile` or for the default chain. */
export function noCredentialsHint(profile: string | undefined): string {
  return profile
    ? `Check that profile "${profile}" exists in ~/.aws/config or ~/.aws/credentials (aws configure --profile ${profile}), or run "aws sso login --profile ${profile}".`
    : 'Run "aws configure" (or "aws sso login"), set AWS_PROFILE or pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.'
}

/** What the user must do about an error any AWS call can meet, or undefined for the others. */
function commonAwsError(
  error: unknown,
  context: { what: string; profile?: string | undefined },
): GarminS3Error | undefined {
  // deploy, destroy, init github-actions and catalog athena: their --region is this client's.
  if (isNoRegion(error)) return noRegionError(error, { flag: true })
  if (isNoCredentials(error)) {
    const { profile } = context
    return new GarminS3Error(
      `No AWS credentials found${profile ? ` for profile "${profile}"` : ''} while trying to ${context.what}`,
      { hint: noCredentialsHint(profile), cause: error },
    )
  }
  return undefined
}

/** Turns an SDK failure during `what` into the error a user sees; unknown errors keep their text. */
export function explainAwsError(error: unknown, what: string): GarminS3Error {
  if (error instanceof GarminS3Error) return error
  const common = commonAwsError(error, { what })
  if (common) return common
  const name = awsErrorName(error) ?? 'Error'
  const message = awsShape(error).message ?? String(error)
  if (isAccessDenied(error)) {
    return new GarminS3Error(`AWS denied access while trying to ${what}: ${message}`, {
      hint: 'The AWS identity running deploy needs IAM, Lambda, EventBridge Scheduler and SSM permissions (see docs/iam.md); check --profile.',
      cause: error,
    })
  }
  return new GarminS3Error(`AWS error while trying to ${what}: ${name}: ${message}`, { cause: error })
}
