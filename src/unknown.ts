/** Narrowing values whose type is `unknown`: parsed JSON, and whatever a `catch` caught. */

/** A plain object (not null, not an array), e.g. a parsed JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The message of a caught value: an Error's message, anything else as a string. */
export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
