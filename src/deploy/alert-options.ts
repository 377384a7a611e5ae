/**
 * The alert flags of `deploy` (`--alert-email`, `--alert-topic-arn`, `--alert-no-data-days`) and their
 * checks, apart from the AWS resources in alerts.ts: the command and the deployment options import
 * these when the CLI starts, and alerts.ts loads the CloudWatch and SNS clients (docs/performance.md
 * "Start-up").
 */
import { UsageError } from '../errors.js'

export interface AlertOptions {
  /** `--alert-email` (repeatable): subscribed to the topic `<name>-alerts` that deploy makes. */
  emails: string[]
  /** `--alert-topic-arn`: the user's own topic instead; deploy and destroy never change or delete it. */
  topicArn?: string
  /** `--alert-no-data-days`: an alarm when no new activity is stored for this many days. */
  noDataDays?: number
}

/** CloudWatch evaluates an alarm over at most 7 days (Period x EvaluationPeriods <= 604,800 s). */
export const MAX_NO_DATA_DAYS = 7

const EMAIL = /^[^\s@,]+@[^\s@,]+\.[^\s@,]+$/
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/

/** Checks the alert flags before any AWS call (exit 2). */
export function validateAlerts(alerts: AlertOptions): AlertOptions {
  for (const email of alerts.emails) {
    if (!EMAIL.test(email)) {
      throw new UsageError(`--alert-email "${email}" is not an email address`, {
        hint: 'Give one address per flag: --alert-email you@example.com --alert-email other@example.com',
      })
    }
  }
  if (alerts.topicArn !== undefined) {
    if (!TOPIC_ARN.test(alerts.topicArn)) {
      throw new UsageError(`--alert-topic-arn "${alerts.topicArn}" is not the ARN of a standard SNS topic`, {
        hint: 'e.g. arn:aws:sns:us-east-1:123456789012:my-alerts (FIFO topics cannot take Lambda failure records or alarms).',
      })
    }
    if (alerts.emails.length > 0) {
      throw new UsageError('--alert-email and --alert-topic-arn cannot be combined', {
        hint: 'With your own topic, subscribe the addresses to it yourself; or drop --alert-topic-arn and deploy makes a topic for the addresses.',
      })
    }
  }
  const enabled = alerts.emails.length > 0 || alerts.topicArn !== undefined
  if (alerts.noDataDays !== undefined) {
    const days = alerts.noDataDays
    if (!Number.isInteger(days) || days < 1 || days > MAX_NO_DATA_DAYS) {
      throw new UsageError(
        `--alert-no-data-days must be a whole number from 1 to ${MAX_NO_DATA_DAYS} (got ${days})`,
        { hint: `CloudWatch alarms look back at most ${MAX_NO_DATA_DAYS} days.` },
      )
    }
    if (!enabled) {
      throw new UsageError('--alert-no-data-days needs somewhere to send the alarm', {
        hint: 'Add --alert-email you@example.com (or --alert-topic-arn ARN).',
      })
    }
  }
  const emails = [...new Map(alerts.emails.map((e) => [e.toLowerCase(), e])).values()]
  return { ...alerts, emails }
}
