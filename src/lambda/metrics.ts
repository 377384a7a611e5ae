/**
 * The function's metrics, as a contract: the namespace, the dimensions and the metric names and
 * units that the handler emits (src/lambda/emf.ts, through @aws-lambda-powertools/metrics) and that
 * the deployment's alarms watch (src/deploy/alerts.ts). Pure data, so deploy can import it without
 * the handler or the library. CloudWatch Embedded Metric Format: a `_aws` member in a JSON log line
 * makes CloudWatch Logs extract metrics from it, with no PutMetricData call and no IAM permission.
 */

export const METRIC_NAMESPACE = 'garmin-s3'
/**
 * Powertools always adds a `service` dimension; it is part of every metric's identity, so the alarms
 * name it too.
 */
export const SERVICE_DIMENSION = 'service'
export const SERVICE_NAME = 'garmin-s3'
const DEPLOYMENT_DIMENSION = 'Deployment'
export const DATASET_DIMENSION = 'Dataset'

export type Unit = 'Count' | 'Milliseconds' | 'None'

/** Per run. Field names are those of the run's log line, so one line is both the log and the metrics. */
export const RUN_METRICS = {
  runs: 'Count',
  /** 1 when the run did not fail (exit 0, or 5: stopped early, the next run resumes). */
  successes: 'Count',
  /** 1 when the run ended with exit code 3: Garmin sign-in needed. */
  signInNeeded: 'Count',
  exitCode: 'None',
  /** Activities written by the run. */
  created: 'Count',
  /** Items the run could not store: activities, dataset items, and one per dataset that failed as a whole (`failedItems`). */
  failed: 'Count',
  /** Runs in a row, this one included, that left items they could not store: activities, dataset items or a whole dataset (0: none failed). */
  failedRunsInARow: 'Count',
  durationMs: 'Milliseconds',
} as const satisfies Record<string, Unit>

export type RunMetricValues = Record<keyof typeof RUN_METRICS, number>
/** A metric every run emits, by name: what an alarm may watch. */
export type RunMetricName = keyof typeof RUN_METRICS

/** Per dataset, on a line of its own (a log line carries one value per dimension). */
export const DATASET_METRICS = { created: 'Count', failed: 'Count' } as const satisfies Record<string, Unit>

/** The dimensions of every run metric of a deployment: CloudWatch matches the whole set. */
export function runDimensions(deployment: string): Record<string, string> {
  return { [SERVICE_DIMENSION]: SERVICE_NAME, [DEPLOYMENT_DIMENSION]: deployment }
}

/** The deployment a run belongs to: the function's name (deploy names the function after --name). */
export function deploymentName(env: NodeJS.ProcessEnv): string {
  return env.AWS_LAMBDA_FUNCTION_NAME?.trim() || 'garmin-s3'
}
