/**
 * Every AWS resource of a deployment as a `Resource` (read / diff / create / update / remove), in
 * dependency order. `desired` undefined means "destroy": everything is wanted absent.
 */
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  ListTagsForResourceCommand as ListRuleTagsCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
  TagResourceCommand as TagRuleCommand,
} from '@aws-sdk/client-eventbridge'
import {
  AttachRolePolicyCommand,
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  DetachRolePolicyCommand,
  GetPolicyCommand as GetIamPolicyCommand,
  GetPolicyVersionCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
  ListRolesCommand,
  PutRolePolicyCommand,
  TagRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import {
  AddPermissionCommand,
  type Architecture,
  CreateFunctionCommand,
  DeleteFunctionCommand,
  DeleteFunctionConcurrencyCommand,
  DeleteFunctionEventInvokeConfigCommand,
  GetFunctionCommand,
  GetFunctionConcurrencyCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
  RemovePermissionCommand,
  TagResourceCommand as TagFunctionCommand,
  UpdateFunctionCodeCommand,
  UpdateFunctionConfigurationCommand,
} from '@aws-sdk/client-lambda'
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type Target,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler'
import {
  AddTagsToResourceCommand,
  DeleteParameterCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  ListTagsForResourceCommand as ListParameterTagsCommand,
  PutParameterCommand,
  type PutParameterCommandInput,
  type SSMClient,
} from '@aws-sdk/client-ssm'
import type { AwsClients } from '../aws/clients.js'
import { awsErrorIs } from '../aws/errors.js'
import type { Clock } from '../clock.js'
import type { StoredTokens } from '../garmin/types.js'
import { encodeEnvironment } from '../lambda/environment.js'
import { ACTIVITIES, datasetPrefixes } from '../sync/datasets.js'
import { controlPrefixFor } from '../sync/state.js'
import {
  ALARM_KINDS,
  alarmName,
  alarmSpecs,
  alertSubscriptions,
  alertsEnabled,
  alertTopic,
  alertTopicArn,
  alertTopicPolicy,
  metricAlarm,
} from './alerts.js'
import { LAMBDA_HANDLER } from './bundle.js'
import type { DeployOptions, ResourceNames } from './options.js'
import {
  type AnyResource,
  differences as fields,
  type Ownership,
  orAbsent,
  type Resource,
  resource,
} from './plan.js'
import {
  allows,
  executionPolicy,
  LAMBDA_BASIC_EXECUTION_POLICY,
  lambdaTrustPolicy,
  managedPolicyArn,
  type PolicyDocument,
  parsePolicy,
  samePolicy,
  schedulerInvokePolicy,
  schedulerTrustPolicy,
} from './policy.js'
import { type FunctionWaiters, type RetryDeps, withAwsRetries } from './retry.js'
import {
  CREATED_BY_LOGIN_TAG,
  CREATED_BY_TAG_KEY,
  MANAGED_BY_TAG,
  ourTagMap,
  ourTags,
  ownershipOf,
  tagRecord,
} from './tags.js'

/** Where the deployment lives, learned from STS and the client configuration. */
export interface AwsAccount {
  accountId: string
  partition: string
  region: string
}

export interface DesiredDeployment {
  options: DeployOptions
  tokens: StoredTokens
  zip: Uint8Array
  codeSha256: string
}

export interface ResourceContext {
  clients: AwsClients
  account: AwsAccount
  names: ResourceNames
  clock: Clock
  waiters: FunctionWaiters
}

export { MANAGED_BY_TAG } from './tags.js'

const ARCHITECTURE: Architecture = 'arm64'
const RESERVED_CONCURRENCY = 1
const ASYNC_MAX_RETRIES = 2
const ASYNC_MAX_EVENT_AGE_S = 3600

export function arns(account: AwsAccount, names: ResourceNames) {
  const { partition: p, region: r, accountId: a } = account
  return {
    functionArn: `arn:${p}:lambda:${r}:${a}:function:${names.functionName}`,
    executionRoleArn: `arn:${p}:iam::${a}:role/${names.executionRole}`,
    schedulerRoleArn: `arn:${p}:iam::${a}:role/${names.schedulerRole}`,
    ruleArn: `arn:${p}:events:${r}:${a}:rule/${names.rule}`,
    // Parameter names start with '/', which the ARN does not repeat.
    parameterArn: `arn:${p}:ssm:${r}:${a}:parameter${names.tokenParameter}`,
    logGroupArn: `arn:${p}:logs:${r}:${a}:log-group:/aws/lambda/${names.functionName}`,
  }
}

/** Runs an AWS call with the waits eventual consistency needs (see withAwsRetries). */
function retrying(ctx: ResourceContext): <T>(call: () => Promise<T>) => Promise<T> {
  const deps: RetryDeps = { clock: ctx.clock, waiters: ctx.waiters, functionName: ctx.names.functionName }
  return (call) => withAwsRetries(call, deps)
}

// ---------------------------------------------------------------- IAM

/** Whose a role is, and which of the policies on it garmin-s3 writes (by name / ARN). */
export interface RoleOwner {
  deployment: string
  inline: readonly string[]
  attached?: readonly string[]
}

interface RoleState {
  trust: unknown
  tags: Record<string, string>
  inline: string[]
  attached: string[]
}

/**
 * A role with its trust policy; removing it first takes off every policy on it. It is changed only when
 * tagged for `owner.deployment` (or adopted); adopting takes off the policies garmin-s3 did not write.
 */
export function iamRole(
  iam: IAMClient,
  roleName: string,
  wanted: boolean,
  trust: PolicyDocument,
  description: string,
  owner: RoleOwner,
): AnyResource {
  const foreignInline = (c: RoleState) => c.inline.filter((p) => !owner.inline.includes(p))
  const foreignAttached = (c: RoleState) => c.attached.filter((p) => !owner.attached?.includes(p))
  return resource<RoleState>({
    resource: 'iam-role',
    name: roleName,
    wanted,
    read: () =>
      orAbsent(async () => {
        const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }))
        if (!Role) return undefined
        const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))
        const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))
        return {
          trust: parsePolicy(Role.AssumeRolePolicyDocument),
          tags: tagRecord(Role.Tags),
          inline: inline.PolicyNames ?? [],
          attached: (attached.AttachedPolicies ?? []).flatMap((p) => (p.PolicyArn ? [p.PolicyArn] : [])),
        }
      }),
    diff: (current) => fields([['trust policy', !samePolicy(current.trust, trust)]]),
    owned: {
      owner: (current) => ownershipOf(current.tags, owner.deployment),
      foreignPolicies: (current) => [
        ...foreignInline(current).map((p) => `${p} (inline)`),
        ...foreignAttached(current).map((arn) => arn.split('/').pop() ?? arn),
      ],
      claim: async (current, adopting) => {
        if (adopting) {
          for (const policyName of foreignInline(current)) {
            await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
          }
          for (const policyArn of foreignAttached(current)) {
            await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }))
          }
        }
        await iam.send(new TagRoleCommand({ RoleName: roleName, Tags: ourTags(owner.deployment) }))
      },
    },
    create: async () => {
      await iam.send(
        new CreateRoleCommand({
          RoleName: roleName,
          AssumeRolePolicyDocument: JSON.stringify(trust),
          Description: description,
          Tags: ourTags(owner.deployment),
        }),
      )
    },
    update: async () => {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: roleName, PolicyDocument: JSON.stringify(trust) }),
      )
    },
    remove: async () => {
      // A role cannot be deleted while any policy is on it, including ones added by hand (the plan
      // lists those as `detaches`). Listed again: our own policies were removed as steps of their own.
      const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))
      for (const policyName of inline.PolicyNames ?? []) {
        await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
      }
      const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))
      for (const policy of attached.AttachedPolicies ?? []) {
        if (policy.PolicyArn) {
          await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policy.PolicyArn }))
        }
      }
      await iam.send(new DeleteRoleCommand({ RoleName: roleName }))
    },
  })
}

function iamAttachment(
  ctx: ResourceContext,
  roleName: string,
  wanted: boolean,
  policyArn: string,
): AnyResource {
  const { iam } = ctx.clients
  return resource({
    resource: 'iam-attached-policy',
    name: `${roleName}/${policyArn.split('/').pop()}`,
    wanted,
    read: () =>
      orAbsent(async () => {
        const { AttachedPolicies } = await iam.send(
          new ListAttachedRolePoliciesCommand({ RoleName: roleName }),
        )
        return AttachedPolicies?.some((p) => p.PolicyArn === policyArn) ? { policyArn } : undefined
      }),
    diff: () => fields([]),
    create: async () => {
      await iam.send(new AttachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }))
    },
    update: async () => {},
    remove: async () => {
      await iam.send(new DetachRolePolicyCommand({ RoleName: roleName, PolicyArn: policyArn }))
    },
  })
}

export function iamInlinePolicy(
  iam: IAMClient,
  roleName: string,
  policyName: string,
  wanted: boolean,
  document: PolicyDocument | undefined,
): AnyResource {
  const put = async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: policyName,
        PolicyDocument: JSON.stringify(document),
      }),
    )
  }
  return resource({
    resource: 'iam-role-policy',
    name: `${roleName}/${policyName}`,
    wanted,
    read: () =>
      orAbsent(async () => {
        const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
        return { document: parsePolicy(out.PolicyDocument) }
      }),
    diff: (current) => fields([['policy document', !document || !samePolicy(current.document, document)]]),
    create: put,
    update: put,
    remove: async () => {
      await iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
    },
  })
}

// ---------------------------------------------------------------- SSM

interface ParameterState {
  type: string | undefined
  tokens: StoredTokens | undefined
  tags: Record<string, string>
  /** What else refreshes the tokens in it (read only when it is wanted absent), e.g. the GitHub role. */
  usedBy: string | undefined
  /** Who made it (see parameterMaker); undefined: nothing shows it. */
  madeBy: Maker | undefined
}

/** `deploy` stands for what garmin-s3 created as a resource (deploy, init github-actions --create-role). */
type Maker = 'login' | 'deploy'

/** How the two writers describe the parameter when they create it (`SsmTokenStore.save` is login's). */
const DEPLOY_DESCRIPTION = 'garmin-s3: Garmin Connect OAuth tokens'
const LOGIN_DESCRIPTION = 'garmin-s3: Garmin Connect tokens'

/**
 * Who made the parameter: its `garmin-s3:created-by` tag; untagged but holding tokens, login; tagged by
 * a version from before created-by, its first version's description, while SSM's history (the last 100
 * versions) still has it. Later writes prove nothing: the function's refresh writes login's description.
 */
async function parameterMaker(
  ssm: SSMClient,
  name: string,
  tags: Record<string, string>,
  tokens: StoredTokens | undefined,
): Promise<Maker | undefined> {
  const tag = tags[CREATED_BY_TAG_KEY]
  if (tag) return tag === CREATED_BY_LOGIN_TAG.Value ? 'login' : 'deploy'
  if (tags[MANAGED_BY_TAG.Key] === undefined) return tokens ? 'login' : undefined
  const { Parameters } = await ssm.send(new GetParameterHistoryCommand({ Name: name, MaxResults: 1 }))
  const first = Parameters?.[0]
  if (first?.Version !== 1) return undefined
  if (first.Description?.startsWith(DEPLOY_DESCRIPTION)) return 'deploy'
  if (first.Description?.startsWith(LOGIN_DESCRIPTION)) return 'login'
  return undefined
}

function parseTokens(value: string | undefined): StoredTokens | undefined {
  try {
    const parsed = JSON.parse(value ?? '') as Partial<StoredTokens>
    return parsed.version === 1 && typeof parsed.refreshToken === 'string'
      ? (parsed as StoredTokens)
      : undefined
  } catch {
    return undefined
  }
}

/** How a token parameter describes itself: who rotates the tokens in it, and why it is kept. */
export interface TokenParameterWording {
  /** Completes "Garmin Connect OAuth tokens (...)", e.g. "rotated by the function". */
  rotation: string
  /** The note on a parameter left as it is, e.g. "the function holds the same or newer tokens". */
  kept: string
  /** The `garmin-s3:created-by` value of a parameter it creates: `deploy`, `init-github-actions`. */
  createdBy: string
}

const CREATED_BY_FIELD = 'created-by tag'

/**
 * The token parameter is seeded from the local login, but the function (or workflow) rotates the
 * refresh token in it afterwards: it is overwritten only by a newer or different login, never by older
 * local tokens. `tokens` undefined: wanted absent.
 */
export function tokenParameter(
  ssm: SSMClient,
  name: string,
  tokens: StoredTokens | undefined,
  wording: TokenParameterWording,
  deployment: string,
  /** Who else uses the parameter, asked only when it is wanted absent (destroy): it then stays. */
  usedBy?: () => Promise<string | undefined>,
): AnyResource {
  const put = async (extra: Partial<PutParameterCommandInput>) => {
    await ssm.send(
      new PutParameterCommand({
        Name: name,
        Type: 'SecureString',
        Value: tokens ? JSON.stringify(tokens) : '',
        // Standard tier when the tokens fit in 4 KB (free), advanced only if Garmin's JWTs grow.
        Tier: 'Intelligent-Tiering',
        ...extra,
      }),
    )
  }
  const addTags = async (tags: { Key: string; Value: string }[]) => {
    await ssm.send(new AddTagsToResourceCommand({ ResourceType: 'Parameter', ResourceId: name, Tags: tags }))
  }
  const madeByTag = (current: ParameterState) =>
    current.madeBy === undefined
      ? []
      : [{ Key: CREATED_BY_TAG_KEY, Value: current.madeBy === 'login' ? 'login' : wording.createdBy }]
  // `login --token-store ssm:...` writes the parameter without tags: holding garmin-s3 tokens, it
  // counts as ours from before the tags (and gets them). Anything else in it is someone else's.
  const owner = (current: ParameterState) => {
    const owner = ownershipOf(current.tags, deployment)
    return owner === 'foreign' && current.tags[MANAGED_BY_TAG.Key] === undefined && current.tokens
      ? 'ours-untagged'
      : owner
  }
  return resource<ParameterState>({
    resource: 'ssm-parameter',
    name,
    wanted: tokens !== undefined,
    read: () =>
      orAbsent(async () => {
        const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))
        if (!Parameter) return undefined
        const { TagList } = await ssm.send(
          new ListParameterTagsCommand({ ResourceType: 'Parameter', ResourceId: name }),
        )
        const tags = tagRecord(TagList)
        const parsed = parseTokens(Parameter.Value)
        return {
          type: Parameter.Type,
          tokens: parsed,
          tags,
          usedBy: tokens === undefined ? await usedBy?.() : undefined,
          madeBy: await parameterMaker(ssm, name, tags, parsed),
        }
      }),
    owned: {
      owner,
      // Who made it goes with our tags: destroy leaves one login made in place.
      claim: (current) => addTags([...ourTags(deployment), ...madeByTag(current)]),
      keep: (current) => {
        const byHand = `delete it yourself once nothing uses it: aws ssm delete-parameter --name ${name}`
        if (current.usedBy) return `${current.usedBy} still uses it; ${byHand}`
        if (owner(current) === 'foreign') return undefined
        if (current.madeBy === 'login') {
          return `not created by deploy (garmin-s3 login --token-store made it); ${byHand}`
        }
        if (current.madeBy === undefined) {
          const tag = `aws ssm add-tags-to-resource --resource-type Parameter --resource-id ${name} --tags Key=${CREATED_BY_TAG_KEY},Value=`
          return `tagged by a garmin-s3 version from before ${CREATED_BY_TAG_KEY}, and SSM's history of it (the last 100 versions) does not show who made it, so garmin-s3 cannot tell whether deploy or garmin-s3 login --token-store made it; if only this deployment used it, ${byHand}, or mark it and rerun destroy: ${tag}deploy (if your login made it: ${tag}login)`
        }
        return undefined
      },
    },
    diff: (current) => {
      const remote = current.tokens
      if (!tokens) return fields([])
      const newerLogin =
        remote !== undefined &&
        (remote.displayName !== tokens.displayName ||
          Date.parse(tokens.obtainedAt) > Date.parse(remote.obtainedAt))
      return fields(
        [
          ['type', current.type !== 'SecureString'],
          ['tokens (unreadable in AWS)', remote === undefined],
          ['tokens (newer local login)', newerLogin],
          // Tagged by an older version: who made it is recorded while the history still shows it.
          [
            CREATED_BY_FIELD,
            owner(current) === 'ours' &&
              current.tags[CREATED_BY_TAG_KEY] === undefined &&
              current.madeBy !== undefined,
          ],
        ],
        remote !== undefined && !newerLogin ? `kept: ${wording.kept}` : undefined,
      )
    },
    create: () =>
      put({
        Description: `${DEPLOY_DESCRIPTION} (${wording.rotation})`,
        Tags: [...ourTags(deployment), { Key: CREATED_BY_TAG_KEY, Value: wording.createdBy }],
      }),
    update: async (current, changed) => {
      if (changed.some((f) => f !== CREATED_BY_FIELD)) await put({ Overwrite: true })
      if (changed.includes(CREATED_BY_FIELD)) await addTags(madeByTag(current))
    },
    remove: async () => {
      await ssm.send(new DeleteParameterCommand({ Name: name }))
    },
  })
}

/**
 * `init github-actions --create-role` gives the role `<name>-github` an inline policy on the same
 * parameter, and the workflow refreshes the tokens in it: while such a policy exists, destroy keeps the
 * parameter. With `--role-arn` the role is the user's own, of any name, and nothing in AWS records it:
 * a role GitHub's OIDC provider may assume whose policies allow writing the parameter is taken for it.
 * Undefined when no such role uses the parameter.
 */
async function githubRoleUsing(
  iam: IAMClient,
  roleName: string,
  parameterArn: string,
): Promise<string | undefined> {
  const names = await orAbsent(async () => {
    const out = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))
    return out.PolicyNames ?? []
  })
  for (const policyName of names ?? []) {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
    if (JSON.stringify(parsePolicy(out.PolicyDocument) ?? null).includes(parameterArn)) {
      return `the GitHub Actions set-up (role ${roleName}, policy ${policyName})`
    }
  }
  const brought: string[] = []
  for await (const role of githubTrustedRoles(iam)) {
    if (role !== roleName && (await roleMayWrite(iam, role, parameterArn))) brought.push(role)
  }
  if (brought.length === 0) return undefined
  const roles = brought.length === 1 ? `role ${brought[0]}` : `roles ${brought.join(', ')}`
  return `the GitHub Actions ${roles} (yours, not made by garmin-s3: destroy leaves ${brought.length === 1 ? 'it' : 'them'}; the role, its trust and the workflow file ${SYNC_WORKFLOW_PATH} are yours to remove)`
}

/** Where `init github-actions` writes the workflow (src/github/workflow.ts, which deploy may not import). */
const SYNC_WORKFLOW_PATH = '.github/workflows/garmin-s3-sync.yml'
const GITHUB_OIDC_PROVIDER = 'oidc-provider/token.actions.githubusercontent.com'

/** The names of the account's roles whose trust policy lets GitHub's OIDC provider assume them. */
async function* githubTrustedRoles(iam: IAMClient): AsyncGenerator<string> {
  let marker: string | undefined
  do {
    const out = await iam.send(new ListRolesCommand(marker ? { Marker: marker } : {}))
    for (const role of out.Roles ?? []) {
      const trust = JSON.stringify(parsePolicy(role.AssumeRolePolicyDocument) ?? null)
      if (role.RoleName && trust.includes(GITHUB_OIDC_PROVIDER)) yield role.RoleName
    }
    marker = out.IsTruncated ? out.Marker : undefined
  } while (marker)
}

/** Whether an inline or attached policy of the role allows ssm:PutParameter on the parameter. */
async function roleMayWrite(iam: IAMClient, roleName: string, parameterArn: string): Promise<boolean> {
  const allowsWrite = (document: string | undefined) => allows(document, 'ssm:PutParameter', parameterArn)
  const inline = await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))
  for (const policyName of inline.PolicyNames ?? []) {
    const out = await iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName }))
    if (allowsWrite(out.PolicyDocument)) return true
  }
  const attached = await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: roleName }))
  for (const { PolicyArn } of attached.AttachedPolicies ?? []) {
    const { Policy } = await iam.send(new GetIamPolicyCommand({ PolicyArn }))
    const version = await iam.send(
      new GetPolicyVersionCommand({ PolicyArn, VersionId: Policy?.DefaultVersionId }),
    )
    if (allowsWrite(version.PolicyVersion?.Document)) return true
  }
  return false
}

// ---------------------------------------------------------------- Lambda

interface FunctionState {
  tags: Record<string, string>
  codeSha256: string | undefined
  runtime: string | undefined
  handler: string | undefined
  memory: number | undefined
  timeout: number | undefined
  role: string | undefined
  architectures: string[]
  environment: Record<string, string>
}

/** The selected datasets besides activities (they need a DATASETS variable and their own prefixes). */
function extraDatasets(datasets: readonly string[] | undefined): string[] {
  return (datasets ?? []).filter((d) => d !== ACTIVITIES)
}

/**
 * The prefixes the function needs besides the activity and control prefixes: those of the other
 * datasets it copies, and with --curate the curated tables and their state object.
 */
export function extraPrefixes(options: DeployOptions): string[] {
  return [
    ...datasetPrefixes(options.prefix, extraDatasets(options.datasets)),
    ...(options.curatedPrefix ? [options.curatedPrefix, controlPrefixFor(options.curatedPrefix)] : []),
  ]
}

export function functionEnvironment(
  desired: DesiredDeployment,
  names: ResourceNames,
): Record<string, string> {
  const { options } = desired
  return {
    ...encodeEnvironment({
      bucket: options.bucket,
      prefix: options.prefix,
      tokenParameter: names.tokenParameter,
      garminDomain: desired.tokens.domain,
      ...(options.daysBack !== undefined ? { daysBack: options.daysBack } : {}),
      ...(options.reconcileDays !== undefined ? { reconcileDays: options.reconcileDays } : {}),
      ...(extraDatasets(options.datasets).length > 0 ? { datasets: [...(options.datasets ?? [])] } : {}),
      ...(options.bucketRegion ? { bucketRegion: options.bucketRegion } : {}),
      ...(options.curatedPrefix ? { curatedPrefix: options.curatedPrefix } : {}),
    }),
    ...options.environment,
  }
}

function sameRecord(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a)
  return keys.length === Object.keys(b).length && keys.every((k) => a[k] === b[k])
}

function lambdaFunction(ctx: ResourceContext, desired: DesiredDeployment | undefined): AnyResource {
  const { lambda } = ctx.clients
  const name = ctx.names.functionName
  const retry = retrying(ctx)
  const { executionRoleArn: roleArn, functionArn } = arns(ctx.account, ctx.names)
  const configuration = desired && {
    Runtime: desired.options.runtime,
    Handler: LAMBDA_HANDLER,
    MemorySize: desired.options.memory,
    Timeout: desired.options.timeout,
    Role: roleArn,
    Environment: { Variables: functionEnvironment(desired, ctx.names) },
    Description: `garmin-s3: copies Garmin Connect data to s3://${desired.options.bucket}/${desired.options.prefix}`,
  }
  return resource<FunctionState>({
    resource: 'lambda-function',
    name,
    wanted: desired !== undefined,
    owned: {
      owner: (current) => ownershipOf(current.tags, name),
      claim: async () => {
        await lambda.send(new TagFunctionCommand({ Resource: functionArn, Tags: ourTagMap(name) }))
      },
    },
    read: () =>
      orAbsent(async () => {
        const { Configuration: c, Tags } = await lambda.send(new GetFunctionCommand({ FunctionName: name }))
        if (!c) return undefined
        return {
          tags: Tags ?? {},
          codeSha256: c.CodeSha256,
          runtime: c.Runtime,
          handler: c.Handler,
          memory: c.MemorySize,
          timeout: c.Timeout,
          role: c.Role,
          architectures: c.Architectures ?? ['x86_64'],
          environment: c.Environment?.Variables ?? {},
        }
      }),
    diff: (current) => {
      if (!desired || !configuration) return fields([])
      return fields([
        ['code', current.codeSha256 !== desired.codeSha256],
        ['Architectures', current.architectures.join() !== ARCHITECTURE],
        ['Runtime', current.runtime !== configuration.Runtime],
        ['Handler', current.handler !== configuration.Handler],
        ['MemorySize', current.memory !== configuration.MemorySize],
        ['Timeout', current.timeout !== configuration.Timeout],
        ['Role', current.role !== configuration.Role],
        ['Environment', !sameRecord(current.environment, configuration.Environment.Variables)],
      ])
    },
    create: async () => {
      if (!desired || !configuration) return
      await retry(() =>
        lambda.send(
          new CreateFunctionCommand({
            FunctionName: name,
            ...configuration,
            Architectures: [ARCHITECTURE],
            Code: { ZipFile: desired.zip },
            Tags: ourTagMap(name),
          }),
        ),
      )
      await ctx.waiters.active(name)
    },
    update: async (_current, changed) => {
      if (!desired || !configuration) return
      // Code and architecture travel together; the configuration is a separate call that Lambda
      // accepts only once the code update has finished.
      if (changed.includes('code') || changed.includes('Architectures')) {
        await retry(() =>
          lambda.send(
            new UpdateFunctionCodeCommand({
              FunctionName: name,
              ZipFile: desired.zip,
              Architectures: [ARCHITECTURE],
            }),
          ),
        )
        await ctx.waiters.updated(name)
      }
      if (changed.some((f) => f !== 'code' && f !== 'Architectures')) {
        await retry(() =>
          lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: name, ...configuration })),
        )
        await ctx.waiters.updated(name)
      }
    },
    remove: async () => {
      await lambda.send(new DeleteFunctionCommand({ FunctionName: name }))
    },
  })
}

/** A setting of the function: one put creates or updates it, sent with the waits Lambda needs. */
function functionSetting<Current>(
  ctx: ResourceContext,
  setting: Pick<Resource<Current>, 'resource' | 'wanted' | 'read' | 'diff'> & {
    put(): Promise<unknown>
    remove(): Promise<unknown>
  },
): AnyResource {
  const retry = retrying(ctx)
  const put = async () => {
    await retry(() => setting.put())
  }
  return resource<Current>({
    ...setting,
    name: ctx.names.functionName,
    create: put,
    update: put,
    remove: async () => {
      await setting.remove()
    },
  })
}

function reservedConcurrency(ctx: ResourceContext, wanted: boolean): AnyResource {
  const { lambda } = ctx.clients
  const FunctionName = ctx.names.functionName
  return functionSetting<{ reserved: number }>(ctx, {
    resource: 'lambda-concurrency',
    wanted,
    read: () =>
      orAbsent(async () => {
        const out = await lambda.send(new GetFunctionConcurrencyCommand({ FunctionName }))
        return out.ReservedConcurrentExecutions === undefined
          ? undefined
          : { reserved: out.ReservedConcurrentExecutions }
      }),
    diff: (current) => fields([['ReservedConcurrentExecutions', current.reserved !== RESERVED_CONCURRENCY]]),
    put: () =>
      lambda.send(
        new PutFunctionConcurrencyCommand({
          FunctionName,
          ReservedConcurrentExecutions: RESERVED_CONCURRENCY,
        }),
      ),
    remove: () => lambda.send(new DeleteFunctionConcurrencyCommand({ FunctionName })),
  })
}

/** Lambda's retries of a scheduled run, and where a run that still fails is reported (`onFailure`). */
function asyncInvokeConfig(
  ctx: ResourceContext,
  wanted: boolean,
  onFailure: string | undefined,
): AnyResource {
  const { lambda } = ctx.clients
  const FunctionName = ctx.names.functionName
  return functionSetting<{
    retries: number | undefined
    maxAge: number | undefined
    onFailure: string | undefined
  }>(ctx, {
    resource: 'lambda-invoke-config',
    wanted,
    read: () =>
      orAbsent(async () => {
        const out = await lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName }))
        return {
          retries: out.MaximumRetryAttempts,
          maxAge: out.MaximumEventAgeInSeconds,
          onFailure: out.DestinationConfig?.OnFailure?.Destination || undefined,
        }
      }),
    diff: (current) =>
      fields([
        ['MaximumRetryAttempts', current.retries !== ASYNC_MAX_RETRIES],
        ['MaximumEventAgeInSeconds', current.maxAge !== ASYNC_MAX_EVENT_AGE_S],
        ['OnFailure destination', current.onFailure !== onFailure],
      ]),
    // Put replaces the whole configuration: without onFailure it also takes an old destination off.
    put: () =>
      lambda.send(
        new PutFunctionEventInvokeConfigCommand({
          FunctionName,
          MaximumRetryAttempts: ASYNC_MAX_RETRIES,
          MaximumEventAgeInSeconds: ASYNC_MAX_EVENT_AGE_S,
          ...(onFailure ? { DestinationConfig: { OnFailure: { Destination: onFailure } } } : {}),
        }),
      ),
    remove: () => lambda.send(new DeleteFunctionEventInvokeConfigCommand({ FunctionName })),
  })
}

interface PolicyStatementShape {
  Sid?: string
  Principal?: { Service?: string } | string
  Condition?: { ArnLike?: Record<string, string> }
}

function lambdaPermission(ctx: ResourceContext, wanted: boolean): AnyResource {
  const { lambda } = ctx.clients
  const name = ctx.names.functionName
  const sid = ctx.names.permissionStatementId
  const { ruleArn } = arns(ctx.account, ctx.names)
  const add = async () => {
    await lambda.send(
      new AddPermissionCommand({
        FunctionName: name,
        StatementId: sid,
        Action: 'lambda:InvokeFunction',
        Principal: 'events.amazonaws.com',
        SourceArn: ruleArn,
      }),
    )
  }
  const removeIt = async () => {
    await lambda.send(new RemovePermissionCommand({ FunctionName: name, StatementId: sid }))
  }
  return resource({
    resource: 'lambda-permission',
    name: `${name}/${sid}`,
    wanted,
    read: () =>
      orAbsent(async () => {
        const { Policy } = await lambda.send(new GetPolicyCommand({ FunctionName: name }))
        const statements = ((parsePolicy(Policy) as { Statement?: PolicyStatementShape[] } | undefined)
          ?.Statement ?? []) as PolicyStatementShape[]
        const statement = statements.find((s) => s.Sid === sid)
        if (!statement) return undefined
        const principal =
          typeof statement.Principal === 'string' ? statement.Principal : statement.Principal?.Service
        return { principal, sourceArn: statement.Condition?.ArnLike?.['AWS:SourceArn'] }
      }),
    diff: (current) =>
      fields([
        ['Principal', current.principal !== 'events.amazonaws.com'],
        ['SourceArn', current.sourceArn !== ruleArn],
      ]),
    create: add,
    update: async () => {
      await removeIt()
      await add()
    },
    remove: removeIt,
  })
}

// ---------------------------------------------------------------- Schedule

function schedule(ctx: ResourceContext, desired: DesiredDeployment | undefined): AnyResource {
  const { scheduler } = ctx.clients
  const name = ctx.names.schedule
  const { functionArn, schedulerRoleArn } = arns(ctx.account, ctx.names)
  const retry = retrying(ctx)
  const scheduleDescription = `garmin-s3: runs ${ctx.names.functionName}`
  const target: Target = {
    Arn: functionArn,
    RoleArn: schedulerRoleArn,
    Input: '{}',
    // A failed delivery (throttling) is retried by Scheduler; the function's own retries are Lambda's.
    RetryPolicy: { MaximumRetryAttempts: ASYNC_MAX_RETRIES, MaximumEventAgeInSeconds: ASYNC_MAX_EVENT_AGE_S },
  }
  const input = desired && {
    Name: name,
    GroupName: 'default',
    ScheduleExpression: desired.options.schedule,
    ScheduleExpressionTimezone: desired.options.timezone,
    FlexibleTimeWindow: { Mode: 'OFF' as const },
    State: 'ENABLED' as const,
    Description: scheduleDescription,
    Target: target,
  }
  const update = async () => {
    if (!input) return
    await retry(() => scheduler.send(new UpdateScheduleCommand(input)))
  }
  return resource({
    resource: 'scheduler-schedule',
    name,
    wanted: desired !== undefined && desired.options.scheduler === 'schedule',
    read: () =>
      orAbsent(async () => {
        const out = await scheduler.send(new GetScheduleCommand({ Name: name, GroupName: 'default' }))
        return {
          expression: out.ScheduleExpression,
          timezone: out.ScheduleExpressionTimezone,
          state: out.State,
          targetArn: out.Target?.Arn,
          roleArn: out.Target?.RoleArn,
          description: out.Description,
        }
      }),
    // Schedules carry no tags: the description garmin-s3 writes (the same since the first version) says
    // whose it is; adopting rewrites the whole schedule.
    owned: {
      owner: (current): Ownership => (current.description === scheduleDescription ? 'ours' : 'foreign'),
      claim: () => update(),
    },
    diff: (current) => {
      if (!input) return fields([])
      return fields([
        ['ScheduleExpression', current.expression !== input.ScheduleExpression],
        ['ScheduleExpressionTimezone', (current.timezone ?? 'UTC') !== input.ScheduleExpressionTimezone],
        ['State', current.state !== 'ENABLED'],
        ['Target', current.targetArn !== functionArn || current.roleArn !== schedulerRoleArn],
      ])
    },
    create: async () => {
      if (!input) return
      try {
        await retry(() => scheduler.send(new CreateScheduleCommand(input)))
      } catch (error) {
        // Created by someone else since we looked: make it ours.
        if (!awsErrorIs(error, 'ConflictException')) throw error
        await update()
      }
    },
    update,
    remove: async () => {
      await scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: 'default' }))
    },
  })
}

function eventsRule(ctx: ResourceContext, desired: DesiredDeployment | undefined): AnyResource {
  const { events } = ctx.clients
  const name = ctx.names.rule
  const { ruleArn } = arns(ctx.account, ctx.names)
  // PutRule on an existing rule must not carry tags: only a create sends them.
  const put = async (tags: { Tags?: { Key: string; Value: string }[] }) => {
    if (!desired) return
    await events.send(
      new PutRuleCommand({
        Name: name,
        ScheduleExpression: desired.options.schedule,
        State: 'ENABLED',
        Description: `garmin-s3: runs ${ctx.names.functionName} (UTC)`,
        ...tags,
      }),
    )
  }
  return resource({
    resource: 'events-rule',
    name,
    wanted: desired !== undefined && desired.options.scheduler === 'rule',
    read: () =>
      orAbsent(async () => {
        const out = await events.send(new DescribeRuleCommand({ Name: name }))
        const { Tags } = await events.send(new ListRuleTagsCommand({ ResourceARN: ruleArn }))
        return { expression: out.ScheduleExpression, state: out.State, tags: tagRecord(Tags) }
      }),
    owned: {
      owner: (current) => ownershipOf(current.tags, ctx.names.functionName),
      claim: async () => {
        await events.send(new TagRuleCommand({ ResourceARN: ruleArn, Tags: ourTags(ctx.names.functionName) }))
      },
    },
    diff: (current) =>
      fields([
        ['ScheduleExpression', current.expression !== desired?.options.schedule],
        ['State', current.state !== 'ENABLED'],
      ]),
    create: () => put({ Tags: ourTags(ctx.names.functionName) }),
    update: () => put({}),
    remove: async () => {
      await events.send(new DeleteRuleCommand({ Name: name }))
    },
  })
}

function eventsTarget(ctx: ResourceContext, wanted: boolean): AnyResource {
  const { events } = ctx.clients
  const { functionArn } = arns(ctx.account, ctx.names)
  const id = ctx.names.ruleTargetId
  const put = async () => {
    await events.send(
      new PutTargetsCommand({ Rule: ctx.names.rule, Targets: [{ Id: id, Arn: functionArn }] }),
    )
  }
  return resource({
    resource: 'events-target',
    name: `${ctx.names.rule}/${id}`,
    wanted,
    read: () =>
      orAbsent(async () => {
        const out = await events.send(new ListTargetsByRuleCommand({ Rule: ctx.names.rule }))
        const found = out.Targets?.find((t) => t.Id === id)
        return found ? { arn: found.Arn } : undefined
      }),
    diff: (current) => fields([['Arn', current.arn !== functionArn]]),
    create: put,
    update: put,
    remove: async () => {
      await events.send(new RemoveTargetsCommand({ Rule: ctx.names.rule, Ids: [id] }))
    },
  })
}

// ---------------------------------------------------------------- all of it

/** The whole deployment, dependencies first. `desired` undefined: everything wanted absent (destroy). */
export function deploymentResources(
  ctx: ResourceContext,
  desired: DesiredDeployment | undefined,
): AnyResource[] {
  const { names, account } = ctx
  const deploying = desired !== undefined
  const viaSchedule = deploying && desired.options.scheduler === 'schedule'
  const viaRule = deploying && desired.options.scheduler === 'rule'
  const { functionArn, parameterArn, logGroupArn, executionRoleArn } = arns(account, names)
  const alerts = desired?.options.alerts
  const alerting = alertsEnabled(alerts)
  const ownTopicArn = alertTopicArn(account, names.functionName)
  /** Where failures and alarms go: the user's topic, or the one deploy makes. */
  const topicArn = alerting ? (alerts.topicArn ?? ownTopicArn) : undefined
  const ownTopic = alerting && alerts.topicArn === undefined
  const specs = alerting
    ? alarmSpecs({
        name: names.functionName,
        bucket: desired?.options.bucket ?? '',
        ...(alerts.noDataDays !== undefined ? { noDataDays: alerts.noDataDays } : {}),
      })
    : []
  return [
    iamRole(
      ctx.clients.iam,
      names.executionRole,
      deploying,
      lambdaTrustPolicy(),
      'garmin-s3: the function runs as this role',
      {
        deployment: names.functionName,
        inline: [names.executionPolicy],
        attached: [managedPolicyArn(account.partition, LAMBDA_BASIC_EXECUTION_POLICY)],
      },
    ),
    // Wanted absent: the inline policy's own log-group statement replaces it (older deployments had it).
    iamAttachment(
      ctx,
      names.executionRole,
      false,
      managedPolicyArn(account.partition, LAMBDA_BASIC_EXECUTION_POLICY),
    ),
    iamInlinePolicy(
      ctx.clients.iam,
      names.executionRole,
      names.executionPolicy,
      deploying,
      desired &&
        executionPolicy({
          partition: account.partition,
          bucket: desired.options.bucket,
          prefix: desired.options.prefix,
          controlPrefix: desired.options.controlPrefix,
          datasetPrefixes: extraPrefixes(desired.options),
          parameterArn,
          logGroupArn,
          ...(topicArn ? { alertTopicArn: topicArn } : {}),
        }),
    ),
    tokenParameter(
      ctx.clients.ssm,
      names.tokenParameter,
      desired?.tokens,
      {
        rotation: 'rotated by the function',
        kept: 'the function holds the same or newer tokens',
        createdBy: 'deploy',
      },
      names.functionName,
      () => githubRoleUsing(ctx.clients.iam, names.githubRole, parameterArn),
    ),
    alertTopic(
      ctx.clients.sns,
      ownTopicArn,
      names.functionName,
      ownTopic
        ? alertTopicPolicy({
            account,
            topicArn: ownTopicArn,
            executionRoleArn,
            deployment: names.functionName,
          })
        : undefined,
    ),
    alertSubscriptions(
      ctx.clients.sns,
      ownTopicArn,
      names.functionName,
      ownTopic ? alerts?.emails : undefined,
    ),
    lambdaFunction(ctx, desired),
    reservedConcurrency(ctx, deploying),
    asyncInvokeConfig(ctx, deploying, topicArn),
    iamRole(
      ctx.clients.iam,
      names.schedulerRole,
      viaSchedule,
      schedulerTrustPolicy(account.accountId),
      'garmin-s3: EventBridge Scheduler invokes the function as this role',
      { deployment: names.functionName, inline: [names.schedulerPolicy] },
    ),
    iamInlinePolicy(
      ctx.clients.iam,
      names.schedulerRole,
      names.schedulerPolicy,
      viaSchedule,
      schedulerInvokePolicy(functionArn),
    ),
    schedule(ctx, desired),
    eventsRule(ctx, desired),
    eventsTarget(ctx, viaRule),
    lambdaPermission(ctx, viaRule),
    ...ALARM_KINDS.map((kind) =>
      metricAlarm(
        ctx.clients.cloudwatch,
        alarmName(names.functionName, kind),
        names.functionName,
        specs.find((spec) => spec.kind === kind),
        topicArn ?? ownTopicArn,
      ),
    ),
  ]
}
