/**
 * Did-you-mean: the closest of a few known names to a mistyped one, or none when even the closest is
 * far. One rule for every name a user types (commands in src/cli/suggest.ts, `--data` datasets).
 */

/**
 * The name a mistyped one most likely meant (a command, a dataset): the fewest single-character edits (Levenshtein
 * distance, as @oclif/plugin-not-found measures it for its prompt), the first listed on a tie.
 * Nothing when even the closest needs more than 2 edits, or more than a third of the typed word's
 * length for a long one: `garmin-s3 update` (3 edits from curate) suggests no command rather than an
 * unrelated one.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { id: string; distance: number } | undefined
  for (const id of candidates) {
    const distance = editDistance(typed, id)
    if (!best || distance < best.distance) best = { id, distance }
  }
  if (!best || best.distance > maxEdits(typed)) return undefined
  return best.id
}

/** The most edits a typo of `typed` is taken to have. */
function maxEdits(typed: string): number {
  return Math.max(2, Math.floor(typed.length / 3))
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}
