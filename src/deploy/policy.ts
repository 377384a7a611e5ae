/**
 * The IAM documents a deployment writes, as pure functions, plus a comparison that ignores the
 * cosmetic differences IAM introduces (URL-encoding, a string where we wrote a one-item list, order).
 */
import { siblingPrefix } from '../store/keys.js'
import { isRecord } from '../unknown.js'

interface PolicyStatement {
  Sid?: string
  Effect: 'Allow' | 'Deny'
  Principal?: Record<string, string | string[]>
  Action: string | string[]
  Resource?: string | string[]
  Condition?: Record<string, Record<string, string | string[]>>
}

export interface PolicyDocument {
  Version: '2012-10-17'
  Statement: PolicyStatement[]
}

/** What earlier versions attached for logs; a redeploy detaches it (the inline OwnLogGroup replaces it). */
export const LAMBDA_BASIC_EXECUTION_POLICY = 'service-role/AWSLambdaBasicExecutionRole'

export function managedPolicyArn(partition: string, path: string): string {
  return `arn:${partition}:iam::aws:policy/${path}`
}

export function lambdaTrustPolicy(): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  }
}

/** Scheduler may assume the role only on behalf of this account (confused-deputy guard). */
export function schedulerTrustPolicy(accountId: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': accountId } },
      },
    ],
  }
}

export interface ExecutionPolicyInput {
  partition: string
  bucket: string
  /** 'raw-data/garmin-json/' (or '' for the whole bucket). */
  prefix: string
  /** 'raw-data/_garmin-s3/': state and run manifests, beside the data prefix. */
  controlPrefix: string
  /** The prefixes of the other datasets the function copies (`raw-data/garmin-fit/`, ...). */
  datasetPrefixes?: readonly string[]
  parameterArn: string
  /** The function's own log group (`arn:...:log-group:/aws/lambda/<name>`); absent for the GitHub role. */
  logGroupArn?: string
  /**
   * The alert topic: Lambda sends the failure destination's record as the execution role, so the role
   * needs sns:Publish on exactly that topic (docs/alerts.md). Absent without alerts.
   */
  alertTopicArn?: string
}

/**
 * Least privilege for the function: read and create objects under the data prefix and the control
 * prefix, list only those prefixes, read and rewrite the one token parameter, and write to its own log
 * group (no managed policy with `Resource: *`). No kms statement: the SecureString uses the AWS-managed key
 * `aws/ssm`, whose key policy already lets principals of this account use it through SSM.
 */
export function executionPolicy(input: ExecutionPolicyInput): PolicyDocument {
  const bucketArn = `arn:${input.partition}:s3:::${input.bucket}`
  // Edited activities keep their old versions and deletions their tombstones beside the data prefix
  // (docs/changes.md); a bucket-root deployment covers them already.
  const versions =
    input.prefix === ''
      ? []
      : [siblingPrefix(input.prefix, 'history'), siblingPrefix(input.prefix, 'deleted')]
  const prefixes = [
    ...new Set([input.prefix, ...versions, ...(input.datasetPrefixes ?? []), input.controlPrefix]),
  ]
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'ReadWriteGarminObjects',
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:PutObject'],
        Resource: prefixes.map((p) => `${bucketArn}/${p}*`),
      },
      {
        Sid: 'ListGarminPrefixes',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: bucketArn,
        // IfExists: S3 checks ListBucket without an s3:prefix key when it decides between 404 and 403
        // for a missing object (the first run's state.json); plain StringLike would turn that into 403.
        Condition: { StringLikeIfExists: { 's3:prefix': prefixes.map((p) => `${p}*`) } },
      },
      {
        Sid: 'GarminTokens',
        Effect: 'Allow',
        Action: ['ssm:GetParameter', 'ssm:PutParameter'],
        Resource: input.parameterArn,
      },
      ...(input.logGroupArn
        ? [
            {
              Sid: 'OwnLogGroup',
              Effect: 'Allow' as const,
              Action: ['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'],
              Resource: [input.logGroupArn, `${input.logGroupArn}:*`],
            },
          ]
        : []),
      ...(input.alertTopicArn
        ? [
            {
              Sid: 'FailureDestination',
              Effect: 'Allow' as const,
              Action: 'sns:Publish',
              Resource: input.alertTopicArn,
            },
          ]
        : []),
    ],
  }
}

export function schedulerInvokePolicy(functionArn: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: functionArn }],
  }
}

/** IAM returns documents URL-encoded; accept either form. */
export function parsePolicy(text: string | undefined): unknown {
  if (!text) return undefined
  let decoded = text
  if (!text.trimStart().startsWith('{')) {
    try {
      decoded = decodeURIComponent(text)
    } catch {
      return undefined
    }
  }
  try {
    return JSON.parse(decoded)
  } catch {
    return undefined
  }
}

const asList = (value: unknown): string[] =>
  (Array.isArray(value) ? value : [value]).filter((v): v is string => typeof v === 'string')

/** IAM's wildcards (`*`, `?`) in an action or ARN pattern; actions compare without case. */
function matches(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.')
  return new RegExp(`^${source}$`, ignoreCase ? 'i' : '').test(value)
}

/**
 * Whether a policy document allows `action` on `arn` by an Allow statement's Action and Resource
 * (wildcards included). NotAction, NotResource and conditions are not evaluated: a statement with
 * them counts only through its Action/Resource, so this can say "no" where IAM would allow.
 */
export function allows(document: unknown, action: string, arn: string): boolean {
  const parsed = typeof document === 'string' ? parsePolicy(document) : document
  if (!isRecord(parsed)) return false
  const statements = Array.isArray(parsed.Statement) ? parsed.Statement : [parsed.Statement]
  return statements.some(
    (s) =>
      isRecord(s) &&
      s.Effect === 'Allow' &&
      asList(s.Action).some((a) => matches(a, action, true)) &&
      asList(s.Resource).some((r) => matches(r, arn, false)),
  )
}

/** A canonical form: one-item lists become strings, lists are sorted, keys ordered. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) {
    const items = value.map(canonical)
    if (items.length === 1) return items[0]
    return items.map((i) => JSON.stringify(i)).sort()
  }
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key])
    return out
  }
  return value
}

export function samePolicy(current: unknown, desired: PolicyDocument): boolean {
  const parsed = typeof current === 'string' ? parsePolicy(current) : current
  return JSON.stringify(canonical(parsed)) === JSON.stringify(canonical(desired))
}
