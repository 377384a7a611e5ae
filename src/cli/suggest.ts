/**
 * The command a mistyped one most likely meant: the fewest single-character edits (Levenshtein
 * distance, as @oclif/plugin-not-found measures it for its prompt), the first listed on a tie.
 * Nothing when even the closest needs more edits than half the typed word: `garmin-s3 backup`
 * suggests no command rather than an unrelated one.
 */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: { id: string; distance: number } | undefined
  for (const id of candidates) {
    const distance = editDistance(typed, id)
    if (!best || distance < best.distance) best = { id, distance }
  }
  if (!best || best.distance > Math.max(2, Math.floor(typed.length / 2))) return undefined
  return best.id
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
