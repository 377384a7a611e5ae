/**
 * `deploy` and `destroy` as library calls: work out the account, build the desired state, let the
 * plan/apply engine reconcile it, optionally invoke the function once. Commands only parse and render.
 */
import { InvokeCommand, type InvokeCommandOutput } from '@aws-sdk/client-lambda'
import { HeadBucketCommand } from '@aws-sdk/client-s3'
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts'
import type { AwsClients } from '../aws/clients.js'
import { awsErrorIs, awsStatus, bucketRegionHeader, explainAwsError, isAccessDenied } from '../aws/errors.js'
import { clientRegion } from '../aws/region.js'
import { type Clock, systemClock } from '../clock.js'
import { EXIT, type ExitCode, GarminS3Error, UsageError } from '../errors.js'
import { SsmTokenStore } from '../garmin/tokens.js'
import type { TokenStore } from '../garmin/types.js'
import { ALARM_KINDS, alarmName, alertsEnabled, alertTopicArn, emailSubscriptions } from './alerts.js'
import { codeSha256, readBundle, zipBundle } from './bundle.js'
import { type DeployOptions, resourceNames, validateDeployOptions, validateName } from './options.js'
import { type Change, reconcile } from './plan.js'
import { type AwsAccount, arns, deploymentResources, type ResourceContext } from './resources.js'
import { type FunctionWaiters, sdkWaiters } from './retry.js'
import { deploymentSession, returningSession, type SessionMove } from './session.js'

export type { AwsClientConfig, AwsClientFactory, AwsClients } from '../aws/clients.js'
export { createAwsClients, destroyClients } from '../aws/clients.js'
export type { AlertOptions } from './alert-options.js'
export { MAX_NO_DATA_DAYS } from './alert-options.js'
export * from './options.js'
export type { Action, Change } from './plan.js'
export type { SessionMove } from './session.js'

export interface EngineDeps {
  clients: AwsClients
  clock?: Clock
  /** Defaults to the SDK's Lambda waiters on `clients.lambda`. */
  waiters?: FunctionWaiters
  /** Progress: called as each resource is done (or decided, on a dry run). */
  onChange?: (change: Change) => void
}

export interface DeployDeps extends EngineDeps {
  /** The local token store: its session moves into the parameter (see session.ts). */
  tokenStore: TokenStore
  /** One Garmin call proving the tokens work before they are seeded; none in library tests. */
  checkTokens?: (store: TokenStore) => Promise<void>
  /** The bundled handler (index.mjs); defaults to the one shipped in dist/lambda. */
  bundle?: Uint8Array
}

/** The test run of `deploy --invoke`: what the handler returned, or why it failed. */
export type InvokeResult =
  | {
      statusCode: number
      /** What the handler returned (the SyncReport), parsed. */
      report: unknown
    }
  | { statusCode: number; error: InvokeFailure }

/** A test run that failed after the deploy itself completed (every resource is in place). */
export interface InvokeFailure {
  /** The function's error type (`errorType` of Lambda's payload), or the AWS error's name. */
  type: string
  message: string
  /** The run's exit code when the function says it (`sync failed (exit 3)`), else 1. */
  exitCode: ExitCode
  /** Where to look and what to do next. */
  hint: string
}

/** Lambda answered the invocation with a function error (`FunctionError`). */
export class InvokeFailedError extends GarminS3Error {
  constructor(
    message: string,
    readonly failure: { errorType: string; errorMessage: string; statusCode: number },
    options: { exitCode: ExitCode; hint: string },
  ) {
    super(message, options)
  }
}

export interface DeployResult {
  name: string
  accountId: string
  region: string
  dryRun: boolean
  functionName: string
  functionArn: string
  tokenParameter: string
  /** Where the local commands' tokens are after this run. */
  session: SessionMove
  trigger:
    | { kind: 'schedule'; name: string; expression: string; timezone: string }
    | { kind: 'rule'; name: string; expression: string; timezone: 'UTC' }
  codeSha256: string
  zipBytes: number
  changes: Change[]
  /** Where failures and alarms go; null without --alert-email / --alert-topic-arn. */
  alerts: DeployAlerts | null
  invoke?: InvokeResult
}

export interface DeployAlerts {
  topicArn: string
  /** False for --alert-topic-arn: the user's topic, which deploy never changes. */
  topicCreatedByDeploy: boolean
  /** The addresses subscribed by deploy. */
  emails: string[]
  /** Those that have not clicked the link in AWS's confirmation email yet (read after the deploy). */
  pendingConfirmation: string[]
  alarms: string[]
  /** The function's asynchronous-invocation failure destination. */
  failureDestination: string
}

export interface DestroyResult {
  name: string
  accountId: string
  region: string
  dryRun: boolean
  changes: Change[]
  /**
   * Set when the local token file pointed to the deployment's parameter: the session was moved back
   * into that file (`returned`), or would be (`would-return`, --dry-run).
   */
  session?: { action: 'returned' | 'would-return'; from: string; to: string }
}

export interface DestroyDeps extends EngineDeps {
  /** The local token store: when it points to the deployment's parameter, it gets the session back. */
  tokenStore?: TokenStore
}

export async function discoverAccount(clients: AwsClients): Promise<AwsAccount> {
  const region = await clientRegion(clients.lambda)
  try {
    const identity = await clients.sts.send(new GetCallerIdentityCommand({}))
    if (!identity.Account || !identity.Arn) throw new Error('GetCallerIdentity returned no account')
    // arn:aws:sts::123456789012:... / arn:aws-cn:... / arn:aws-us-gov:...
    return { accountId: identity.Account, partition: identity.Arn.split(':')[1] ?? 'aws', region }
  } catch (error) {
    throw explainAwsError(error, 'identify the AWS account (sts:GetCallerIdentity)')
  }
}

/**
 * The function writes to the bucket in the region it is told (its own, or --bucket-region): a bucket
 * elsewhere would fail every run with a redirect. Stop first (exit 2), naming the bucket's region.
 */
function wrongRegion(options: DeployOptions, functionRegion: string, actual: string): UsageError {
  const bucket = options.bucket
  if (options.bucketRegion !== undefined) {
    return new UsageError(
      `Bucket ${bucket} is in ${actual}, not in ${options.bucketRegion} (--bucket-region)`,
      {
        hint: `Use --bucket-region ${actual}, or drop it and deploy in the bucket's region: --region ${actual}.`,
      },
    )
  }
  return new UsageError(
    `Bucket ${bucket} is in ${actual}, not in ${functionRegion} where the function would run`,
    {
      hint: `Deploy in the bucket's region: --region ${actual} (no cross-region traffic), or keep --region ${functionRegion} and add --bucket-region ${actual}.`,
    },
  )
}

/**
 * A daily function aimed at a bucket that does not exist, or lives in another region than the one the
 * function is told, would fail every run: stop first (exit 2). An identity that may not look at the
 * bucket (403) is no reason to stop, the function's role may.
 */
async function checkBucket(
  clients: AwsClients,
  options: DeployOptions,
  functionRegion: string,
): Promise<void> {
  const bucket = options.bucket
  const region = options.bucketRegion ?? functionRegion
  let actual: string | undefined
  try {
    actual = (await clients.s3.send(new HeadBucketCommand({ Bucket: bucket }))).BucketRegion
  } catch (error) {
    const redirected = awsStatus(error) === 301 ? bucketRegionHeader(error) : undefined
    if (redirected) throw wrongRegion(options, functionRegion, redirected)
    if (awsErrorIs(error, 'NotFound', 'NoSuchBucket') || awsStatus(error) === 404) {
      throw new UsageError(`Bucket ${bucket} does not exist`, {
        hint: `Create it first (aws s3 mb s3://${bucket} --region ${region}) or check --bucket; garmin-s3 never creates buckets.`,
        cause: error,
      })
    }
    if (isAccessDenied(error)) return
    throw explainAwsError(error, `check that the bucket ${bucket} exists (s3:HeadBucket)`)
  }
  // An S3-compatible service may not say; S3 always does.
  if (actual && actual !== region) throw wrongRegion(options, functionRegion, actual)
}

function context(deps: EngineDeps, account: AwsAccount, name: string): ResourceContext {
  return {
    clients: deps.clients,
    account,
    names: resourceNames(name),
    clock: deps.clock ?? systemClock,
    waiters: deps.waiters ?? sdkWaiters(deps.clients.lambda),
  }
}

/** A given topic must be usable: in the function's region, and not the one deploy makes itself. */
function checkAlertTopic(options: DeployOptions, account: AwsAccount): void {
  const given = options.alerts?.topicArn
  if (!given) return
  if (given === alertTopicArn(account, options.name)) {
    throw new UsageError(
      `--alert-topic-arn ${given} is the topic deploy makes for "${options.name}" itself`,
      {
        hint: 'Use --alert-email ADDR instead: deploy manages that topic and its subscriptions.',
      },
    )
  }
  const region = given.split(':')[3]
  if (region !== account.region) {
    throw new UsageError(`--alert-topic-arn is in ${region}, the function in ${account.region}`, {
      hint: `CloudWatch alarms and Lambda destinations need a topic in ${account.region}: create one there, or use --alert-email.`,
    })
  }
}

async function alertsSummary(
  deps: EngineDeps,
  options: DeployOptions,
  account: AwsAccount,
  changes: Change[],
  dryRun: boolean,
): Promise<DeployAlerts | null> {
  const alerts = options.alerts
  if (!alertsEnabled(alerts)) return null
  const topicArn = alerts.topicArn ?? alertTopicArn(account, options.name)
  const created = alerts.topicArn === undefined
  // Subscribed by this run (AWS has just sent the link), or read back as still unconfirmed.
  const subscriptions = changes.find((c) => c.resource === 'sns-subscriptions')
  const pending = new Set(
    subscriptions?.action === 'create'
      ? alerts.emails
      : (subscriptions?.fields ?? []).flatMap((f) => (f.startsWith('subscribe ') ? [f.slice(10)] : [])),
  )
  if (created && !dryRun) {
    try {
      for (const s of await emailSubscriptions(deps.clients.sns, topicArn))
        if (!s.arn) pending.add(s.endpoint)
    } catch {
      // Unreadable now: what this run subscribed is pending anyway.
    }
  }
  return {
    topicArn,
    topicCreatedByDeploy: created,
    emails: created ? alerts.emails : [],
    pendingConfirmation: [...pending],
    alarms: ALARM_KINDS.filter((kind) => kind !== 'no-new-activity' || alerts.noDataDays !== undefined).map(
      (kind) => alarmName(options.name, kind),
    ),
    failureDestination: topicArn,
  }
}

export async function deploy(
  input: DeployOptions,
  deps: DeployDeps,
  run: { dryRun?: boolean; invoke?: boolean; adopt?: boolean; keepLocal?: boolean } = {},
): Promise<DeployResult> {
  const options = validateDeployOptions(input)
  const names = resourceNames(options.name)
  // Before any AWS call: no tokens, or tokens Garmin refuses, stop the deploy here.
  const session = await deploymentSession({
    local: deps.tokenStore,
    parameter: names.tokenParameter,
    keepLocal: run.keepLocal === true,
    openParameter: () => new SsmTokenStore(names.tokenParameter, deps.clients.ssm),
    ...(deps.checkTokens ? { check: deps.checkTokens } : {}),
    command: 'deploy',
    region: () => clientRegion(deps.clients.lambda),
  })
  const zip = await zipBundle(deps.bundle ?? (await readBundle()))
  const sha = codeSha256(zip)
  const account = await discoverAccount(deps.clients)
  checkAlertTopic(options, account)
  await checkBucket(deps.clients, options, account.region)
  const ctx = context(deps, account, options.name)
  const desired = { options, tokens: session.tokens, zip, codeSha256: sha }
  const changes = await reconcile(deploymentResources(ctx, desired), {
    apply: !run.dryRun,
    recovery: `Rerun the same deploy to complete it, or remove what exists with garmin-s3 destroy --name ${options.name}.`,
    deployment: options.name,
    adopt: run.adopt === true,
    ...(deps.onChange ? { onChange: deps.onChange } : {}),
  })
  if (!run.dryRun) await session.finish(account.region)
  const { functionArn } = arns(account, ctx.names)
  const result: DeployResult = {
    name: options.name,
    accountId: account.accountId,
    region: account.region,
    dryRun: run.dryRun === true,
    functionName: ctx.names.functionName,
    functionArn,
    tokenParameter: ctx.names.tokenParameter,
    session: session.move,
    trigger:
      options.scheduler === 'schedule'
        ? {
            kind: 'schedule',
            name: ctx.names.schedule,
            expression: options.schedule,
            timezone: options.timezone,
          }
        : { kind: 'rule', name: ctx.names.rule, expression: options.schedule, timezone: 'UTC' },
    codeSha256: sha,
    zipBytes: zip.byteLength,
    changes,
    alerts: await alertsSummary(deps, options, account, changes, run.dryRun === true),
  }
  if (run.invoke && !run.dryRun) {
    // A role or policy changed seconds ago may not be in force yet: the first run can be denied.
    const iamChanged = changes.some((c) => c.resource.startsWith('iam-') && c.action !== 'unchanged')
    try {
      result.invoke = await invokeAfterIamChange(
        deps.clients,
        ctx.names.functionName,
        iamChanged ? ctx.clock : undefined,
      )
    } catch (error) {
      // The deploy itself completed: its result stands, with the failed test run in it.
      if (!(error instanceof GarminS3Error)) throw error
      const statusCode = error instanceof InvokeFailedError ? error.failure.statusCode : 0
      result.invoke = { statusCode, error: invokeFailure(error, result, options) }
    }
  }
  return result
}

/** The failed test run as the deploy result carries it, with the next step for its exit code. */
function invokeFailure(error: GarminS3Error, result: DeployResult, options: DeployOptions): InvokeFailure {
  const fn = result.functionName
  const logs = `The function's log (group /aws/lambda/${fn}): aws logs tail /aws/lambda/${fn} --since 1h --region ${result.region}; the last run: garmin-s3 status --bucket ${options.bucket} --name ${result.name}.`
  const again = `Then run it again with aws lambda invoke --function-name ${fn} --region ${result.region} out.json, or wait for the next scheduled run; no redeploy is needed.`
  const signIn =
    result.session === 'separate'
      ? `garmin-s3 login --token-store ssm:${result.tokenParameter}`
      : 'garmin-s3 login (it writes through your token file into the parameter)'
  const byCode =
    error.exitCode === EXIT.auth
      ? `Garmin needs a new sign-in: ${signIn}. ${again}`
      : error.exitCode === EXIT.unavailable
        ? `Garmin was unavailable or rate-limited; the next scheduled run retries. ${logs}`
        : error.exitCode === EXIT.partial
          ? `The run stopped early; the next run resumes. ${logs}`
          : `${logs} ${again}`
  return {
    type: error instanceof InvokeFailedError ? error.failure.errorType : error.name,
    message: error instanceof InvokeFailedError ? error.failure.errorMessage : error.message,
    exitCode: error.exitCode,
    hint: error.exitCode === EXIT.auth ? `${byCode} ${logs}` : byCode,
  }
}

/**
 * Removes everything `deploy` made under `name`; never the bucket or its objects. A local token file
 * that points to the deployment's parameter gets its session back once the parameter is gone
 * (session.ts), so this machine stays signed in.
 */
export async function destroy(
  name: string,
  deps: DestroyDeps,
  run: { dryRun?: boolean; adopt?: boolean } = {},
): Promise<DestroyResult> {
  validateName(name)
  const account = await discoverAccount(deps.clients)
  const ctx = context(deps, account, name)
  const parameter = () => new SsmTokenStore(ctx.names.tokenParameter, deps.clients.ssm)
  const back = deps.tokenStore
    ? await returningSession(deps.tokenStore, {
        name: ctx.names.tokenParameter,
        region: account.region,
        open: parameter,
      })
    : undefined
  let changes: Change[]
  try {
    changes = await reconcile(deploymentResources(ctx, undefined), {
      apply: !run.dryRun,
      recovery: `Rerun garmin-s3 destroy --name ${name} to remove the rest.`,
      deployment: name,
      adopt: run.adopt === true,
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
    })
  } catch (error) {
    // Stopped part-way: a session whose parameter is already gone must not be lost with it.
    const gone =
      back &&
      !run.dryRun &&
      (await parameter()
        .load()
        .catch(() => 'unknown')) === undefined
    if (gone) await back.finish()
    throw error
  }
  const result = {
    name,
    accountId: account.accountId,
    region: account.region,
    dryRun: run.dryRun === true,
    changes,
  }
  const deleted = changes.some((c) => c.resource === 'ssm-parameter' && c.action === 'delete')
  if (!back || !deleted) return result
  if (!run.dryRun) await back.finish()
  const from = `ssm:${ctx.names.tokenParameter}`
  return { ...result, session: { action: run.dryRun ? 'would-return' : 'returned', from, to: back.to } }
}

const INVOKE_PROPAGATION_DELAYS_MS = [10_000, 20_000]

async function invokeAfterIamChange(
  clients: AwsClients,
  functionName: string,
  clock?: Clock,
): Promise<InvokeResult> {
  for (const delay of clock ? INVOKE_PROPAGATION_DELAYS_MS : []) {
    try {
      return await invokeOnce(clients, functionName)
    } catch (error) {
      if (!(error instanceof GarminS3Error && /AccessDenied|not authorized/i.test(error.message))) throw error
      await clock?.sleep(delay)
    }
  }
  return invokeOnce(clients, functionName)
}

/** Runs the function once, synchronously, and returns what the handler returned. */
export async function invokeOnce(clients: AwsClients, functionName: string): Promise<InvokeResult> {
  let out: InvokeCommandOutput
  try {
    out = await clients.lambda.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: '{}' }),
    )
  } catch (error) {
    if ((error as { name?: string }).name === 'TooManyRequestsException') {
      throw new GarminS3Error(`${functionName} is already running (reserved concurrency 1)`, {
        hint: 'Wait for the current run to finish, then invoke again.',
        cause: error,
      })
    }
    throw explainAwsError(error, `invoke ${functionName}`)
  }
  const text = out.Payload ? new TextDecoder().decode(out.Payload) : ''
  let payload: unknown = text
  try {
    payload = text ? JSON.parse(text) : undefined
  } catch {
    // keep the raw text
  }
  if (out.FunctionError) {
    const fields = payload && typeof payload === 'object' ? (payload as Record<string, unknown>) : {}
    const type = typeof fields.errorType === 'string' ? fields.errorType : undefined
    const text =
      typeof fields.errorMessage === 'string'
        ? fields.errorMessage
        : typeof payload === 'string' && payload.trim()
          ? payload.trim()
          : undefined
    const what = text
      ? type && type !== 'Error'
        ? `${type}: ${text}`
        : text
      : `Lambda reported ${out.FunctionError === 'Handled' ? 'a handled' : 'an unhandled'} error (FunctionError "${out.FunctionError}") without a message`
    // The handler says the sync's exit code in its error: "garmin-s3 sync failed (exit 3): ...".
    const code = Number(/\(exit ([1-5])\)/.exec(text ?? '')?.[1] ?? EXIT.failure) as ExitCode
    const failure = {
      errorType: type ?? out.FunctionError,
      errorMessage: what,
      statusCode: out.StatusCode ?? 0,
    }
    throw new InvokeFailedError(`The test run of ${functionName} failed: ${what}`, failure, {
      exitCode: code,
      hint: `See its log: aws logs tail /aws/lambda/${functionName} --since 1h`,
    })
  }
  return { statusCode: out.StatusCode ?? 0, report: payload }
}
