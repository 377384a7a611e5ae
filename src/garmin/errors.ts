/**
 * What can go wrong talking to Garmin, each with the exit code of ARCHITECTURE.md "Exit codes" and one next step for the
 * user. Messages name endpoints by path only: never a token, a password or a query string.
 */
import { EXIT, GarminS3Error, type GarminS3ErrorOptions, UsageError } from '../errors.js'
import { type NamedStore, signInCommand } from './sign-in-command.js'
import type { TokenStore } from './types.js'

type Options = Omit<GarminS3ErrorOptions, 'exitCode'>

/** Only for an AuthError made where no token store is known (a library caller's): src/garmin/ names the store. */
const LOGIN_AGAIN = 'Run `garmin-s3 login` to sign in again.'
export const LOGIN_BACKOFF =
  'Wait about an hour before the next login and do not retry in a loop: every attempt extends the block.'

/** Wrong credentials, a refresh token Garmin no longer accepts, a token the API refuses: exit 3. */
export class AuthError extends GarminS3Error {
  constructor(message: string, options: Options = {}) {
    super(message, { hint: LOGIN_AGAIN, ...options, exitCode: EXIT.auth })
  }
}

/** The next step of an error that a new sign-in to `store` ends. */
export function signInAgain(store: NamedStore): string {
  return `Run \`${signInCommand(store)}\` to sign in again.`
}

/**
 * The next step when `store` holds no tokens (ask after its `load()`): its own, the command that signs
 * in to it with the --token-store that makes it the same store (signInCommand).
 */
export function noTokensNext(store: Pick<TokenStore, 'location' | 'storeFlag' | 'noTokensHint'>): string {
  return store.noTokensHint?.() ?? `Run \`${signInCommand(store)}\` first (or pass the right --token-store).`
}

/**
 * No tokens in `store` (exit 3), with the store's own next step (noTokensNext). `after`: a sentence the
 * caller adds.
 */
export function noTokensError(
  store: Pick<TokenStore, 'location' | 'storeFlag' | 'noTokensHint'>,
  after?: string,
): AuthError {
  const hint = noTokensNext(store)
  return new AuthError(`No Garmin tokens are stored at ${store.location}.`, {
    hint: after ? `${hint} ${after}` : hint,
  })
}

/** Garmin asks for a verification code and there is no way to ask the user for one: exit 3. */
export class MfaRequiredError extends GarminS3Error {
  /** `store`: the token store the sign-in is for (the commands of the hint sign in to it). */
  constructor(
    readonly method: string,
    store: NamedStore,
    options: Options = {},
  ) {
    super(
      `Garmin asks for the verification code it sent by ${method}, and there is no terminal to ask for it.`,
      {
        // Only a sign-in outside `login` gets here (sync with GARMIN_EMAIL/GARMIN_PASSWORD, the library):
        // `login` asks for the code, or keeps the sign-in for `login --mfa-code`.
        hint: `Run \`${signInCommand(store)}\` in a terminal, which asks for the code (without a terminal it keeps the sign-in for \`${signInCommand(store, '--mfa-code <code>')}\`), then run this again.`,
        ...options,
        exitCode: EXIT.auth,
      },
    )
  }
}

/** HTTP 429 that outlasted our waiting budget (data calls) or any 429 on login: exit 4. */
export class RateLimitedError extends GarminS3Error {
  /** How long Garmin asked us to wait (Retry-After), or 0 when it did not say. */
  readonly retryAfterMs: number
  constructor(message: string, options: Options & { retryAfterMs?: number } = {}) {
    super(message, {
      hint: 'Garmin is rate-limiting requests; wait a while and run again (the next run resumes where this one stopped).',
      ...options,
      exitCode: EXIT.unavailable,
    })
    this.retryAfterMs = options.retryAfterMs ?? 0
  }
}

/** Cloudflare's bot protection (captcha, HTTP 403, an HTML challenge page): exit 4. */
export class BotChallengeError extends GarminS3Error {
  constructor(message: string, options: Options = {}) {
    super(message, { hint: LOGIN_BACKOFF, ...options, exitCode: EXIT.unavailable })
  }
}

/** 5xx, resets and timeouts that outlasted the retries: exit 4. */
export class GarminUnavailableError extends GarminS3Error {
  constructor(message: string, options: Options = {}) {
    super(message, {
      hint: 'Garmin Connect is not answering properly; try again later (the next run resumes where this one stopped).',
      ...options,
      exitCode: EXIT.unavailable,
    })
  }
}

/** A body that is not the JSON we rely on (HTML, truncated, missing fields): exit 1. Nothing is stored. */
export class UnexpectedResponseError extends GarminS3Error {
  /** The endpoint path, without query string. */
  readonly endpoint: string
  constructor(endpoint: string, detail: string, options: Options = {}) {
    super(`Garmin sent an unexpected answer from ${endpoint}: ${detail}`, {
      hint: 'Garmin may have changed this endpoint; try again later, and if it persists update garmin-s3 or report it.',
      ...options,
      exitCode: EXIT.failure,
    })
    this.endpoint = endpoint
  }
}

/** HTTP 404 on one item (e.g. an activity deleted since it was listed): exit 1, callers may skip it. */
export class NotFoundError extends GarminS3Error {
  readonly endpoint: string
  constructor(endpoint: string, options: Options = {}) {
    super(`Garmin has nothing at ${endpoint} (HTTP 404); it may have been deleted.`, {
      hint: 'Nothing to do: deleted items are skipped.',
      ...options,
      exitCode: EXIT.failure,
    })
    this.endpoint = endpoint
  }
}

/**
 * Garmin refuses one item to this account (a JSON 403, a `privacyProtected` answer, a path that needs a
 * display name the account does not have): exit 1. It is an item failure, not a sign-in problem: the
 * sync skips the item without storing it or marking it done, and asks again next run.
 */
export class ItemRefusedError extends GarminS3Error {
  readonly endpoint: string
  constructor(
    endpoint: string,
    why: string,
    readonly reason: 'forbidden' | 'privacy' | 'no-display-name',
    options: Options = {},
  ) {
    super(
      `Garmin refused ${endpoint} for this account (${why}); it is skipped and asked for again next run.`,
      {
        hint: 'Check the privacy and data-sharing settings of the account at connect.garmin.com; the other data is stored.',
        ...options,
        exitCode: EXIT.failure,
      },
    )
    this.endpoint = endpoint
  }
}

/** The token store cannot be read or written safely (permissions, symlink, corrupt file, SSM access): exit 1. */
export class TokenStoreError extends GarminS3Error {
  /** `unusable`: the store answered, but what it holds are no tokens: sign in again, exit 3. */
  constructor(message: string, { unusable, ...options }: Options & { unusable?: boolean } = {}) {
    super(message, { ...options, exitCode: unusable ? EXIT.auth : EXIT.failure })
  }
}

/**
 * Garmin refused the refresh token (invalid_grant), and the store holds no newer one. Besides expiry,
 * the usual cause is a copy of the same tokens refreshed elsewhere: each refresh rotates the token and
 * the other copy is logged out. Exit 3.
 */
export class RefreshRejectedError extends AuthError {
  /** `store`: where the tokens are (or are to go); `stored`: the message says the refresh token is stored there. */
  constructor(store: NamedStore, { stored = false }: { stored?: boolean } = {}) {
    super(
      `Garmin no longer accepts the ${stored ? `refresh token stored at ${store.location}` : 'stored refresh token'} (invalid_grant).`,
      {
        hint:
          `Run \`${signInCommand(store)}\`. If a copy of these tokens is used elsewhere (a Lambda, CI, another machine), ` +
          'each refresh logs the other copies out: give every place its own login, or let deploy move the session (README "One sign-in per deployment").',
      },
    )
  }
}

/** Tokens issued by one Garmin domain are useless on the other. Exit 2. */
export class DomainMismatchError extends UsageError {
  /** `store`: where the tokens are, when known (the login of the hint replaces them there). */
  constructor(stored: string, wanted: string, store?: NamedStore) {
    const login = store ? signInCommand(store, `--domain ${wanted}`) : `garmin-s3 login --domain ${wanted}`
    super(`The stored Garmin tokens are for ${stored}, but garmin-s3 is set to use ${wanted}.`, {
      hint: `Pass --domain ${stored} (or set GARMIN_DOMAIN=${stored}), or run \`${login}\`.`,
    })
  }
}
