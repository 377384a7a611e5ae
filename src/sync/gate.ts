import type { Store } from '../store/types.js'
import type { ConditionalWrite } from './cas-document.js'
import type { SyncLog } from './types.js'

const encoder = new TextEncoder()

/**
 * The one place that decides whether a write happens (rclone's SkipDestructive): with --dry-run every
 * write, state and manifest included, is logged as "would write ..." and answered with the planned
 * result instead of touching the store.
 */
export class WriteGate {
  constructor(
    readonly dryRun: boolean,
    private readonly log: SyncLog,
  ) {}

  async write<T>(what: string, key: string, bytes: number, action: () => Promise<T>, planned: T): Promise<T> {
    if (!this.dryRun) return action()
    this.log({ type: 'dry-run', message: `would write ${what} ${key} (${bytes} bytes)`, key, bytes })
    return planned
  }

  /** The conditional PUT of a JSON control object (`what`: "state", "dataset state") through this gate. */
  conditionalWrite(store: Store, what: string): ConditionalWrite {
    return (key, body, expectedEtag) =>
      this.write(
        what,
        key,
        encoder.encode(body).byteLength,
        async (): Promise<{ ok: boolean; etag?: string }> => {
          const result = await store.putIfMatch(key, body, 'application/json', expectedEtag)
          return result.ok ? { ok: true, etag: result.etag } : { ok: false }
        },
        { ok: true },
      )
  }
}
