/**
 * When a deployed schedule runs next, computed in the schedule's own time zone (so the runs around a
 * daylight-saving change land where AWS puts them). AWS cron has six fields with a year and `?`, and
 * numbers its weekdays 1-7 from Sunday; croner has five fields, numbers weekdays 0-6 from Sunday and
 * knows no year, so expressions are translated and the year is filtered here.
 */
import { Cron } from 'croner'

export interface NextRun {
  /** The instant, ISO 8601 UTC. */
  at: string
  /** The same instant as a wall-clock time in the schedule's zone, e.g. `2027-03-14 06:00 CDT`. */
  local: string
}

export type ParsedSchedule =
  | { kind: 'cron'; pattern: string; years: YearFilter }
  | { kind: 'rate'; everyMs: number }
  | { kind: 'at'; localTime: string }

interface YearFilter {
  test: (year: number) => boolean
  /** No run after this year. */
  last: number
}

const DOW_NAMES = /^(SUN|MON|TUE|WED|THU|FRI|SAT)$/i
const MAX_RATE_UNITS: Record<string, number> = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }

/** An AWS day-of-week number (1-7 = SUN-SAT) as croner's (0-6 = SUN-SAT); names pass unchanged. */
function weekday(token: string): string | undefined {
  if (DOW_NAMES.test(token)) return token.toUpperCase()
  if (!/^\d$/.test(token)) return undefined
  const n = Number(token)
  return n >= 1 && n <= 7 ? String(n - 1) : undefined
}

/** AWS day-of-week field -> croner's: `?`/`*`, lists, ranges, steps, `n#k` and `nL`. */
function dayOfWeek(field: string): string | undefined {
  if (field === '?' || field === '*') return '*'
  const parts: string[] = []
  for (const item of field.split(',')) {
    let m = /^([A-Za-z0-9]+)#([1-5])$/.exec(item)
    if (m) {
      const day = weekday(m[1]!)
      if (day === undefined) return undefined
      parts.push(`${day}#${m[2]}`)
      continue
    }
    m = /^([A-Za-z0-9]+)L$/.exec(item)
    if (m) {
      const day = weekday(m[1]!)
      if (day === undefined) return undefined
      parts.push(`${day}#L`)
      continue
    }
    m = /^([A-Za-z0-9*]+)(?:-([A-Za-z0-9]+))?(?:\/(\d+))?$/.exec(item)
    if (!m) return undefined
    const from = m[1] === '*' ? '*' : weekday(m[1]!)
    const to = m[2] === undefined ? undefined : weekday(m[2])
    if (from === undefined || (m[2] !== undefined && to === undefined)) return undefined
    parts.push(`${from}${to === undefined ? '' : `-${to}`}${m[3] === undefined ? '' : `/${m[3]}`}`)
  }
  return parts.join(',')
}

/** The AWS year field as a predicate: `*`, `2027`, `2027-2029`, `2027,2029`, `2027/2`. */
function yearFilter(field: string): YearFilter | undefined {
  if (field === '*' || field === '?') return { test: () => true, last: 2199 }
  const tests: ((year: number) => boolean)[] = []
  let last = 0
  for (const item of field.split(',')) {
    const m = /^(\d{4}|\*)(?:-(\d{4}))?(?:\/(\d+))?$/.exec(item)
    if (!m) return undefined
    const from = m[1] === '*' ? 1970 : Number(m[1])
    const to = m[2] !== undefined ? Number(m[2]) : m[3] !== undefined || m[1] === '*' ? 2199 : from
    const step = m[3] === undefined ? 1 : Number(m[3])
    if (step < 1) return undefined
    tests.push((y) => y >= from && y <= to && (y - from) % step === 0)
    last = Math.max(last, to)
  }
  return { test: (y) => tests.some((t) => t(y)), last }
}

/** Parses `cron(...)`, `rate(...)` or `at(...)`; undefined for anything it cannot follow (e.g. `W`). */
export function parseScheduleExpression(expression: string): ParsedSchedule | undefined {
  const text = expression.trim()
  let m = /^rate\(\s*(\d+)\s+(minute|minutes|hour|hours|day|days)\s*\)$/i.exec(text)
  if (m) {
    const unit = m[2]!.toLowerCase().replace(/s$/, '')
    const everyMs = Number(m[1]) * (MAX_RATE_UNITS[unit] ?? 0)
    return everyMs > 0 ? { kind: 'rate', everyMs } : undefined
  }
  m = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(text)
  if (m) return { kind: 'at', localTime: m[1]! }
  m = /^cron\((.*)\)$/.exec(text)
  if (!m) return undefined
  const fields = m[1]!.trim().split(/\s+/)
  if (fields.length !== 6) return undefined
  const [minutes, hours, dom, month, dow, year] = fields as [string, string, string, string, string, string]
  // croner has no nearest-weekday (W); rather say "unknown" than guess.
  if (/W/i.test(dom)) return undefined
  const cronDow = dayOfWeek(dow)
  const years = yearFilter(year)
  if (cronDow === undefined || years === undefined) return undefined
  const cronDom = dom === '?' ? '*' : dom
  return { kind: 'cron', pattern: `${minutes} ${hours} ${cronDom} ${month} ${cronDow}`, years }
}

/** `2027-03-14 06:00 CDT` (the zone's abbreviation, or its offset where it has none). */
export function wallClock(at: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
    timeZoneName: 'short',
  }).formatToParts(at)
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? ''
  return `${get('year')}-${get('month')}-${get('day')} ${get('hour')}:${get('minute')} ${get('timeZoneName')}`
}

/** Offset of `timeZone` from UTC at `at`, in ms (positive east of Greenwich). */
function zoneOffsetMs(at: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  }).formatToParts(new Date(at))
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  return (
    Date.UTC(n('year'), n('month') - 1, n('day'), n('hour'), n('minute'), n('second')) - (at - (at % 1000))
  )
}

/**
 * The next `count` runs after `now` (epoch ms), or undefined when the expression is not understood.
 * `rate()` schedules count from `anchor` (the schedule's start or creation time); without one the
 * next runs are unknown.
 */
export function nextRuns(
  expression: string,
  timeZone: string,
  now: number,
  count = 3,
  anchor?: number,
): NextRun[] | undefined {
  const parsed = parseScheduleExpression(expression)
  if (!parsed) return undefined
  const out = (dates: Date[]) => dates.map((d) => ({ at: d.toISOString(), local: wallClock(d, timeZone) }))
  switch (parsed.kind) {
    case 'rate': {
      if (anchor === undefined) return undefined
      const first =
        anchor > now ? anchor : anchor + Math.ceil((now - anchor + 1) / parsed.everyMs) * parsed.everyMs
      return out(Array.from({ length: count }, (_, i) => new Date(first + i * parsed.everyMs)))
    }
    case 'at': {
      // A wall-clock time in the zone: find the instant whose local time it is.
      const naive = Date.parse(`${parsed.localTime}Z`)
      const at = naive - zoneOffsetMs(naive - zoneOffsetMs(naive, timeZone), timeZone)
      return at > now ? out([new Date(at)]) : []
    }
    case 'cron': {
      let cron: Cron
      try {
        // AND: one of the two day fields is always `?` (now `*`), so only the other one restricts.
        cron = new Cron(parsed.pattern, { timezone: timeZone, legacyMode: false })
      } catch {
        return undefined
      }
      const runs: Date[] = []
      let from = new Date(now)
      // The year filter may skip runs; a bounded number of tries keeps a far-future year cheap.
      for (let tries = 0; runs.length < count && tries < 1000; tries++) {
        const next = cron.nextRun(from)
        if (!next) break
        const year = Number(wallClock(next, timeZone).slice(0, 4))
        if (year > parsed.years.last) break
        if (parsed.years.test(year)) {
          runs.push(next)
          from = next
        } else {
          // Jump to (just before, in any zone) the next year instead of walking through this one.
          from = new Date(Math.max(next.getTime(), Date.UTC(year + 1, 0, 1) - 15 * 3_600_000))
        }
      }
      return out(runs)
    }
  }
}
