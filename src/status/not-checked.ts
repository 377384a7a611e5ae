import type { DeploymentSummary } from './types.js'

/** A deployment that was not looked at, and why (kept apart from deployment.ts, which loads the AWS SDK). */
export function notChecked(name: string, reason: string): DeploymentSummary {
  return {
    name,
    checked: false,
    deployed: null,
    reason,
    function: null,
    schedule: null,
    tokenParameter: null,
    alerts: null,
  }
}
