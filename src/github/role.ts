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
  GetOpenIDConnectProviderCommand,
  type IAMClient,
} from '@aws-sdk/client-iam'
import type { SSMClient } from '@aws-sdk/client-ssm'
import { resourceNames } from '../deploy/options.js'
import { type AnyResource, type Change, differences, orAbsent, reconcile, resource } from '../deploy/plan.js'
import { executionPolicy, type PolicyDocument } from '../deploy/policy.js'
import {
  type AwsAccount,
  arns,
  iamInlinePolicy,
  iamRole,
  MANAGED_BY_TAG,
  tokenParameter,
} from '../deploy/resources.js'
import type { StoredTokens } from '../garmin/types.js'
import type { GitHubRepo } from './validate.js'

const GITHUB_OIDC_HOST = 'token.actions.githubusercontent.com'
const GITHUB_OIDC_URL = `https://${GITHUB_OIDC_HOST}`
const STS_AUDIENCE = 'sts.amazonaws.com'

/** The `sub` claim GitHub puts in the OIDC token of a job running on `branch` (schedules run on the default branch). */
function githubSubject(repo: GitHubRepo, branch: string): string {
  return `repo:${repo.owner}/${repo.name}:ref:refs/heads/${branch}`
}

function oidcProviderArn(account: Pick<AwsAccount, 'partition' | 'accountId'>): string {
  return `arn:${account.partition}:iam::${account.accountId}:oidc-provider/${GITHUB_OIDC_HOST}`
}

function roleArn(account: Pick<AwsAccount, 'partition' | 'accountId'>, roleName: string): string {
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

interface GitHubRoleClients {
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
  // The role GitHub Actions assumes: `garmin-s3-github` for the default `--name`.
  const roleName = names.githubRole
  return {
    providerArn: oidcProviderArn(account),
    roleName,
    roleArn: roleArn(account, roleName),
    policyName: names.executionPolicy,
    subject: githubSubject(options.repo, options.branch),
    tokenParameter: names.tokenParameter,
  }
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
      differences(
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
  run: { dryRun?: boolean; adopt?: boolean } = {},
): Promise<{ plan: GitHubRolePlan; changes: Change[] }> {
  const plan = planGitHubRole(options, deps.account)
  const { iam, ssm } = deps.clients
  const { repo } = options
  // Everything is wanted, so nothing is ever removed: this command never deletes anything.
  const changes = await reconcile(
    [
      oidcProvider(iam, plan.providerArn),
      iamRole(
        iam,
        plan.roleName,
        true,
        githubTrustPolicy(plan.providerArn, plan.subject),
        `garmin-s3: GitHub Actions in ${repo.owner}/${repo.name} sync as this role`,
        { deployment: options.name, inline: [plan.policyName] },
      ),
      iamInlinePolicy(iam, plan.roleName, plan.policyName, true, githubRolePolicy(options, deps.account)),
      // Rotated by the workflow, or by a Lambda deployed under the same --name.
      tokenParameter(
        ssm,
        plan.tokenParameter,
        deps.tokens,
        {
          rotation: 'rotated on refresh',
          kept: 'it holds the same or newer tokens',
          createdBy: 'init-github-actions',
        },
        options.name,
      ),
    ],
    {
      apply: run.dryRun !== true,
      deployment: options.name,
      adopt: run.adopt === true,
      ...(deps.onChange ? { onChange: deps.onChange } : {}),
    },
  )
  return { plan, changes }
}
