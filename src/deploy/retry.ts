/**
 * Waiting on AWS's eventual consistency: a role just created is not assumable for some seconds, and
 * Lambda refuses a change while the previous one is being applied. Sleeps go through the injected
 * clock; function state is awaited with the SDK waiters.
 */
import {
  type LambdaClient,
  waitUntilFunctionActiveV2,
  waitUntilFunctionUpdatedV2,
} from '@aws-sdk/client-lambda'
import { awsErrorIs, awsShape } from '../aws/errors.js'
import type { Clock } from '../clock.js'
import { GarminS3Error } from '../errors.js'

/** A role created seconds ago is not yet visible to Lambda or Scheduler. */
function isRolePropagationError(error: unknown): boolean {
  return (
    awsErrorIs(error, 'InvalidParameterValueException', 'ValidationException') &&
    /assume|role/i.test(awsShape(error).message ?? '')
  )
}

/** Lambda refuses a second change while one is still being applied. */
function isUpdateInProgress(error: unknown): boolean {
  // The same exception also means "already exists" (CreateFunction, AddPermission): not worth a wait.
  return (
    awsErrorIs(error, 'ResourceConflictException') && !/already exist/i.test(awsShape(error).message ?? '')
  )
}

export interface FunctionWaiters {
  /** Resolves once a new function has left `Pending`. */
  active(functionName: string): Promise<void>
  /** Resolves once the last code or configuration update has finished. */
  updated(functionName: string): Promise<void>
}

const MAX_WAIT_SECONDS = 300

export function sdkWaiters(lambda: LambdaClient): FunctionWaiters {
  const waitFor =
    (what: string, waiter: typeof waitUntilFunctionActiveV2) =>
    async (name: string): Promise<void> => {
      const result = await waiter({ client: lambda, maxWaitTime: MAX_WAIT_SECONDS }, { FunctionName: name })
      if (result.state !== 'SUCCESS') {
        throw new GarminS3Error(`Lambda function ${name} did not become ${what} (${result.state})`, {
          hint: 'Look at the function in the Lambda console (State, LastUpdateStatusReason), then rerun deploy.',
        })
      }
    }
  return {
    active: waitFor('active', waitUntilFunctionActiveV2),
    updated: waitFor('updated', waitUntilFunctionUpdatedV2),
  }
}

/** IAM usually propagates within 10 s; these sum to about 90 s. */
const PROPAGATION_DELAYS_MS = [2000, 4000, 6000, 8000, 10_000, 10_000, 15_000, 15_000, 20_000]
const MAX_CONFLICT_WAITS = 5

export interface RetryDeps {
  clock: Clock
  waiters: FunctionWaiters
  functionName: string
}

/**
 * Runs `call`, retrying while the new role is not yet assumable (sleeping between tries) and while
 * the function is busy with another update (waiting for it with the SDK waiter).
 */
export async function withAwsRetries<T>(call: () => Promise<T>, deps: RetryDeps): Promise<T> {
  let propagationTries = 0
  let conflictWaits = 0
  for (;;) {
    try {
      return await call()
    } catch (error) {
      if (isRolePropagationError(error) && propagationTries < PROPAGATION_DELAYS_MS.length) {
        await deps.clock.sleep(PROPAGATION_DELAYS_MS[propagationTries++] ?? 0)
        continue
      }
      if (isUpdateInProgress(error) && conflictWaits < MAX_CONFLICT_WAITS) {
        conflictWaits++
        await deps.waiters.updated(deps.functionName)
        continue
      }
      throw error
    }
  }
}
