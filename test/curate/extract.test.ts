/**
 * From Garmin's recorded answers (test/sim/fixtures) to rows: units converted, UTC and local times,
 * the wake day of a night, and nothing invented where Garmin sent nothing.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { activityOffsetMs, activityYear, EXTRACTORS } from '../../src/curate/extract.js'
import { TABLES } from '../../src/curate/tables.js'

const fixture = (name: string) => {
  const value = JSON.parse(readFileSync(join(import.meta.dirname, '../sim/fixtures', name), 'utf8'))
  return 'body' in value ? value.body : value
}
const ms = (iso: string) => Date.parse(`${iso}Z`)

describe('extractors', () => {
  it('have one per table, and give only the columns of their table', () => {
    expect(Object.keys(EXTRACTORS).sort()).toEqual(TABLES.map((t) => t.name).sort())
    const samples: Record<string, unknown> = {
      activities: fixture('pest_activitylist-service.json')[0],
      daily_summary: fixture('daily-summary_2025-06-14.json'),
      sleep: fixture('sleep_2025-07-07.json'),
      hrv: fixture('hrv_2023-07-20.json'),
      training_readiness: fixture('training-readiness_2025-07-07.json'),
      heart_rate_samples: fixture('heart-rate_2026-01-07.json'),
    }
    for (const [table, raw] of Object.entries(samples)) {
      const rows = EXTRACTORS[table]!(raw, {})
      expect(rows.length, table).toBeGreaterThan(0)
      const columns = TABLES.find((t) => t.name === table)!.columns.map((c) => c.name)
      for (const row of rows) expect(Object.keys(row), table).toEqual(columns)
    }
  })

  it('an activity: UTC and local start, centimetres to metres, the whole entry kept', () => {
    const entry = fixture('pest_activitylist-service.json')[0]
    const [row] = EXTRACTORS.activities!(entry, {})
    expect(row).toMatchObject({
      activity_id: 2541953812,
      type: 'cross_country_skiing',
      start_utc: ms('2018-03-08T11:23:22'),
      start_local: ms('2018-03-08T12:23:22'),
      date: '2018-03-08',
      min_elevation_m: 1326,
      average_hr_bpm: 110,
      steps: 3522,
      average_power_w: null,
    })
    expect(JSON.parse(row!.raw_json as string)).toEqual(entry)
    expect(activityOffsetMs(entry)).toBe(3_600_000)
    expect(activityYear(entry)).toBe(2018)
  })

  it("laps and samples take the activity's offset for their local time", () => {
    const splits = {
      activityId: 1,
      lapDTOs: [{ startTimeGMT: '2018-03-08T11:23:22.0', distance: 1000, lapIndex: 1 }],
    }
    expect(EXTRACTORS.laps!(splits, { offsetMs: 3_600_000 })[0]).toMatchObject({
      start_utc: ms('2018-03-08T11:23:22'),
      start_local: ms('2018-03-08T12:23:22'),
      distance_m: 1000,
    })
    const details = {
      activityId: 1,
      metricDescriptors: [
        { key: 'directHeartRate', metricsIndex: 1 },
        { key: 'directTimestamp', metricsIndex: 0 },
        { key: 'directPower', metricsIndex: 2 },
      ],
      activityDetailMetrics: [{ metrics: [ms('2018-03-08T11:23:22'), 141.6, null] }],
    }
    expect(EXTRACTORS.activity_samples!(details, { offsetMs: -7_200_000 })[0]).toMatchObject({
      timestamp_local: ms('2018-03-08T09:23:22'),
      heart_rate_bpm: 142,
      power_w: null,
      latitude_deg: null,
    })
  })

  it('a night is dated by the day you woke; weights in kilograms; stress minutes by band', () => {
    const [night] = EXTRACTORS.sleep!(fixture('sleep_2025-07-07.json'), {})
    expect(night).toMatchObject({ date: '2025-07-07', sleep_score: 83, sleep_s: 24180, resting_hr_bpm: 44 })
    expect(new Date(night!.sleep_end_utc as number).toISOString().slice(0, 10)).toBe('2025-07-07')

    const weighIns = fixture('weight-range_2025-06-01_2025-06-15.json').dailyWeightSummaries[0]
      .allWeightMetrics
    const [w] = EXTRACTORS.body_composition!({ dateWeightList: weighIns }, {})
    expect(w).toMatchObject({ date: '2025-06-15', weight_kg: 59.72, bone_mass_kg: 3.539, body_fat_pct: 19.3 })

    const t0 = ms('2026-01-01T00:00:00')
    const stress = {
      calendarDate: '2026-01-01',
      avgStressLevel: 40,
      stressValuesArray: [
        [t0, 10],
        [t0 + 180_000, 60],
        [t0 + 360_000, -1],
        [t0 + 540_000, 90],
      ],
    }
    expect(EXTRACTORS.stress!(stress, {})[0]).toMatchObject({
      measured_min: 9,
      rest_min: 3,
      medium_min: 3,
      high_min: 3,
      low_min: 0,
    })

    const battery = [
      {
        date: '2026-01-01',
        charged: 10,
        bodyBatteryValueDescriptorDTOList: [
          { bodyBatteryValueDescriptorIndex: 0, bodyBatteryValueDescriptorKey: 'timestamp' },
          { bodyBatteryValueDescriptorIndex: 1, bodyBatteryValueDescriptorKey: 'bodyBatteryLevel' },
        ],
        bodyBatteryValuesArray: [
          [t0 + 1, 40],
          [t0, 55],
          [t0 + 2, 30],
        ],
      },
    ]
    expect(EXTRACTORS.body_battery!(battery, {})[0]).toMatchObject({
      start_level: 55,
      end_level: 30,
      highest: 55,
      lowest: 30,
      samples: 3,
    })
  })

  it('what is not the expected shape gives no row, never an error', () => {
    for (const [table, extract] of Object.entries(EXTRACTORS))
      for (const raw of [null, 'text', 42, [], {}]) expect(() => extract(raw, {}), table).not.toThrow()
    expect(EXTRACTORS.activities!({ activityName: 'no id' }, {})).toEqual([])
  })
})
