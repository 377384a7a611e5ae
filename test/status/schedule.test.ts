/**
 * Next run times of AWS schedule expressions, in the schedule's time zone: the AWS cron dialect
 * (6 fields, `?`, a year, weekdays 1-7 from Sunday) translated for croner, and daylight saving.
 */
import { describe, expect, it } from 'vitest'
import { nextRuns, parseScheduleExpression } from '../../src/status/schedule.js'

const at = (iso: string) => Date.parse(iso)
const instants = (runs: ReturnType<typeof nextRuns>) => runs?.map((r) => r.at)

describe('next runs', () => {
  it('06:00 in America/Chicago is 12:00Z before the DST change of 14 March 2027 and 11:00Z after', () => {
    const runs = nextRuns('cron(0 6 * * ? *)', 'America/Chicago', at('2027-03-12T18:00:00Z'))
    expect(runs).toEqual([
      { at: '2027-03-13T12:00:00.000Z', local: '2027-03-13 06:00 CST' },
      { at: '2027-03-14T11:00:00.000Z', local: '2027-03-14 06:00 CDT' },
      { at: '2027-03-15T11:00:00.000Z', local: '2027-03-15 06:00 CDT' },
    ])
    // And back in November.
    expect(instants(nextRuns('cron(0 6 * * ? *)', 'America/Chicago', at('2027-11-06T00:00:00Z')))).toEqual([
      '2027-11-06T11:00:00.000Z',
      '2027-11-07T12:00:00.000Z',
      '2027-11-08T12:00:00.000Z',
    ])
  })

  it('counts from "now": a run later today comes first', () => {
    expect(instants(nextRuns('cron(0 6 * * ? *)', 'UTC', at('2026-11-28T05:59:00Z'), 1))).toEqual([
      '2026-11-28T06:00:00.000Z',
    ])
  })

  it('translates AWS weekdays (1 = Sunday), names, ranges, n#k and nL', () => {
    const from = at('2027-03-12T18:00:00Z') // a Friday
    // AWS 2-6 = Monday to Friday.
    expect(instants(nextRuns('cron(30 7 ? * 2-6 *)', 'UTC', from))).toEqual([
      '2027-03-15T07:30:00.000Z',
      '2027-03-16T07:30:00.000Z',
      '2027-03-17T07:30:00.000Z',
    ])
    expect(instants(nextRuns('cron(30 7 ? * MON-FRI *)', 'UTC', from))).toEqual(
      instants(nextRuns('cron(30 7 ? * 2-6 *)', 'UTC', from)),
    )
    // 1 = Sunday.
    expect(instants(nextRuns('cron(0 9 ? * 1 *)', 'UTC', from, 1))).toEqual(['2027-03-14T09:00:00.000Z'])
    // Second Tuesday (AWS 3#2), last Friday (AWS 6L), last day of the month (L).
    expect(instants(nextRuns('cron(0 9 ? * 3#2 *)', 'UTC', from, 1))).toEqual(['2027-04-13T09:00:00.000Z'])
    expect(instants(nextRuns('cron(0 9 ? * 6L *)', 'UTC', from, 1))).toEqual(['2027-03-26T09:00:00.000Z'])
    expect(instants(nextRuns('cron(0 9 L * ? *)', 'UTC', from, 1))).toEqual(['2027-03-31T09:00:00.000Z'])
    // Day of month with `?` weekday: only the 1st and 15th.
    expect(instants(nextRuns('cron(0 4 1,15 * ? *)', 'UTC', from, 2))).toEqual([
      '2027-03-15T04:00:00.000Z',
      '2027-04-01T04:00:00.000Z',
    ])
    expect(instants(nextRuns('cron(0/20 * * * ? *)', 'UTC', from, 2))).toEqual([
      '2027-03-12T18:20:00.000Z',
      '2027-03-12T18:40:00.000Z',
    ])
  })

  it('honours the year field', () => {
    expect(instants(nextRuns('cron(0 6 1 1 ? 2029-2030)', 'UTC', at('2027-03-12T00:00:00Z')))).toEqual([
      '2029-01-01T06:00:00.000Z',
      '2030-01-01T06:00:00.000Z',
    ])
    expect(nextRuns('cron(0 6 * * ? 2020)', 'UTC', at('2027-03-12T00:00:00Z'))).toEqual([])
  })

  it('rate() counts from the schedule start; at() is one wall-clock time in the zone', () => {
    const anchor = at('2026-11-01T06:15:00Z')
    expect(instants(nextRuns('rate(1 day)', 'UTC', at('2026-11-28T12:00:00Z'), 2, anchor))).toEqual([
      '2026-11-29T06:15:00.000Z',
      '2026-11-30T06:15:00.000Z',
    ])
    expect(instants(nextRuns('rate(6 hours)', 'UTC', at('2026-11-28T12:00:00Z'), 1, anchor))).toEqual([
      '2026-11-28T12:15:00.000Z',
    ])
    expect(nextRuns('rate(1 day)', 'UTC', at('2026-11-28T12:00:00Z'))).toBeUndefined()
    expect(nextRuns('at(2027-03-14T06:00:00)', 'America/Chicago', at('2027-03-01T00:00:00Z'))).toEqual([
      { at: '2027-03-14T11:00:00.000Z', local: '2027-03-14 06:00 CDT' },
    ])
  })

  it('says "unknown" (undefined) for what it cannot follow rather than guessing', () => {
    expect(parseScheduleExpression('cron(0 6 15W * ? *)')).toBeUndefined()
    expect(parseScheduleExpression('cron(0 6 * * *)')).toBeUndefined()
    expect(parseScheduleExpression('every day')).toBeUndefined()
    expect(nextRuns('cron(0 6 15W * ? *)', 'UTC', Date.now())).toBeUndefined()
  })
})
