/**
 * garmin-s3 as a library (`import { runSyncWithDatasets, GarminClient, openStore } from 'garmin-s3'`):
 * the same pieces the CLI and the Lambda are made of (ARCHITECTURE.md "Module map"). A sync needs a
 * source (a `GarminClient` on a token store) and a store; everything else has defaults.
 *
 *     const garmin = new GarminClient({ tokenStore: openTokenStore(undefined), endpoints: resolveEndpoints({}) })
 *     const report = await runSyncWithDatasets({ prefix: DEFAULT_PREFIX, runner: 'cli', toolVersion: '0.1.0' }, { garmin, store: await openStore({ out: './lake' }) })
 */
export { type Clock, systemClock } from './clock.js'
export * from './curate/index.js'
export * from './deploy/index.js'
export { EXIT, type ExitCode, GarminS3Error, StoreError, UsageError } from './errors.js'
export { GarminClient, type GarminClientOptions } from './garmin/client.js'
export { GARMIN_DOMAINS, type GarminEndpoints, resolveEndpoints } from './garmin/endpoints.js'
export { AuthError, RefreshRejectedError, TokenStoreError } from './garmin/errors.js'
export { checkSession, type LoginOptions, type LogoutResult, runLogin, runLogout } from './garmin/login.js'
export { defaultTokenPath, FileTokenStore, openTokenStore, SsmTokenStore } from './garmin/tokens.js'
export type { ActivityEntry, ActivitySource, StoredTokens, TokenStore } from './garmin/types.js'
export { createHandler, type HandlerDeps } from './lambda/handler.js'
export * from './status/index.js'
export * from './store/index.js'
export * from './sync/index.js'
