/**
 * Where bytes land. Keys are `/`-separated relative paths such as
 * `raw-data/garmin-json/activity_123.json`; implementations map them to S3 keys or file paths.
 */
export type PutResult = 'created' | 'exists'

export interface ObjectInfo {
  key: string
  size: number
  /** Opaque version tag used for compare-and-swap (S3 ETag, or a content hash in a folder). */
  etag: string
  lastModified?: Date
}

export interface StoredObject extends ObjectInfo {
  body: Uint8Array
  contentType?: string
}

export type CasResult = { ok: true; etag: string } | { ok: false }

export interface StoreStats {
  /** Requests made to the backend, by operation (`PutObject`, `GetObject`, `ListObjectsV2`, ...). */
  requests: Record<string, number>
}

export interface Store {
  /** Human-readable location, e.g. `s3://my-lake` or `/home/me/garmin-data`. */
  readonly location: string
  /** Create-only write: never overwrites, never leaves a partial object. */
  putIfAbsent(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult>
  /**
   * Compare-and-swap write: succeeds only if the current version's etag is `expectedEtag`,
   * or, when `expectedEtag` is null, only if the key does not exist yet.
   */
  putIfMatch(
    key: string,
    body: Uint8Array | string,
    contentType: string,
    expectedEtag: string | null,
  ): Promise<CasResult>
  /**
   * Removes one object; nothing happens when it does not exist. Only `sync --prune-deleted` uses it,
   * once the object is kept in the history (docs/changes.md): data objects are otherwise write-once.
   */
  delete(key: string): Promise<void>
  /**
   * Proves the store takes writes and leaves it as it was found (doctor): a create-only write of `key`,
   * removed again at once with whatever the write had to make for it (a folder store's folders; in a
   * versioned bucket, the version itself, not a delete marker). 'exists' when `key` was already there:
   * then nothing was written or removed.
   */
  probe(key: string, body: Uint8Array | string, contentType: string): Promise<PutResult>
  /** Undefined when the key does not exist. */
  get(key: string): Promise<StoredObject | undefined>
  head(key: string): Promise<ObjectInfo | undefined>
  /**
   * Every object whose key starts with `prefix`, in pages, in key order (UTF-8 bytes, as S3 lists).
   * Some S3-compatible servers (SeaweedFS) list a folder's sub-folders first (`a/b` before `a-c`):
   * callers may rely on order within one folder only.
   */
  list(prefix: string): AsyncIterable<ObjectInfo>
  /** Counts of backend requests made so far by this store instance. */
  stats(): StoreStats
}
