/**
 * `12,345`: a count with en-US digit grouping, as `Intl.NumberFormat('en-US')` prints it. Whole numbers
 * are grouped here: the first `Intl.NumberFormat` of a process loads ICU's locale data, about 12 ms of
 * a start that every command paid while the formatter was made at module level (docs/performance.md
 * "Start-up"). Anything else (fractions, -0, unsafe integers) goes to Intl, made on first use.
 */
export function formatCount(n: number): string {
  if (!Number.isSafeInteger(n) || Object.is(n, -0)) return intl().format(n)
  const grouped = String(Math.abs(n)).replace(/\B(?=(\d{3})+$)/g, ',')
  return n < 0 ? `-${grouped}` : grouped
}

let formatter: Intl.NumberFormat | undefined
function intl(): Intl.NumberFormat {
  formatter ??= new Intl.NumberFormat('en-US')
  return formatter
}
