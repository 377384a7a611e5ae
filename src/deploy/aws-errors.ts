/**
 * Sorting AWS SDK errors: "not found" (the resource is absent), "retry after IAM propagates",
 * "the function is busy", and the ones a user must act on (access denied, no credentials, no region),
 * which become GarminS3Errors with a next step.
 */
import { GarminS3Error, UsageError } from '../errors.js'

interface AwsErrorShape {
  name?: string
  message?: string
  Code?: string
  $metadata?: { httpStatusCode?: number }
}

function shape(error: unknown): AwsErrorShape {
  return error && typeof error === 'object' ? (error as AwsErrorShape) : {}
}

export function errorName(error: unknown): string {
  const e = shape(error)
  return e.name ?? e.Code ?? 'Error'
}

const NOT_FOUND = new Set([
  'NoSuchEntityException',
  'NoSuchEntity',
  'ResourceNotFoundException',
  'ParameterNotFound',
  'NotFoundException',
])

export function isNotFound(error: unknown): boolean {
  return NOT_FOUND.has(errorName(error))
}

/** A role created seconds ago is not yet visible to Lambda or Scheduler. */
export function isRolePropagationError(error: unknown): boolean {
  const name = errorName(error)
  const message = shape(error).message ?? ''
  return (
    (name === 'InvalidParameterValueException' || name === 'ValidationException') &&
    /assume|role/i.test(message)
  )
}

/** Lambda refuses a second change while one is still being applied. */
export function isUpdateInProgress(error: unknown): boolean {
  // The same exception also means "already exists" (CreateFunction, AddPermission): not worth a wait.
  return (
    errorName(error) === 'ResourceConflictException' && !/already exist/i.test(shape(error).message ?? '')
  )
}

export function isAccessDenied(error: unknown): boolean {
  const name = errorName(error)
  return (
    /AccessDenied|UnauthorizedOperation|NotAuthorized|AuthorizationError/i.test(name) ||
    (shape(error).$metadata?.httpStatusCode === 403 && !/Throttl/i.test(name))
  )
}

/** Turns an SDK failure during `what` into the error a user sees; unknown errors keep their text. */
export function explainAwsError(error: unknown, what: string): GarminS3Error {
  if (error instanceof GarminS3Error) return error
  const name = errorName(error)
  const message = shape(error).message ?? String(error)
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(message)) {
    return new GarminS3Error(`No AWS credentials found while trying to ${what}`, {
      hint: 'Pass --profile, set AWS_PROFILE, or run `aws configure` / `aws sso login` first.',
      cause: error,
    })
  }
  if (/Region is missing/i.test(message)) {
    return new UsageError('No AWS region configured', {
      hint: 'Pass --region (e.g. --region us-east-1), or set AWS_REGION or a region in your AWS profile.',
      cause: error,
    })
  }
  if (isAccessDenied(error)) {
    return new GarminS3Error(`AWS denied access while trying to ${what}: ${message}`, {
      hint: 'The AWS identity running deploy needs IAM, Lambda, EventBridge Scheduler and SSM permissions (see the README, "The IAM policy it writes"); check --profile.',
      cause: error,
    })
  }
  return new GarminS3Error(`AWS error while trying to ${what}: ${name}: ${message}`, { cause: error })
}
