/**
 * `--schedule` checked as EventBridge (Scheduler and rules alike) checks it, so a bad expression stops
 * the deploy before any AWS call instead of failing halfway (after the roles and the function exist):
 *
 * - `rate(value unit)`: a positive whole number and minute / hour / day, singular for 1 and plural
 *   otherwise (`rate(1 day)`, `rate(2 days)`);
 * - `cron(minutes hours day-of-month month day-of-week year)`: six fields, and exactly one of
 *   day-of-month and day-of-week is `?`.
 *
 * `at(...)`, Scheduler's one-time schedule, is refused: it would run the daily sync once.
 */
import { UsageError } from '../errors.js'

const EXAMPLES =
  'e.g. "cron(0 6 * * ? *)" (06:00 every day), "cron(30 5 ? * MON-FRI *)" (05:30 on weekdays) or "rate(1 day)"'
const CRON_HINT = `Use cron(minutes hours day-of-month month day-of-week year) with "?" in day-of-month or day-of-week, ${EXAMPLES}.`
const RATE_HINT = `Use rate(value unit): a positive whole number and minute(s), hour(s) or day(s), singular for 1, e.g. "rate(1 day)", "rate(2 days)", "rate(30 minutes)"; or a cron: ${EXAMPLES}.`

interface FieldSpec {
  name: string
  min: number
  max: number
  /** Names accepted for the numbers, first one standing for `min` (JAN = 1, SUN = 1). */
  names?: readonly string[]
  /** Day-of-month: `L`, `LW`, `15W`; day-of-week: `L`, `6L`, `3#2`. */
  special?: RegExp
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC']
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT']

const FIELDS: readonly FieldSpec[] = [
  { name: 'minutes', min: 0, max: 59 },
  { name: 'hours', min: 0, max: 23 },
  { name: 'day-of-month', min: 1, max: 31, special: /^(L|LW|([1-9]|[12]\d|3[01])W)$/ },
  { name: 'month', min: 1, max: 12, names: MONTHS },
  { name: 'day-of-week', min: 1, max: 7, names: DAYS, special: /^(L|[1-7]L|[1-7]#[1-5])$/ },
  { name: 'year', min: 1970, max: 2199 },
]

function value(text: string, spec: FieldSpec): number | undefined {
  const named = spec.names?.indexOf(text.toUpperCase()) ?? -1
  if (named >= 0) return spec.min + named
  if (!/^\d+$/.test(text)) return undefined
  const n = Number(text)
  return n >= spec.min && n <= spec.max ? n : undefined
}

/** One comma-separated item: `5`, `MON`, `1-5`, `*\/15`, `0/15`, `8-18/2`, or a special. */
function validItem(item: string, spec: FieldSpec): boolean {
  if (spec.special?.test(item)) return true
  const [base = '', step, extra] = item.split('/')
  if (extra !== undefined) return false
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1 && Number(step) <= spec.max))
    return false
  if (base === '*') return true
  const [from = '', to, more] = base.split('-')
  if (more !== undefined) return false
  const start = value(from, spec)
  if (start === undefined) return false
  return to === undefined || value(to, spec) !== undefined
}

function validField(field: string, spec: FieldSpec): boolean {
  if (field === '*') return true
  return field.split(',').every((item) => item !== '' && validItem(item, spec))
}

function refuse(expression: string, why: string, hint: string): UsageError {
  return new UsageError(
    `--schedule "${expression}" is not a schedule expression EventBridge accepts: ${why}`,
    {
      hint,
    },
  )
}

function validateCron(expression: string, body: string): void {
  const fields = body.trim().split(/\s+/)
  if (fields.length !== FIELDS.length) {
    throw refuse(
      expression,
      `a cron needs 6 fields (minutes hours day-of-month month day-of-week year), got ${fields.length}`,
      CRON_HINT,
    )
  }
  const [, , dayOfMonth, , dayOfWeek] = fields
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) {
    throw refuse(
      expression,
      `one of day-of-month and day-of-week must be "?" (got "${dayOfMonth}" and "${dayOfWeek}")`,
      CRON_HINT,
    )
  }
  FIELDS.forEach((spec, i) => {
    const field = fields[i] ?? ''
    if (field === '?' && (i === 2 || i === 4)) return
    if (!validField(field, spec)) {
      throw refuse(
        expression,
        `${spec.name} "${field}" is not valid (${spec.min}-${spec.max}${spec.names ? ` or ${spec.names[0]}-${spec.names.at(-1)}` : ''}, with , - * /)`,
        CRON_HINT,
      )
    }
  })
}

const RATE_UNITS = ['minute', 'hour', 'day']

function validateRate(expression: string, body: string): void {
  const match = /^\s*(\S+)\s+(\S+)\s*$/.exec(body)
  if (!match) throw refuse(expression, 'a rate is rate(value unit)', RATE_HINT)
  const [, amount = '', unit = ''] = match
  if (!/^\d+$/.test(amount) || Number(amount) < 1) {
    throw refuse(expression, `the value "${amount}" is not a positive whole number`, RATE_HINT)
  }
  const singular = unit.replace(/s$/, '')
  if (!RATE_UNITS.includes(singular)) {
    throw refuse(expression, `the unit "${unit}" is not minute(s), hour(s) or day(s)`, RATE_HINT)
  }
  const n = Number(amount)
  const wanted = n === 1 ? singular : `${singular}s`
  if (unit !== wanted) {
    throw refuse(expression, `AWS wants "rate(${n} ${wanted})" (singular for 1, plural otherwise)`, RATE_HINT)
  }
}

export function validateSchedule(expression: string): string {
  const match = /^(cron|rate|at)\((.*)\)$/.exec(expression.trim())
  if (!match) throw refuse(expression, 'it is not cron(...) or rate(...)', CRON_HINT)
  const [, kind, body = ''] = match
  if (kind === 'at') {
    throw refuse(expression, 'at() is a one-time schedule, and the sync should run regularly', CRON_HINT)
  }
  if (kind === 'cron') validateCron(expression, body)
  else validateRate(expression, body)
  return expression
}
