/**
 * CloudWatch Embedded Metric Format (EMF): a `_aws` member in a JSON log line makes CloudWatch Logs
 * extract metrics from it, with no PutMetricData call and no IAM permission. Hand-written (about 40
 * lines) rather than @aws-lambda-powertools/metrics: see docs/dependencies.md for the figures.
 * Spec: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 */

/** The namespace and the dimension the deployment's alarms (src/deploy/alerts.ts) watch. */
export const METRIC_NAMESPACE = 'garmin-s3'
export const DEPLOYMENT_DIMENSION = 'Deployment'
const DATASET_DIMENSION = 'Dataset'

type Unit = 'Count' | 'Milliseconds' | 'None'

/** Per run. Field names are those of the run's log line, so one line is both the log and the metrics. */
const RUN_METRICS = {
  runs: 'Count',
  /** 1 when the run did not fail (exit 0, or 5: stopped early, the next run resumes). */
  successes: 'Count',
  /** 1 when the run ended with exit code 3: Garmin sign-in needed. */
  signInNeeded: 'Count',
  exitCode: 'None',
  /** Activities written by the run. */
  created: 'Count',
  failed: 'Count',
  durationMs: 'Milliseconds',
} as const satisfies Record<string, Unit>

export type RunMetricValues = Record<keyof typeof RUN_METRICS, number>
/** A metric every run emits, by name: what an alarm may watch. */
export type RunMetricName = keyof typeof RUN_METRICS

/** Per dataset, on a line of its own (a log line carries one value per dimension). */
const DATASET_METRICS = { created: 'Count', failed: 'Count' } as const satisfies Record<string, Unit>

function directive(timestamp: number, dimensions: string[], metrics: Record<string, Unit>) {
  return {
    Timestamp: Math.trunc(timestamp),
    CloudWatchMetrics: [
      {
        Namespace: METRIC_NAMESPACE,
        Dimensions: [dimensions],
        Metrics: Object.entries(metrics).map(([Name, Unit]) => ({ Name, Unit })),
      },
    ],
  }
}

/** The members to merge into the run's log line. */
export function runMetricFields(
  deployment: string,
  timestamp: number,
  values: RunMetricValues,
): Record<string, unknown> {
  return {
    _aws: directive(timestamp, [DEPLOYMENT_DIMENSION], RUN_METRICS),
    [DEPLOYMENT_DIMENSION]: deployment,
    ...values,
  }
}

/** One EMF line per dataset. */
export function datasetMetricLine(
  deployment: string,
  timestamp: number,
  dataset: string,
  counts: { created: number; failed: number },
): Record<string, unknown> {
  return {
    _aws: directive(timestamp, [DEPLOYMENT_DIMENSION, DATASET_DIMENSION], DATASET_METRICS),
    [DEPLOYMENT_DIMENSION]: deployment,
    [DATASET_DIMENSION]: dataset,
    created: counts.created,
    failed: counts.failed,
  }
}

/** The deployment a run belongs to: the function's name (deploy names the function after --name). */
export function deploymentName(env: NodeJS.ProcessEnv): string {
  return env.AWS_LAMBDA_FUNCTION_NAME?.trim() || 'garmin-s3'
}
