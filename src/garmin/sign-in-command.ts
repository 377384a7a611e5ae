/**
 * The commands a message prints for the user to sign in again. A token store that was chosen
 * (--token-store, GARMIN_S3_TOKEN_STORE, any SSM store) must be named in them, or the command typed as
 * printed signs in to the default file instead and forks the user's token chain: the store says
 * whether (`TokenStore.storeFlag`), and every hint of src/garmin/ asks `signInCommand`.
 */
import type { TokenStore } from './types.js'

/** What a printed command needs of a token store to reach it again. */
export type NamedStore = Pick<TokenStore, 'location' | 'storeFlag'>

/** `word` as one shell word: as it is when it is plain, else in single quotes. */
export function shellWord(word: string): string {
  return /^[\w./~:@%+=,-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`
}

/**
 * ` --token-store <where>` (leading space) when a printed command needs it to reach `store`, '' for
 * the default file: the store's own answer, and a store that gives none is named by its location.
 */
function storeFlag(store: NamedStore): string {
  return store.storeFlag ?? ` --token-store ${shellWord(store.location)}`
}

/**
 * `garmin-s3 login`, then `flags` (`--mfa-code <code>`, `--import <file>`, `--force`), then what reaches
 * `store`: the command that signs in to that store again.
 */
export function signInCommand(store: NamedStore, flags = ''): string {
  return `garmin-s3 login${flags ? ` ${flags}` : ''}${storeFlag(store)}`
}
