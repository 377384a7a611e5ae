/** Garmin Connect types that the rest of garmin-s3 relies on. Everything else passes through untouched. */

export type GarminDomain = 'garmin.com' | 'garmin.cn'

/** Our token file format (version 1), see docs/garmin-api.md "Token file". */
export interface StoredTokens {
  version: 1
  domain: GarminDomain
  clientId: string
  accessToken: string
  refreshToken: string
  /** ISO 8601: when the access token expires (the JWT `exp`). */
  expiresAt: string
  /** Empty for an account that never chose one (then only the paths that need it fail). */
  displayName: string
  /** Garmin's profile id; stands in for the display name in messages when there is none. */
  profileId?: number
  /** ISO 8601: when these tokens were obtained (login or last refresh). */
  obtainedAt: string
  /** ISO 8601: when the refresh token last changed (login or rotation). Optional in older files. */
  refreshTokenRotatedAt?: string
}

export interface TokenStore {
  /** Where the tokens live, for messages (`~/.config/garmin-s3/tokens.json`, `ssm:/garmin-s3/tokens`). */
  readonly location: string
  /** The local file behind the store, when it is one (a pointer file's own path, not the parameter). */
  readonly path?: string
  /**
   * What a command printed for the user appends to reach this store again: ` --token-store <where>`
   * (leading space) when the store was chosen (--token-store, GARMIN_S3_TOKEN_STORE, any SSM store),
   * '' for the default file. The one answer to "does this hint need --token-store?".
   */
  readonly storeFlag?: string
  /** Undefined when nothing is stored yet. */
  load(): Promise<StoredTokens | undefined>
  /** Atomic replace. Must complete before the caller goes on using the new tokens. */
  save(tokens: StoredTokens): Promise<void>
  /** Deletes the stored tokens; idempotent. Resolves true when something was deleted (if the store can tell). */
  // biome-ignore lint/suspicious/noConfusingVoidType: stores that cannot tell what they deleted return nothing
  clear(options?: WriteCheck): Promise<boolean | void>
  /**
   * Runs `refresh` so that two runs never rotate the same refresh token: inside, the store is read
   * again and when it already holds newer tokens than `stale`, those are returned instead.
   */
  lockedRefresh?(
    stale: StoredTokens,
    refresh: (current: StoredTokens) => Promise<StoredTokens>,
  ): Promise<StoredTokens>
  /**
   * After `load()` found nothing: the exact command that stores tokens here (and, for a pointer file
   * whose parameter is gone, what happened and both ways on). The hint of every "No Garmin tokens" error.
   */
  noTokensHint?(): string
  /** Throws when saving would fail or overwrite something that is not ours; called before a sign-in. */
  checkWritable?(options?: WriteCheck): Promise<void>
  /** The SSM store this one points to, when `deploy` moved the session there. */
  pointer?(): Promise<TokenPointer | undefined>
  /** Makes this store a pointer to `store` (`ssm:/...`), where the tokens now live. */
  pointTo?(store: string, region: string | undefined): Promise<void>
  /** Replaces a pointer with the tokens themselves (destroy gives a moved session back). */
  takeBack?(tokens: StoredTokens): Promise<void>
}

export interface WriteCheck {
  /** Overwrite or delete a file that does not look like a token file. */
  force?: boolean
}

/** A token file's content after `deploy` moved the session into SSM. */
export interface TokenPointer {
  kind: 'garmin-s3-token-pointer'
  version: 1
  store: string
  region?: string
}

/**
 * One entry of `/activitylist-service/activities/search/activities`. We rely on `activityId`
 * (an integer) and `startTimeGMT` (`YYYY-MM-DD HH:MM:SS`); all other fields are stored as sent.
 */
export interface ActivityEntry {
  activityId: number
  startTimeGMT: string
  [field: string]: unknown
}

export interface ListActivitiesQuery {
  start: number
  limit: number
  /** YYYY-MM-DD */
  startDate?: string
  /** YYYY-MM-DD */
  endDate?: string
}

export interface GarminRequestStats {
  /** Requests sent to Garmin, by kind (`login`, `token`, `list`, `activity`, ...), retries included. */
  requests: Record<string, number>
}

/** What the sync pipeline needs from Garmin; `GarminClient` implements it. */
export interface ActivitySource {
  /**
   * Newest first. An empty array means the end of the history. Entries are as Garmin sent them, not
   * checked one by one: a reader checks each (sync: src/sync/quarantine.ts), so one bad entry costs itself.
   */
  listActivities(query: ListActivitiesQuery, signal?: AbortSignal): Promise<ActivityEntry[]>
  stats(): GarminRequestStats
}
