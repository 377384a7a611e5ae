/**
 * What `init github-actions --create-role` puts in AWS: GitHub's OIDC identity provider (created or
 * reused, never deleted: other workflows may rely on it), a role only one branch of one repository can
 * assume, the deployment's least-privilege inline policy on it, and the token parameter seeded from the
 * local login. The documents are pure functions; the calls go through the deploy plan/apply engine,
 * so a rerun reads everything and changes nothing.
 */
import {
  AddClientIDToOpenIDConnectProviderCommand,
  CreateOpenIDConnectProviderCommand,
  CreateRoleCommand,
  GetOpenIDConnectProviderCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { GetParameterCommand, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { isNotFound } from '../deploy/aws-errors.js'
import { resourceNames } from '../deploy/options.js'
import { type AnyResource, type Change, reconcile, resource } from '../deploy/plan.js'
import { executionPolicy, type PolicyDocument, parsePolicy, samePolicy } from '../deploy/policy.js'
import { type AwsAccount, arns, MANAGED_BY_TAG } from '../deploy/resources.js'
import type { StoredTokens } from '../garmin/types.js'
import type { GitHubRepo } from './validate.js'

export const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com'
export const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`
export const STS_AUDIENCE = 'sts.amazonaws.com'

/** The `sub` claim GitHub puts in the OIDC token of a job running on `branch` (schedules run on the default branch). */
export function githubSubject(repo: GitHubRepo, branch: string): string {
  return `repo:${repo.owner}/${repo.name}:ref:refs/heads/${branch}`
}

export function oidcProviderArn(account: Pick<AwsAccount, 'partition' | 'accountId'>): string {
  return `arn:${account.partition}:iam::${account.accountId}:oidc-provider/${GITHUB_OIDC_HOST}`
}

/** The role GitHub Actions assumes: `garmin-s3-github` for the default `--name`. */
export function githubRoleName(name: string): string {
  return `${name}-github`
}

export function roleArn(account: Pick<AwsAccount, 'partition' | 'accountId'>, roleName: string): string {
  return `arn:${account.partition}:iam::${account.accountId}:role/${roleName}`
}

/**
 * Exact matches only (StringEquals, no wildcards): the token must be meant for STS and come from a job
 * on this repository's branch. Pull requests, other branches, tags, environments and forks all carry a
 * different `sub` and are refused.
 */
export function githubTrustPolicy(providerArn: string, subject: string): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            [`${GITHUB_OIDC_HOST}:aud`]: STS_AUDIENCE,
            [`${GITHUB_OIDC_HOST}:sub`]: subject,
          },
        },
      },
    ],
  }
}

export interface GitHubRoleOptions {
  /** `--name`: the role, the policy and the token parameter derive from it, as for `deploy`. */
  name: string
  bucket: string
  prefix: string
  controlPrefix: string
  repo: GitHubRepo
  branch: string
}

export interface GitHubRoleClients {
  iam: IAMClient
  ssm: SSMClient
}

export interface GitHubRoleDeps {
  clients: GitHubRoleClients
  account: AwsAccount
  /** The local login, seeded into the parameter when it is absent or older. */
  tokens: StoredTokens
  onChange?: (change: Change) => void
}

export interface GitHubRolePlan {
  providerArn: string
  roleName: string
  roleArn: string
  policyName: string
  subject: string
  tokenParameter: string
}

/** Names and ARNs, without calling AWS. */
export function planGitHubRole(options: GitHubRoleOptions, account: AwsAccount): GitHubRolePlan {
  const names = resourceNames(options.name)
  const roleName = githubRoleName(options.name)
  return {
    providerArn: oidcProviderArn(account),
    roleName,
    roleArn: roleArn(account, roleName),
    policyName: names.executionPolicy,
    subject: githubSubject(options.repo, options.branch),
    tokenParameter: names.tokenParameter,
  }
}

async function orAbsent<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

function changed(entries: [string, boolean][], note?: string) {
  return { fields: entries.filter(([, differs]) => differs).map(([name]) => name), ...(note ? { note } : {}) }
}

/** Read-only for removal: this command never deletes anything. */
async function neverRemove(): Promise<void> {}

function oidcProvider(iam: IAMClient, arn: string): AnyResource {
  return resource({
    resource: 'iam-oidc-provider',
    name: GITHUB_OIDC_HOST,
    wanted: true,
    read: () =>
      orAbsent(async () => {
        const out = await iam.send(new GetOpenIDConnectProviderCommand({ OpenIDConnectProviderArn: arn }))
        return { audiences: out.ClientIDList ?? [] }
      }),
    diff: (current) =>
      changed(
        [[`audience ${STS_AUDIENCE}`, !current.audiences.includes(STS_AUDIENCE)]],
        'shared: never deleted',
      ),
    create: async () => {
      // No thumbprint: IAM trusts GitHub's certificate through its own library of root CAs.
      await iam.send(
        new CreateOpenIDConnectProviderCommand({
          Url: GITHUB_OIDC_URL,
          ClientIDList: [STS_AUDIENCE],
          Tags: [MANAGED_BY_TAG],
        }),
      )
    },
    update: async () => {
      await iam.send(
        new AddClientIDToOpenIDConnectProviderCommand({
          OpenIDConnectProviderArn: arn,
          ClientID: STS_AUDIENCE,
        }),
      )
    },
    remove: neverRemove,
  })
}

function githubRole(
  iam: IAMClient,
  plan: GitHubRolePlan,
  trust: PolicyDocument,
  repo: GitHubRepo,
): AnyResource {
  return resource({
    resource: 'iam-role',
    name: plan.roleName,
    wanted: true,
    read: () =>
      orAbsent(async () => {
        const { Role } = await iam.send(new GetRoleCommand({ RoleName: plan.roleName }))
        return Role ? { trust: parsePolicy(Role.AssumeRolePolicyDocument) } : undefined
      }),
    diff: (current) => changed([['trust policy', !samePolicy(current.trust, trust)]]),
    create: async () => {
      await iam.send(
        new CreateRoleCommand({
          RoleName: plan.roleName,
          AssumeRolePolicyDocument: JSON.stringify(trust),
          Description: `garmin-s3: GitHub Actions in ${repo.owner}/${repo.name} sync as this role`,
          Tags: [MANAGED_BY_TAG],
        }),
      )
    },
    update: async () => {
      await iam.send(
        new UpdateAssumeRolePolicyCommand({ RoleName: plan.roleName, PolicyDocument: JSON.stringify(trust) }),
      )
    },
    remove: neverRemove,
  })
}

function inlinePolicy(iam: IAMClient, plan: GitHubRolePlan, document: PolicyDocument): AnyResource {
  const put = async () => {
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: plan.roleName,
        PolicyName: plan.policyName,
        PolicyDocument: JSON.stringify(document),
      }),
    )
  }
  return resource({
    resource: 'iam-role-policy',
    name: `${plan.roleName}/${plan.policyName}`,
    wanted: true,
    read: () =>
      orAbsent(async () => {
        const out = await iam.send(
          new GetRolePolicyCommand({ RoleName: plan.roleName, PolicyName: plan.policyName }),
        )
        return { document: parsePolicy(out.PolicyDocument) }
      }),
    diff: (current) => changed([['policy document', !samePolicy(current.document, document)]]),
    create: put,
    update: put,
    remove: neverRemove,
  })
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

/**
 * Seeded from the local login, then rotated by the workflow (or a Lambda deployed under the same
 * --name): overwritten only by a newer or different login, never by older local tokens.
 */
function tokenParameter(ssm: SSMClient, name: string, tokens: StoredTokens): AnyResource {
  const value = JSON.stringify(tokens)
  return resource<{ type: string | undefined; tokens: StoredTokens | undefined }>({
    resource: 'ssm-parameter',
    name,
    wanted: true,
    read: () =>
      orAbsent(async () => {
        const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }))
        return Parameter ? { type: Parameter.Type, tokens: parseTokens(Parameter.Value) } : undefined
      }),
    diff: (current) => {
      const remote = current.tokens
      const newerLogin =
        remote !== undefined &&
        (remote.displayName !== tokens.displayName ||
          Date.parse(tokens.obtainedAt) > Date.parse(remote.obtainedAt))
      return changed(
        [
          ['type', current.type !== 'SecureString'],
          ['tokens (unreadable in AWS)', remote === undefined],
          ['tokens (newer local login)', newerLogin],
        ],
        remote !== undefined && !newerLogin ? 'kept: it holds the same or newer tokens' : undefined,
      )
    },
    create: async () => {
      await ssm.send(
        new PutParameterCommand({
          Name: name,
          Type: 'SecureString',
          Value: value,
          Tier: 'Intelligent-Tiering',
          Description: 'garmin-s3: Garmin Connect OAuth tokens (rotated on refresh)',
          Tags: [MANAGED_BY_TAG],
        }),
      )
    },
    update: async () => {
      await ssm.send(
        new PutParameterCommand({
          Name: name,
          Type: 'SecureString',
          Value: value,
          Tier: 'Intelligent-Tiering',
          Overwrite: true,
        }),
      )
    },
    remove: neverRemove,
  })
}

/** The role's inline policy: exactly the Lambda execution role's (bucket prefixes + the one parameter). */
export function githubRolePolicy(options: GitHubRoleOptions, account: AwsAccount): PolicyDocument {
  return executionPolicy({
    partition: account.partition,
    bucket: options.bucket,
    prefix: options.prefix,
    controlPrefix: options.controlPrefix,
    parameterArn: arns(account, resourceNames(options.name)).parameterArn,
  })
}

/** Creates or updates what differs (nothing on a rerun); with `dryRun`, only reads. */
export async function ensureGitHubRole(
  options: GitHubRoleOptions,
  deps: GitHubRoleDeps,
  run: { dryRun?: boolean } = {},
): Promise<{ plan: GitHubRolePlan; changes: Change[] }> {
  const plan = planGitHubRole(options, deps.account)
  const { iam, ssm } = deps.clients
  const changes = await reconcile(
    [
      oidcProvider(iam, plan.providerArn),
      githubRole(iam, plan, githubTrustPolicy(plan.providerArn, plan.subject), options.repo),
      inlinePolicy(iam, plan, githubRolePolicy(options, deps.account)),
      tokenParameter(ssm, plan.tokenParameter, deps.tokens),
    ],
    { apply: run.dryRun !== true, ...(deps.onChange ? { onChange: deps.onChange } : {}) },
  )
  return { plan, changes }
}
