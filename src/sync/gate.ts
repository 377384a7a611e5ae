import type { SyncLog } from './types.js'

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
}
