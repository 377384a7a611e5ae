/**
 * The store module's public surface. The CLI imports ./target.js instead, which loads ./s3.js (and
 * with it the S3 SDK) only when a bucket is the target.
 */
export { DirStore, type DirStoreOptions } from './dir.js'
export { StoreUnavailableError } from './errors.js'
export { InvalidKeyError } from './keys.js'
export { buildS3Client, S3Store, type S3StoreOptions } from './s3.js'
export * from './target.js'
export type * from './types.js'
