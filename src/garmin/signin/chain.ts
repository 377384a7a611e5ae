/**
 * The sign-in strategies in python-garminconnect's order (docs/garmin-api.md "Login"):
 * mobile (impersonated TLS), mobile, the SSO embed widget, portal (impersonated), portal. Each result is
 * checked with socialProfile; a 401/403/429, a challenge or an outage moves on to the next strategy, a
 * wrong password or a locked account stops at once. One pass per command, one line per strategy, never a secret.
 * A verification code ends the chain: it belongs to the session that asked for it, which is either
 * finished here (prompt, --mfa-code) or kept as a pending sign-in for the next process.
 */
import { GarminS3Error } from '../../errors.js'
import {
  AccountLockedError,
  type AuthContext,
  type DiTokens,
  exchangeTicket,
  type LoginInput,
  WrongPasswordError,
} from '../auth.js'
import { CookieJar } from '../cookies.js'
import {
  AuthError,
  BotChallengeError,
  GarminUnavailableError,
  MfaRequiredError,
  RateLimitedError,
  signInAgain,
  UnexpectedResponseError,
} from '../errors.js'
import type { Transport } from '../http.js'
import { signInCommand } from '../sign-in-command.js'
import type { StoredTokens } from '../types.js'
import type { Flow, MfaNeeded, SsoSession, Ticket } from './flow.js'
import { mobileFlow } from './mobile.js'
import { PENDING_TTL_MS, type PendingSignin, type PendingStore } from './pending.js'
import { portalFlow } from './portal.js'
import { widgetFlow } from './widget.js'

/** Tries the interactive prompt allows in one session. */
const PROMPT_TRIES = 3

export interface Strategy {
  flow: Flow
  impersonated: boolean
  transport: Transport
  /** "mobile (impit)", "portal", ... */
  label: string
}

/** The five strategies, in order; those that need the impersonating transport only when there is one. */
export function strategies(plain: Transport, impersonated: Transport | undefined): Strategy[] {
  const all: [Flow, boolean][] = [
    [mobileFlow, true],
    [mobileFlow, false],
    [widgetFlow, true],
    [portalFlow, true],
    [portalFlow, false],
  ]
  const list: Strategy[] = []
  for (const [flow, imp] of all) {
    if (imp && !impersonated) continue
    list.push({
      flow,
      impersonated: imp,
      transport: imp && impersonated ? impersonated : plain,
      label: labelOf(flow.name, imp),
    })
  }
  return list
}

/** The labels of the strategies skipped without the impersonating transport. */
export const IMPERSONATED_LABELS = ['mobile (impit)', 'widget (impit)', 'portal (impit)']

function labelOf(flow: string, impersonated: boolean): string {
  return impersonated ? `${flow} (impit)` : flow
}

export interface SigninReport {
  strategies: { strategy: string; outcome: string }[]
}

export interface ChainOptions {
  ctx: AuthContext
  strategies: Strategy[]
  /** Said once before the first strategy, e.g. why the impersonated strategies are skipped. */
  note?: string | undefined
  /** Checks the new tokens with socialProfile and stores them; an AuthError means the API refused them. */
  adopt(tokens: DiTokens): Promise<StoredTokens>
  /** `resumeCommand`: what finishes the pending sign-in, `<code>` for the code. */
  pending?: { store: PendingStore; tokenStore: string; resumeCommand: string } | undefined
  log(line: string): void
  report: SigninReport
}

export async function signInWithChain(options: ChainOptions, input: LoginInput): Promise<StoredTokens> {
  const { ctx, log } = options
  if (options.note) log(`sign-in: ${options.note}`)
  const failures: GarminS3Error[] = []
  for (const strategy of options.strategies) {
    const session: SsoSession = { transport: strategy.transport, jar: new CookieJar(ctx.clock) }
    let started: Ticket | MfaNeeded
    try {
      started = await strategy.flow.start(ctx, session, input)
      if (started.kind === 'ticket') {
        const tokens = await finish(options, strategy, started)
        record(options, strategy, 'signed in')
        // An older sign-in that waited for its code is of no use any more.
        await options.pending?.store.clear()
        return tokens
      }
    } catch (error) {
      const outcome = outcomeOf(error)
      record(options, strategy, outcome.text)
      if (!outcome.moveOn) throw error
      failures.push(error as GarminS3Error)
      continue
    }
    record(options, strategy, `verification code sent by ${started.method}`)
    return completeMfa(options, strategy, session, started, input)
  }
  throw finalError(options, failures)
}

/** A code for the strategy that asked: the prompt (3 tries), a code given up front, or a pending file. */
async function completeMfa(
  options: ChainOptions,
  strategy: Strategy,
  session: SsoSession,
  mfa: MfaNeeded,
  input: LoginInput,
): Promise<StoredTokens> {
  const state = { ...mfa.state, method: mfa.method }
  if (input.promptMfa) {
    for (let attempt = 1; attempt <= PROMPT_TRIES; attempt++) {
      const code = (await input.promptMfa(mfa.method)).trim()
      const result = isCode(code) ? await strategy.flow.verify(options.ctx, session, state, code) : undefined
      if (result?.kind === 'ticket') return finish(options, strategy, result)
      const left = PROMPT_TRIES - attempt
      options.log(
        `sign-in: ${result ? 'Garmin did not accept that code' : 'a code is 4 to 10 digits'}${left > 0 ? ` (${left} ${left === 1 ? 'try' : 'tries'} left)` : ''}`,
      )
    }
    throw codeRefused(
      `Run \`${signInCommand(options.ctx.tokenStore)}\` again and enter the newest code Garmin sent.`,
    )
  }
  const code = input.mfaCode?.trim()
  if (code) {
    const result = isCode(code) ? await strategy.flow.verify(options.ctx, session, state, code) : undefined
    if (result?.kind === 'ticket') return finish(options, strategy, result)
  }
  if (!options.pending) throw new MfaRequiredError(mfa.method, options.ctx.tokenStore)
  const pending = await savePending(options, strategy, session, state)
  if (code) throw codeRefused(stillPending(pending, options.pending.resumeCommand))
  throw new AuthError(
    `Garmin asks for a verification code: a code was sent by ${mfa.method}; run ${options.pending.resumeCommand} within 10 minutes.`,
    {
      hint: `The sign-in waits in ${options.pending.store.location} (no password is kept); \`${signInCommand(options.ctx.tokenStore)}\` without --mfa-code starts over and Garmin sends a new code.`,
    },
  )
}

/**
 * `login --mfa-code` after a login that stopped at the code: goes on in that session. Undefined when
 * there is no pending sign-in (the caller then signs in afresh with the code).
 */
export async function resumePending(options: ChainOptions, code: string): Promise<StoredTokens | undefined> {
  const { ctx } = options
  const store = options.pending?.store
  const pending = await store?.load()
  if (!store || !pending) return undefined
  const again = signInCommand(ctx.tokenStore)
  const expiresAt = Date.parse(pending.expiresAt)
  if (pending.tokenStore !== options.pending?.tokenStore || pending.domain !== ctx.endpoints.domain) {
    throw new AuthError(
      `The pending sign-in in ${store.location} is for ${pending.tokenStore} (${pending.domain}), not this token store.`,
      {
        hint: `Pass the same --token-store and --domain as the login that sent the code, or run \`${again}\` again.`,
      },
    )
  }
  if (ctx.clock.now() >= expiresAt) {
    await store.clear()
    throw new AuthError(
      `The pending sign-in expired at ${pending.expiresAt} (Garmin keeps a code's session for 10 minutes).`,
      { hint: `Run \`${again}\` again to get a new code.` },
    )
  }
  const strategy = options.strategies.find(
    (s) => s.flow.name === pending.flow && s.impersonated === pending.impersonated,
  )
  if (!strategy) {
    throw new AuthError(
      `The pending sign-in used ${pending.flow}${pending.impersonated ? ' over impit' : ''}, which is not available in this run.`,
      {
        hint: `Run with the same --transport as the login that sent the code, or run \`${again}\` again.`,
      },
    )
  }
  const session: SsoSession = {
    transport: strategy.transport,
    jar: CookieJar.from(pending.cookies, ctx.clock),
  }
  const state = { ...pending.state }
  let result: Ticket | { kind: 'wrong' }
  try {
    result = isCode(code.trim())
      ? await strategy.flow.verify(ctx, session, state, code.trim())
      : { kind: 'wrong' }
  } catch (error) {
    if (error instanceof AuthError) await store.clear()
    throw error
  }
  if (result.kind === 'wrong') {
    const kept = await savePending(options, strategy, session, state, pending.expiresAt)
    throw codeRefused(
      stillPending(
        kept,
        options.pending?.resumeCommand ?? signInCommand(ctx.tokenStore, '--mfa-code <code>'),
      ),
    )
  }
  const tokens = await finish(options, strategy, result)
  await store.clear()
  record(options, strategy, 'signed in with the verification code')
  return tokens
}

async function finish(options: ChainOptions, strategy: Strategy, ticket: Ticket): Promise<StoredTokens> {
  const di = await exchangeTicket(options.ctx, strategy.transport, ticket.ticket, ticket.service)
  try {
    return await options.adopt(di)
  } catch (error) {
    if (error instanceof AuthError || error instanceof BotChallengeError) throw new TokenRefused(error)
    throw error
  }
}

/** The API did not accept a token a strategy got: the next strategy may get one it does. */
class TokenRefused extends AuthError {
  constructor(readonly refusal: GarminS3Error) {
    super(refusal.message, { hint: refusal.hint, cause: refusal })
    this.name = 'AuthError'
  }
}

async function savePending(
  options: ChainOptions,
  strategy: Strategy,
  session: SsoSession,
  state: Record<string, string>,
  expiresAt = new Date(options.ctx.clock.now() + PENDING_TTL_MS).toISOString(),
): Promise<PendingSignin> {
  const target = options.pending
  if (!target) throw new MfaRequiredError(state.method ?? 'email', options.ctx.tokenStore)
  const pending: PendingSignin = {
    version: 1,
    tokenStore: target.tokenStore,
    domain: options.ctx.endpoints.domain,
    strategy: strategy.label,
    flow: strategy.flow.name,
    impersonated: strategy.impersonated,
    method: state.method ?? 'email',
    state,
    cookies: session.jar.toJSON(),
    expiresAt,
  }
  await target.store.save(pending)
  return pending
}

function stillPending(pending: PendingSignin, resumeCommand: string): string {
  return `The sign-in is still pending until ${pending.expiresAt}: run \`${resumeCommand}\` with the code Garmin sent by ${pending.method}.`
}

function codeRefused(hint: string): AuthError {
  return new AuthError('Garmin did not accept the verification code.', { hint })
}

const isCode = (code: string) => /^\d{4,10}$/.test(code)

function record(options: ChainOptions, strategy: Strategy, outcome: string): void {
  options.report.strategies.push({ strategy: strategy.label, outcome })
  options.log(`sign-in: ${strategy.label}: ${outcome}`)
}

/** The log line's outcome for a failed strategy, and whether the next strategy may still work. */
function outcomeOf(error: unknown): { text: string; moveOn: boolean } {
  const message = error instanceof Error ? error.message : String(error)
  const status = /HTTP (\d{3})/.exec(message)?.[1]
  const http = status ? ` (HTTP ${status})` : ''
  if (error instanceof WrongPasswordError) return { text: 'wrong email or password', moveOn: false }
  if (error instanceof AccountLockedError) return { text: 'account locked', moveOn: false }
  if (error instanceof TokenRefused) return { text: `token refused by the API${http}`, moveOn: true }
  if (error instanceof RateLimitedError) return { text: `rate-limited${http || ' (429)'}`, moveOn: true }
  if (error instanceof BotChallengeError) {
    const kind = /captcha/i.test(message)
      ? 'captcha'
      : /challenge page/.test(message)
        ? 'challenge page'
        : `HTTP ${status ?? 403}`
    return { text: `bot challenge (${kind})`, moveOn: true }
  }
  if (error instanceof GarminUnavailableError) return { text: `unavailable${http}`, moveOn: true }
  if (error instanceof UnexpectedResponseError) return { text: `unexpected answer${http}`, moveOn: true }
  if (error instanceof AuthError) return { text: `refused${http}`, moveOn: true }
  return { text: `stopped: ${error instanceof GarminS3Error ? error.name : 'error'}`, moveOn: false }
}

/** After every strategy failed: rate-limited if all were, else the last challenge, else the last failure. */
function finalError(options: ChainOptions, failures: GarminS3Error[]): GarminS3Error {
  const last = failures.at(-1)
  if (!last)
    return new AuthError('No sign-in strategy is available.', { hint: signInAgain(options.ctx.tokenStore) })
  if (failures.every((f) => f instanceof RateLimitedError)) return last
  const challenge = failures.findLast((f) => f instanceof BotChallengeError)
  return challenge ?? (last instanceof TokenRefused ? last.refusal : last)
}
