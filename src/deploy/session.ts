/**
 * One token chain per deployment. Garmin rotates the refresh token on every refresh and refuses the
 * old one, so two copies of one sign-in log each other out. `deploy` (and `init github-actions
 * --create-role`) therefore *move* the local session into the deployment's SSM parameter: the local
 * token file becomes a pointer to it, and local commands go on refreshing the same chain there. With
 * `--keep-local` the local sign-in stays local, and the deployment needs a login of its own.
 */
import { EXIT, GarminS3Error, UsageError } from '../errors.js'
import { noTokensNext } from '../garmin/errors.js'
import type { StoredTokens, TokenStore } from '../garmin/types.js'

/**
 * - `move`: the local tokens go into the parameter and the local store becomes a pointer to it;
 * - `already-moved`: the local store already points to the parameter;
 * - `separate`: `--keep-local`; the parameter holds a login of its own;
 * - `copy`: a store that can neither become a pointer nor is an SSM parameter (a library caller's own):
 *   the tokens are copied. An SSM parameter, or a pointer to another deployment's, is refused instead.
 */
export type SessionMove = 'move' | 'already-moved' | 'separate' | 'copy'

export interface DeploymentSession {
  tokens: StoredTokens
  move: SessionMove
  /** After the resources exist: rewrites the local store to the pointer (a `move` only). */
  finish(region: string): Promise<void>
}

export interface SessionInput {
  /** The local store named by --token-store. */
  local: TokenStore
  /** The deployment's parameter name, `/<name>/tokens`. */
  parameter: string
  keepLocal: boolean
  /** The parameter as a token store, on the deployment's AWS clients. */
  openParameter: () => TokenStore
  /** One call that proves the tokens still work (a refresh, if due, is saved where they are). */
  check?: (store: TokenStore) => Promise<void>
  /** For messages: the command and flags that seed the parameter, e.g. "deploy". */
  command: string
  /** The deployment's region; a pointer naming the same parameter in another region is refused. */
  region?: () => Promise<string>
}

/**
 * Exit 2 before anything is written: the local session already lives in another parameter (another
 * deployment's, or one given as --token-store). Copying it would make two chains of one sign-in, and
 * Garmin's rotating refresh token would log one of them out at the next refresh.
 */
function secondChain(input: SessionInput, where: string): UsageError {
  const target = `ssm:${input.parameter}`
  return new UsageError(
    `Your sign-in already lives in ${where}; ${input.command} will not copy it into ${target}: two copies of one sign-in log each other out at the next refresh`,
    {
      hint: `Give this deployment a login of its own: garmin-s3 login --token-store ${target} (with the same AWS credentials and region), then rerun ${input.command} with --keep-local (or --token-store ${target}). To move the deployment instead, remove the other one first (garmin-s3 destroy --name <its name> gives the session back).`,
    },
  )
}

export async function deploymentSession(input: SessionInput): Promise<DeploymentSession> {
  const target = `ssm:${input.parameter}`
  const pointer = await input.local.pointer?.()
  const sameStore = pointer?.store === target || input.local.location === target
  const noop = async () => undefined
  if (!input.keepLocal) {
    const via = `(${input.local.path ?? input.local.location} points there: a deploy moved it)`
    if (pointer && pointer.store !== target) throw secondChain(input, `${pointer.store} ${via}`)
    if (pointer?.region !== undefined && input.region) {
      const region = await input.region()
      if (pointer.region !== region) throw secondChain(input, `${pointer.store} in ${pointer.region} ${via}`)
    }
    if (!pointer && !sameStore && input.local.location.startsWith('ssm:') && !input.local.pointTo) {
      throw secondChain(input, `the SSM parameter ${input.local.location} (--token-store)`)
    }
  }

  if (sameStore || input.keepLocal) {
    const parameter = input.openParameter()
    const tokens = await parameter.load()
    if (!tokens) {
      throw sameStore
        ? new GarminS3Error(`${input.local.location} holds no Garmin tokens`, {
            exitCode: EXIT.auth,
            hint: `Sign the deployment in again. ${noTokensNext(parameter)} Then rerun ${input.command}.`,
          })
        : new UsageError(`--keep-local: the parameter ${input.parameter} holds no Garmin tokens yet`, {
            hint: `Give the deployment a login of its own, with the same AWS credentials and region. ${noTokensNext(parameter)} Then rerun ${input.command}.`,
          })
    }
    await input.check?.(parameter)
    return {
      tokens: (await parameter.load()) ?? tokens,
      move: sameStore ? 'already-moved' : 'separate',
      finish: noop,
    }
  }

  const tokens = await input.local.load()
  if (!tokens) {
    throw new GarminS3Error(`No Garmin tokens in ${input.local.location}: run garmin-s3 login first`, {
      exitCode: EXIT.auth,
      hint: `${noTokensNext(input.local)} ${input.command} then moves the session (never the password) into SSM.`,
    })
  }
  await input.check?.(input.local)
  const checked = (await input.local.load()) ?? tokens
  const pointTo = input.local.pointTo?.bind(input.local)
  if (!pointTo) return { tokens: checked, move: 'copy', finish: noop }
  return { tokens: checked, move: 'move', finish: (region) => pointTo(target, region) }
}

/**
 * The reverse of a `move`, for destroy: when the local store points to the deployment's parameter (its
 * name and region), the tokens are read before the parameter goes and written back into the local file
 * once it is gone, so this machine stays signed in (a new sign-in is the step Garmin makes hardest).
 * Undefined when the local store does not point there (a --keep-local deployment, another store or
 * region) or the parameter cannot be read: destroy goes ahead, and a local command then asks for login.
 */
export async function returningSession(
  local: TokenStore,
  parameter: { name: string; region: string; open: () => TokenStore },
): Promise<{ to: string; finish(): Promise<void> } | undefined> {
  const takeBack = local.takeBack?.bind(local)
  if (!takeBack) return undefined
  try {
    const pointer = await local.pointer?.()
    if (pointer?.store !== `ssm:${parameter.name}`) return undefined
    if (pointer.region !== undefined && pointer.region !== parameter.region) return undefined
    const tokens = await parameter.open().load()
    return tokens ? { to: local.path ?? local.location, finish: () => takeBack(tokens) } : undefined
  } catch {
    return undefined
  }
}

/** One line for the summary: where the local commands' tokens are after this run. */
export function sessionNote(move: SessionMove, parameter: string, dryRun: boolean): string {
  const target = `ssm:${parameter}`
  switch (move) {
    case 'move':
      return dryRun
        ? `Sign-in: would move your local session into ${target}; local commands would use it from there.`
        : `Sign-in: moved your local session into ${target}; local commands now use it from there (one token chain). garmin-s3 logout removes only the local pointer.`
    case 'already-moved':
      return `Sign-in: your local commands already use ${target}.`
    case 'separate':
      return `Sign-in: the deployment uses its own login in ${target}; your local sign-in stays local (--keep-local).`
    case 'copy':
      return `Sign-in: copied the tokens into ${target}. Two copies of one sign-in log each other out: use ${target} only from the deployment.`
  }
}
