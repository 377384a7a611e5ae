/**
 * `init github-actions` as a library call: check every input, optionally create the AWS side
 * (--create-role), then write the workflow file. Refuses to replace a different workflow without
 * `force` before anything in AWS is touched; a rerun with the same inputs changes nothing.
 */
import { mkdir, readFile, stat } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { AwsClients } from '../aws/clients.js'
import { clientRegion, regionFromEnv } from '../aws/region.js'
import { discoverAccount } from '../deploy/index.js'
import { resourceNames, validateName } from '../deploy/options.js'
import type { Change } from '../deploy/plan.js'
import { deploymentSession, type SessionMove } from '../deploy/session.js'
import { GarminS3Error, UsageError } from '../errors.js'
import { replaceFile } from '../files.js'
import { SsmTokenStore } from '../garmin/tokens.js'
import type { GarminDomain, TokenStore } from '../garmin/types.js'
import { validateBucketName, validatePolicyPrefix } from '../store/target.js'
import { ensureGitHubRole, type GitHubRolePlan, planGitHubRole } from './role.js'
import {
  validateBranch,
  validateCron,
  validatePackageSpec,
  validateRegion,
  validateRepo,
  validateRoleArn,
  validateTimezone,
} from './validate.js'
import { renderSyncWorkflow, type SyncWorkflowInput, WORKFLOW_FILE, WORKFLOW_PATH } from './workflow.js'

export interface InitOptions {
  /** The repository's root folder; the workflow goes to `<dir>/.github/workflows/`. */
  dir: string
  name: string
  bucket: string
  /** Normalised `a/b/` form (validatePrefix). */
  prefix: string
  controlPrefix: string
  region?: string | undefined
  /** The bucket's region when it differs from `region` (passed to sync as --region). */
  bucketRegion?: string | undefined
  /** Required unless `createRole` is given. */
  roleArn?: string | undefined
  cron: string
  timezone?: string | undefined
  domain?: GarminDomain | undefined
  force?: boolean
  dryRun?: boolean
  /** Take over same-named resources garmin-s3 did not make (`--adopt`). */
  adopt?: boolean
  /** With --create-role: keep the local session local; the parameter needs a login of its own. */
  keepLocal?: boolean
  /** `--no-issue`: the workflow opens no issue when a run fails. */
  noIssue?: boolean
  createRole?: { repo: string; branch: string } | undefined
  /** This package's version, written into the workflow's header. */
  packageVersion: string
  /** What the workflow installs (`--package`); default `garmin-s3@<packageVersion>`. */
  packageSpec?: string | undefined
}

export interface InitDeps {
  /** AWS clients, built only for --create-role. */
  clients?: () => AwsClients
  /** The local login whose session --create-role moves into the parameter. */
  tokenStore?: TokenStore
  /** One Garmin call proving the tokens work before they are seeded. */
  checkTokens?: (store: TokenStore) => Promise<void>
  env?: NodeJS.ProcessEnv
  onChange?: (change: Change) => void
}

export interface InitResult {
  /** Absolute path of the workflow file. */
  path: string
  /** `.github/workflows/garmin-s3-sync.yml` */
  relativePath: string
  /** What happened (or, with dryRun, would happen) to the file. */
  file: 'create' | 'update' | 'unchanged'
  dryRun: boolean
  roleArn: string
  region: string
  bucket: string
  prefix: string
  tokenParameter: string
  /** With --create-role: where the local commands' tokens are after this run (deploy/session.ts). */
  session: SessionMove | null
  schedule: { cron: string; timezone: string | null }
  packageVersion: string
  /** What the workflow runs with npx. */
  packageSpec: string
  /** The file differs and only --force replaces it (a dry run shows it instead of refusing). */
  needsForce: boolean
  /** Set with --create-role. */
  github: { repo: string; branch: string; subject: string; providerArn: string } | null
  /** AWS resources (with --create-role) then the workflow file. */
  changes: Change[]
  /** The workflow text, on a dry run (nothing is written). */
  workflow?: string
  warnings: string[]
  nextSteps: string[]
}

function workflowChange(action: InitResult['file'], force: boolean, needsForce: boolean): Change {
  return {
    resource: 'workflow-file',
    name: WORKFLOW_PATH,
    action,
    fields: action === 'update' ? ['content'] : [],
    ...(action === 'update' && force ? { note: '--force' } : {}),
    ...(needsForce ? { note: 'differs: replaced only with --force' } : {}),
  }
}

async function existing(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new GarminS3Error(`Cannot read ${path}: ${(error as Error).message}`, { cause: error })
  }
}

async function writeAtomically(path: string, content: string): Promise<void> {
  try {
    await mkdir(resolve(path, '..'), { recursive: true })
    await replaceFile(path, content)
  } catch (error) {
    throw new GarminS3Error(`Cannot write ${path}: ${(error as Error).message}`, { cause: error })
  }
}

async function checkDir(dir: string): Promise<string[]> {
  let isDir = false
  try {
    isDir = (await stat(dir)).isDirectory()
  } catch {
    isDir = false
  }
  if (!isDir) {
    throw new UsageError(`--dir ${dir} is not a folder`, {
      hint: 'Run it from your repository root, or pass --dir <path to the repository>.',
    })
  }
  const hasGit = await stat(join(dir, '.git')).then(
    () => true,
    () => false,
  )
  return hasGit
    ? []
    : [
        `${dir} is not the root of a git repository: GitHub only runs workflows from <repo root>/.github/workflows/.`,
      ]
}

function regionFrom(options: InitOptions, env: NodeJS.ProcessEnv): string {
  const region = regionFromEnv(options.region, env)
  if (!region) {
    throw new UsageError('No AWS region: the workflow needs one for aws-region', {
      hint: 'Pass --region (e.g. --region us-east-1), the region of your bucket and token parameter.',
    })
  }
  return validateRegion(region)
}

export async function initGitHubActions(options: InitOptions, deps: InitDeps = {}): Promise<InitResult> {
  const env = deps.env ?? process.env
  // Everything a user can get wrong is checked before any file or AWS call.
  const name = validateName(options.name)
  const bucket = validateBucketName(options.bucket)
  const prefix = validatePolicyPrefix(options.prefix)
  const cron = validateCron(options.cron)
  const packageSpec = validatePackageSpec(options.packageSpec ?? `garmin-s3@${options.packageVersion}`)
  const timezone = options.timezone === undefined ? undefined : validateTimezone(options.timezone)
  const bucketRegion = options.bucketRegion === undefined ? undefined : validateRegion(options.bucketRegion)
  const create = options.createRole && {
    repo: validateRepo(options.createRole.repo),
    branch: validateBranch(options.createRole.branch),
  }
  if (!create && !options.roleArn) {
    throw new UsageError('--role-arn is required (or --create-role --repo owner/name)', {
      hint: 'Pass the ARN of a role GitHub Actions may assume, or let garmin-s3 create one with --create-role --repo owner/name.',
    })
  }
  const givenRoleArn = create ? undefined : validateRoleArn(options.roleArn ?? '')
  const dir = resolve(options.dir)
  const warnings = await checkDir(dir)
  const path = join(dir, WORKFLOW_PATH)
  const force = options.force === true
  const dryRun = options.dryRun === true
  const tokenParameter = resourceNames(name).tokenParameter

  let region: string
  let domain = options.domain
  let role: { arn: string; plan?: GitHubRolePlan; apply?: () => Promise<Change[]> }
  let sessionMove: SessionMove | undefined
  let finishSession: () => Promise<void> = async () => {}
  if (create) {
    if (!deps.clients) throw new Error('initGitHubActions: --create-role needs AWS clients')
    if (!deps.tokenStore) throw new Error('initGitHubActions: --create-role needs the local token store')
    const clients = deps.clients()
    // The workflow refreshes the tokens in the parameter: the local session moves there (session.ts).
    const session = await deploymentSession({
      local: deps.tokenStore,
      parameter: tokenParameter,
      keepLocal: options.keepLocal === true,
      openParameter: () => new SsmTokenStore(tokenParameter, clients.ssm),
      ...(deps.checkTokens ? { check: deps.checkTokens } : {}),
      command: 'init github-actions --create-role',
      region: () => clientRegion(clients.lambda),
    })
    const tokens = session.tokens
    sessionMove = session.move
    if (domain && domain !== tokens.domain) {
      throw new UsageError(`--domain ${domain} does not match your login (${tokens.domain})`, {
        hint: 'Leave --domain out: it is taken from the login.',
      })
    }
    domain = tokens.domain
    const account = await discoverAccount(clients)
    region = validateRegion(account.region)
    finishSession = () => session.finish(account.region)
    const roleOptions = {
      name,
      bucket,
      prefix,
      controlPrefix: options.controlPrefix,
      ...create,
    }
    // Read (and on a real run, apply) after the file check below.
    const apply = async () => {
      const { changes } = await ensureGitHubRole(
        roleOptions,
        { clients, account, tokens, ...(deps.onChange ? { onChange: deps.onChange } : {}) },
        { dryRun, adopt: options.adopt === true },
      )
      return changes
    }
    const plan = planGitHubRole(roleOptions, account)
    role = { arn: plan.roleArn, plan, apply }
  } else {
    region = regionFrom(options, env)
    role = { arn: givenRoleArn as string }
  }

  const input: SyncWorkflowInput = {
    packageVersion: options.packageVersion,
    packageSpec,
    name,
    bucket,
    prefix,
    region,
    bucketRegion,
    roleArn: role.arn,
    tokenParameter,
    cron,
    timezone,
    domain,
    noIssue: options.noIssue === true,
  }
  const content = renderSyncWorkflow(input)
  const current = await existing(path)
  const file: InitResult['file'] =
    current === undefined ? 'create' : current === content ? 'unchanged' : 'update'
  const needsForce = file === 'update' && !force
  // A dry run shows what --force would write instead of refusing: it is how to see the difference.
  if (needsForce && !dryRun) {
    throw new UsageError(`${WORKFLOW_PATH} already exists and differs from what garmin-s3 would write`, {
      hint: 'Rerun with --force to replace it (see what it would write first with --dry-run), or remove the file.',
    })
  }

  // reconcile() already turns SDK failures into errors with a next step.
  const awsChanges = role.apply ? await role.apply() : []
  if (!dryRun) await finishSession()
  if (!dryRun && file !== 'unchanged') await writeAtomically(path, content)
  const fileChange = workflowChange(file, force, needsForce)
  deps.onChange?.(fileChange)

  const result: InitResult = {
    path,
    relativePath: WORKFLOW_PATH,
    file,
    dryRun,
    roleArn: role.arn,
    region,
    bucket,
    prefix,
    tokenParameter,
    session: sessionMove ?? null,
    schedule: { cron, timezone: timezone ?? null },
    packageVersion: options.packageVersion,
    packageSpec,
    needsForce,
    github:
      create && role.plan
        ? {
            repo: `${create.repo.owner}/${create.repo.name}`,
            branch: create.branch,
            subject: role.plan.subject,
            providerArn: role.plan.providerArn,
          }
        : null,
    changes: [...awsChanges, fileChange],
    ...(dryRun ? { workflow: content } : {}),
    warnings,
    nextSteps: [],
  }
  result.nextSteps = nextSteps(result)
  return result
}

/** What the user still has to do, in order. */
function nextSteps(result: InitResult): string[] {
  const steps: string[] = []
  const rerun = result.github
    ? `garmin-s3 init github-actions --create-role --repo ${result.github.repo}`
    : 'garmin-s3 init github-actions'
  if (result.dryRun) {
    steps.push(
      result.needsForce
        ? `${result.relativePath} differs from this: rerun without --dry-run and with --force to replace it (${rerun} ... --force).`
        : `Rerun without --dry-run to apply this plan (${rerun} ...).`,
    )
  }
  if (!result.github) {
    steps.push(
      `Make sure the role ${result.roleArn} trusts GitHub's OIDC provider for this repository's default branch and may use s3://${result.bucket}/${result.prefix} and the SSM parameter ${result.tokenParameter} (or let garmin-s3 set it up: rerun with --create-role --repo owner/name).`,
      `Put your Garmin tokens in SSM once: garmin-s3 login --token-store ssm:${result.tokenParameter} (with AWS credentials for region ${result.region}).`,
    )
  }
  const branch = result.github?.branch ?? 'the default branch'
  if (result.file !== 'unchanged' || result.dryRun) {
    steps.push(
      `Commit and push the workflow to ${branch} (scheduled workflows run only there): git add ${result.relativePath} && git commit -m "Sync Garmin data on a schedule" && git push`,
    )
  }
  steps.push(
    `Run it once now and watch it: gh workflow run ${WORKFLOW_FILE} && gh run watch (or Actions tab -> garmin-s3 sync -> Run workflow).`,
    `In a public repository GitHub disables the schedule after 60 days without activity: re-enable it with gh workflow enable ${WORKFLOW_FILE} (or in the Actions tab).`,
  )
  return steps
}
