/**
 * What `garmin-s3 login` and `logout` do, apart from flag parsing and printing: pick the token store,
 * the endpoints and the transport, get the credentials (environment or hidden prompt, never a flag),
 * sign in or import, and describe the result without any secret.
 */
import { readFile, stat } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Clock } from '../clock.js'
import { UsageError } from '../errors.js'
import { GarminClient, type GarminClientOptions } from './client.js'
import { resolveEndpoints } from './endpoints.js'
import type { Transport } from './http.js'
import { issuerDomain, refreshDueAt } from './jwt.js'
import { signInCommand } from './sign-in-command.js'
import { FilePendingStore, PENDING_FILE } from './signin/pending.js'
import { IMPORT_HINT, type ImportedTokens, parseTokenImport } from './token-format.js'
import { defaultTokenPath, FileTokenStore, type FileTokenStoreOptions, openTokenStore } from './tokens.js'
import { type ImpitImporter, signinTransports, type TransportName } from './transport.js'
import type { StoredTokens, TokenStore } from './types.js'

export interface LoginOptions {
  email?: string | undefined
  mfaCode?: string | undefined
  /** A file, a folder holding garmin_tokens.json, or `-` for standard input. */
  importFrom?: string | undefined
  tokenStore?: string | undefined
  domain?: string | undefined
  transport?: TransportName | undefined
  /** Overwrite a file at the token path that is not a token file. */
  force?: boolean | undefined
}

/** Everything login needs from the outside world; the command passes the real ones, tests their own. */
export interface LoginIo {
  env: NodeJS.ProcessEnv
  /** True when a person can answer prompts (stdin and stdout are terminals). */
  interactive: boolean
  promptEmail(): Promise<string>
  promptPassword(): Promise<string>
  promptMfa(method: string): Promise<string>
  readStdin(): Promise<string>
  clock?: Clock
  /** Replaces the data transport (tests); the login transport still follows `--transport`. */
  transport?: Transport
  /** One line per sign-in strategy (stderr); never a secret. */
  log?: (line: string) => void
  /** Replaces `import('impit')` (tests: a platform where impit cannot load). */
  importImpit?: ImpitImporter
  /**
   * For a token file, and the file that keeps a sign-in waiting for its code: replaces their
   * file-system seams (tests: a folder that refuses new files).
   */
  tokenStoreOptions?: FileTokenStoreOptions
}

export interface LoginResult {
  displayName: string
  domain: string
  /** Where the tokens are stored (a path or `ssm:/...`). */
  tokenStore: string
  /** ISO 8601: when the access token expires. */
  accessTokenExpiresAt: string
  /** ISO 8601: from when garmin-s3 refreshes it (15 minutes earlier). */
  refreshDueAt: string
  /** How the tokens were obtained. */
  source: 'login' | 'import:python-garminconnect' | 'import:garmin-s3'
  /** HTTP requests this command sent to Garmin. */
  requests: number
  /** Sign-in only: each strategy tried, in order, and how it ended. */
  strategies?: { strategy: string; outcome: string }[]
}

export async function runLogin(options: LoginOptions, io: LoginIo): Promise<LoginResult> {
  const tokenStore = openTokenStore(options.tokenStore, io.env, io.tokenStoreOptions)
  // Before any request: a store that cannot take the tokens must not cost a rate-limited sign-in.
  await tokenStore.checkWritable?.({ force: options.force === true })
  if (options.importFrom !== undefined) {
    if (options.mfaCode !== undefined) throw new UsageError('--mfa-code has no use with --import.')
    const imported = await readTokenImport(options.importFrom, io)
    // Without --domain or GARMIN_DOMAIN, the domain is the one that issued the token (its `iss`).
    const issuer = issuerDomain(imported.stored?.accessToken ?? imported.accessToken)
    const endpoints = resolveEndpoints({
      domain: options.domain ?? (io.env.GARMIN_DOMAIN ? undefined : issuer),
      env: io.env,
    })
    const client = new GarminClient({
      tokenStore,
      endpoints,
      ...(io.transport ? { transport: io.transport } : {}),
      ...(io.clock ? { clock: io.clock } : {}),
    })
    const tokens = await client.importTokens(imported)
    return describe(tokens, tokenStore.location, `import:${imported.format}`, requestsOf(client))
  }

  const endpoints = resolveEndpoints({ domain: options.domain, env: io.env })
  const pendingSignins = new FilePendingStore(pendingSigninPath(tokenStore, io.env), tokenStore, {
    openExclusive: io.tokenStoreOptions?.openExclusive,
  })
  // Without a terminal a verification code can only be finished from the pending file, and whether
  // Garmin asks for one is known only after the password was sent: so the folder that keeps it is
  // checked before any request. A terminal's prompt keeps nothing; beside a token file, the folder is
  // the token folder, checked above the same way; an SSM store's is the local config folder.
  if (!io.interactive && !(tokenStore instanceof FileTokenStore)) {
    await pendingSignins.checkWritable()
  }
  const client = new GarminClient({
    tokenStore,
    endpoints,
    ...(await signinOptions(options.transport ?? 'auto', io.importImpit)),
    pendingSignins,
    resumeCommand: resumeCommand(options, tokenStore),
    ...(io.log ? { log: io.log } : {}),
    ...(io.transport ? { transport: io.transport } : {}),
    ...(io.clock ? { clock: io.clock } : {}),
  })
  // A code given for a sign-in that waits for it goes on in that session: no new code, no password.
  let tokens = options.mfaCode === undefined ? undefined : await client.resumeLogin(options.mfaCode)
  if (!tokens) {
    const email = options.email?.trim() || io.env.GARMIN_EMAIL?.trim()
    const password = io.env.GARMIN_PASSWORD
    // --mfa-code alone, with nobody to ask for the rest, meant to finish a sign-in that is not there.
    if (options.mfaCode !== undefined && !io.interactive && !(email && password)) {
      throw nothingPending(pendingSignins, tokenStore)
    }
    tokens = await client.login({
      email: email || (await askEmail(io)),
      password: password || (await askPassword(io, tokenStore)),
      mfaCode: options.mfaCode,
      // Without a terminal there is nobody to ask: the session is kept for `login --mfa-code` (exit 3).
      promptMfa: io.interactive ? (method) => io.promptMfa(method) : undefined,
    })
  }
  return {
    ...describe(tokens, tokenStore.location, 'login', requestsOf(client)),
    strategies: client.signinReport().strategies,
  }
}

/**
 * The client options for the sign-in transports: the browser-like TLS strategies run on impit, the
 * plain ones on fetch. `auto` uses impit where it loads and otherwise says once that it is skipped.
 */
export async function signinOptions(
  transport: TransportName,
  importImpit?: ImpitImporter,
): Promise<Pick<GarminClientOptions, 'loginTransport' | 'impersonatedTransport' | 'impersonationNote'>> {
  const chosen = await signinTransports(transport, importImpit)
  return {
    loginTransport: chosen.plain,
    ...(chosen.impersonated ? { impersonatedTransport: chosen.impersonated } : {}),
    ...(chosen.note ? { impersonationNote: chosen.note } : {}),
  }
}

/**
 * The command that finishes a sign-in left waiting for its code: the same token store (it decides
 * where the pending file is and which store it is for; whether that needs --token-store is the
 * store's to say), domain and transport (its session's strategy must be among the next run's).
 */
function resumeCommand(options: LoginOptions, store: TokenStore): string {
  let command = signInCommand(store, '--mfa-code <code>')
  if (options.domain) command += ` --domain ${options.domain}`
  if (options.transport && options.transport !== 'auto') command += ` --transport ${options.transport}`
  return command
}

/**
 * Where a sign-in waiting for its code is kept: beside a token file, or, for an SSM token store, in the
 * local config folder (the code is entered on this machine; the parameter is for the scheduled runs).
 */
function pendingSigninPath(store: TokenStore, env: NodeJS.ProcessEnv): string {
  const beside = store instanceof FileTokenStore ? store.path : defaultTokenPath(env)
  return join(dirname(beside), PENDING_FILE)
}

/** `login --mfa-code` without a terminal or credentials, and no sign-in waiting for a code: exit 2. */
function nothingPending(pending: FilePendingStore, store: TokenStore): UsageError {
  return new UsageError(
    `There is no pending sign-in for --mfa-code to finish: none waits in ${pending.location} (one that finished or was signed out leaves nothing).`,
    {
      hint: `Run \`${signInCommand(store)}\` to start one (in a terminal, or with GARMIN_EMAIL and GARMIN_PASSWORD set); without a terminal it prints the \`--mfa-code\` command that finishes it with the new code Garmin sends. Nothing was sent to Garmin.`,
    },
  )
}

function requestsOf(client: GarminClient): number {
  return Object.values(client.stats().requests).reduce((a, b) => a + b, 0)
}

/**
 * A deployment signs in to Garmin itself, so tokens a simulator issued (GARMIN_S3_GARMIN_URL set, as
 * after the README's try-it block) are refused for a deployment into a real AWS account: Garmin would
 * reject them on the first scheduled run, and the local file would already point at them. With an AWS
 * emulator as well (AWS_ENDPOINT_URL or AWS_ENDPOINT_URL_SSM set) the whole set-up is a test, and goes
 * ahead. Checked before anything is read or sent.
 */
export function refuseSimulatorSession(env: NodeJS.ProcessEnv, command: string): void {
  const simulator = env.GARMIN_S3_GARMIN_URL?.trim()
  if (!simulator || env.AWS_ENDPOINT_URL?.trim() || env.AWS_ENDPOINT_URL_SSM?.trim()) return
  throw new UsageError(
    `GARMIN_S3_GARMIN_URL is set (${simulator}): ${command} would hand that simulator's tokens to a deployment in AWS, which signs in to Garmin itself and would be refused.`,
    {
      hint: 'Unset GARMIN_S3_GARMIN_URL and GARMIN_S3_TOKEN_STORE (the try-it block exports both), run `garmin-s3 login` with your Garmin account, then run this again.',
    },
  )
}

/**
 * Proves stored tokens still work with one `socialProfile` call before they are handed to a
 * deployment (a refresh, if one is due, is saved back where the tokens are). Exit 3 when Garmin
 * refuses them.
 */
export async function checkSession(store: TokenStore, env: NodeJS.ProcessEnv): Promise<void> {
  const stored = await store.load()
  const endpoints = resolveEndpoints({ ...(stored ? { domain: stored.domain } : {}), env })
  await new GarminClient({ tokenStore: store, endpoints }).profile()
}

/** What `logout` removed: the tokens (or the pointer to a deployment's), and a pending sign-in. */
export interface LogoutResult {
  tokenStore: string
  removed: boolean
  pointer?: string
  pendingSignin?: string
}

export async function runLogout(
  options: { tokenStore?: string | undefined; force?: boolean | undefined },
  env: NodeJS.ProcessEnv,
): Promise<LogoutResult> {
  const store = openTokenStore(options.tokenStore, env)
  // A pointer file is removed; the deployment's tokens it points to stay (destroy removes them).
  const pointer = (await store.pointer?.())?.store
  const removed = (await store.clear({ force: options.force === true })) !== false
  // A sign-in left waiting for its MFA code holds Garmin's session cookies: with the code they
  // would still finish it, so signing out removes it too.
  const pending = new FilePendingStore(pendingSigninPath(store, env), store)
  const pendingRemoved = await pending.clear()
  return {
    tokenStore: store.location,
    removed,
    ...(pointer ? { pointer } : {}),
    ...(pendingRemoved ? { pendingSignin: pending.location } : {}),
  }
}

function describe(
  tokens: StoredTokens,
  location: string,
  source: LoginResult['source'],
  requests: number,
): LoginResult {
  return {
    // An account without a display name is named by its profile id.
    displayName: tokens.displayName || (tokens.profileId === undefined ? '' : `profile ${tokens.profileId}`),
    domain: tokens.domain,
    tokenStore: location,
    accessTokenExpiresAt: tokens.expiresAt,
    refreshDueAt: new Date(refreshDueAt(Date.parse(tokens.expiresAt))).toISOString(),
    source,
    requests,
  }
}

async function askEmail(io: LoginIo): Promise<string> {
  if (!io.interactive) {
    throw new UsageError('No Garmin email given.', { hint: 'Pass --email or set GARMIN_EMAIL.' })
  }
  const email = (await io.promptEmail()).trim()
  if (!email) throw new UsageError('No Garmin email given.', { hint: 'Pass --email or set GARMIN_EMAIL.' })
  return email
}

async function askPassword(io: LoginIo, store: TokenStore): Promise<string> {
  if (!io.interactive) {
    throw new UsageError('No Garmin password given, and there is no terminal to ask for it.', {
      hint: `Set GARMIN_PASSWORD in the environment, or run \`${signInCommand(store)}\` in a terminal.`,
    })
  }
  const password = await io.promptPassword()
  if (!password) throw new UsageError('No Garmin password given.')
  return password
}

/** Reads `--import`: `-` (stdin), a token file, or a folder holding python-garminconnect's garmin_tokens.json. */
export async function readTokenImport(
  source: string,
  io: Pick<LoginIo, 'readStdin' | 'env'>,
): Promise<ImportedTokens> {
  if (source === '-') return parseTokenImport(await io.readStdin(), 'standard input')
  const home = io.env.HOME || homedir()
  let path = source === '~' ? home : source.startsWith('~/') ? join(home, source.slice(2)) : source
  let text: string
  try {
    if ((await stat(path)).isDirectory()) path = join(path, 'garmin_tokens.json')
    text = await readFile(path, 'utf8')
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    throw new UsageError(`Cannot read ${path} (${code ?? (error as Error).message}).`, { hint: IMPORT_HINT })
  }
  return parseTokenImport(text, path)
}
