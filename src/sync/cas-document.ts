/**
 * One JSON control object saved by compare-and-swap (ARCHITECTURE.md, "State files and who writes
 * them"): read it, apply a pure change to what was read, write the result on condition that the object
 * still has the ETag that was read, and on a conflict read it again and re-apply the change. Used by
 * `state.json` (state.ts), `datasets.json` (dataset-state.ts) and `status --repair` (repair.ts); each
 * of them only says how to parse its object and what its change is.
 */
import { StoreError } from '../errors.js'
import type { Store } from '../store/types.js'

/** A conditional PUT: `expectedEtag` null means "only if absent". Injected so the dry-run gate decides. */
export type ConditionalWrite = (
  key: string,
  body: string,
  expectedEtag: string | null,
) => Promise<{ ok: boolean; etag?: string }>

/** The object changed under every attempt: someone else keeps writing it. */
export class CasConflictError extends StoreError {}

const DEFAULT_ATTEMPTS = 10

export class CasDocument<T> {
  private etag: string | null = null
  private current: T | undefined

  /**
   * `parse` turns the object's text into T, undefined when it cannot (it may throw to refuse, e.g. an
   * object written by a newer version). `attempts` 1 means "no retry": a conflict is the caller's answer.
   */
  constructor(
    private readonly store: Store,
    readonly key: string,
    private readonly parse: (text: string, key: string) => T | undefined,
    private readonly attempts = DEFAULT_ATTEMPTS,
  ) {}

  /** Reads the object: `present` false when there is none, `value` undefined when it cannot be parsed. */
  async load(): Promise<{ present: boolean; value: T | undefined }> {
    const object = await this.store.get(this.key)
    this.etag = object?.etag ?? null
    this.current = object ? this.parse(new TextDecoder().decode(object.body), this.key) : undefined
    return { present: object !== undefined, value: this.current }
  }

  /** Starts from an object read elsewhere (its text and ETag), without reading it again. */
  adopt(text: string, etag: string): T | undefined {
    this.etag = etag
    this.current = this.parse(text, this.key)
    return this.current
  }

  /** What the last load, adopt or successful write left. */
  value(): T | undefined {
    return this.current
  }

  /**
   * Writes `change(latest)` through `write`; on a conflict loads again and re-applies `change`. Returns
   * the value written, or undefined when `change` answered undefined (nothing to write). Throws
   * CasConflictError when every attempt met a conflict.
   */
  async update(
    change: (current: T | undefined) => T | undefined,
    write: ConditionalWrite,
  ): Promise<T | undefined> {
    for (let attempt = 1; attempt <= this.attempts; attempt++) {
      const next = change(this.current)
      if (next === undefined) return undefined
      const result = await write(this.key, JSON.stringify(next), this.etag)
      if (result.ok) {
        this.current = next
        this.etag = result.etag ?? null
        return next
      }
      // Someone else wrote it in between: take theirs and apply the change to it again.
      if (attempt < this.attempts) await this.load()
    }
    throw new CasConflictError(`${this.key} kept changing while saving it (${this.attempts} attempts)`, {
      hint: 'Another sync is probably running against the same location; let it finish, then run again.',
    })
  }
}
