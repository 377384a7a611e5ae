/**
 * The function's metrics as Embedded Metric Format members, built by @aws-lambda-powertools/metrics
 * (validation of names, units, counts and timestamps; the EMF document) from the contract in
 * metrics.ts. The handler merges them into its one log line and prints that line itself, so the line
 * goes through its token redaction and its injected writer; Powertools' own publishing (straight to
 * stdout) is not used. Figures for the choice: docs/dependencies.md.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics'
import {
  DATASET_DIMENSION,
  DATASET_METRICS,
  METRIC_NAMESPACE,
  RUN_METRICS,
  type RunMetricValues,
  runDimensions,
  SERVICE_DIMENSION,
  SERVICE_NAME,
  type Unit,
} from './metrics.js'

const UNITS: Record<Unit, (typeof MetricUnit)[keyof typeof MetricUnit]> = {
  Count: MetricUnit.Count,
  Milliseconds: MetricUnit.Milliseconds,
  None: MetricUnit.NoUnit,
}

/** Powertools' warnings (e.g. a timestamp CloudWatch would skip) are not log lines of the run. */
const quiet = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} }

function emf(
  dimensions: Record<string, string>,
  timestamp: number,
  metrics: Record<string, Unit>,
  values: Record<string, number>,
): Record<string, unknown> {
  const { [SERVICE_DIMENSION]: _service, ...others } = dimensions
  const m = new Metrics({
    namespace: METRIC_NAMESPACE,
    serviceName: SERVICE_NAME,
    defaultDimensions: others,
    logger: quiet,
  })
  m.setTimestamp(Math.trunc(timestamp))
  for (const [name, unit] of Object.entries(metrics)) m.addMetric(name, UNITS[unit], values[name] ?? 0)
  return m.serializeMetrics() as unknown as Record<string, unknown>
}

/** The members to merge into the run's log line. */
export function runMetricFields(
  deployment: string,
  timestamp: number,
  values: RunMetricValues,
): Record<string, unknown> {
  return emf(runDimensions(deployment), timestamp, RUN_METRICS, values)
}

/** One EMF line per dataset. */
export function datasetMetricLine(
  deployment: string,
  timestamp: number,
  dataset: string,
  counts: { created: number; failed: number },
): Record<string, unknown> {
  return emf(
    { ...runDimensions(deployment), [DATASET_DIMENSION]: dataset },
    timestamp,
    DATASET_METRICS,
    counts,
  )
}
