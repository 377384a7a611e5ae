import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { ActivityGenerator, EMOJI_NAMES, loadActivitiesFile, parseGarminTime } from './generator.js'
import { fixtures } from './templates.js'

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0)
const owner = { profileId: 81_234_567, displayName: 'runner_1', fullName: 'Sim Runner' }
const TEMPLATE_KEYS = Object.keys(fixtures.listEntry)
const MULTISPORT_EXTRA = ['childIds', 'childActivityTypes']

function generate(count: number, seed = 1, years = 3): ActivityEntry[] {
  return new ActivityGenerator({ seed, owner }).generate(count, years, NOW)
}

function kind(value: unknown): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value
}

describe('generated account', () => {
  const list = generate(2000)

  it('is deterministic for a seed and differs between seeds', () => {
    const small = generate(300)
    expect(JSON.stringify(small)).toBe(JSON.stringify(generate(300)))
    // What listAll() returns equals what a client parses from the wire (no -0, no undefined values).
    expect(JSON.parse(JSON.stringify(small))).toEqual(small)
    expect(generate(50, 2).map((e) => e.activityId)).not.toEqual(generate(50, 1).map((e) => e.activityId))
  })

  it('has the requested size, unique integer ids, newest first, ending today', () => {
    expect(list).toHaveLength(2000)
    expect(new Set(list.map((e) => e.activityId)).size).toBe(2000)
    for (const e of list) expect(Number.isSafeInteger(e.activityId)).toBe(true)
    for (let i = 1; i < list.length; i++) {
      expect(list[i - 1]!.startTimeGMT >= list[i]!.startTimeGMT).toBe(true)
    }
    const newest = list[0]!
    expect(NOW - (newest.beginTimestamp as number)).toBeLessThan(86_400_000)
    expect((newest.beginTimestamp as number) + (newest.duration as number) * 1000).toBeLessThan(NOW)
    const oldest = list[list.length - 1]!
    expect(NOW - (oldest.beginTimestamp as number)).toBeGreaterThan(2.5 * 365 * 86_400_000)
  })

  it('uses 11-digit ids (and a few older 10-digit ones), growing with time', () => {
    const digits = list.map((e) => String(e.activityId).length)
    expect(digits.filter((d) => d === 11).length).toBeGreaterThan(1000)
    expect(digits.every((d) => d === 10 || d === 11)).toBe(true)
    const parentsAndSingles = list.filter((e) => typeof e.parentId !== 'number')
    for (let i = 1; i < parentsAndSingles.length; i++) {
      expect(parentsAndSingles[i - 1]!.activityId).toBeGreaterThan(parentsAndSingles[i]!.activityId)
    }
  })

  it('keeps the recorded entry shape: same keys in the same order, same value kinds', () => {
    const full = list.filter((e) => Object.keys(e).length >= TEMPLATE_KEYS.length)
    expect(full.length).toBeGreaterThan(1500)
    const wrong: string[] = []
    for (const e of full) {
      const keys = Object.keys(e).filter((k) => !MULTISPORT_EXTRA.includes(k))
      if (keys.join() !== TEMPLATE_KEYS.join()) wrong.push(`${e.activityId}: keys ${keys.join()}`)
      for (const key of TEMPLATE_KEYS) {
        const want = kind(fixtures.listEntry[key])
        const got = kind(e[key])
        if (got !== 'null' && want !== 'null' && got !== want)
          wrong.push(`${e.activityId}.${key}: ${got}, not ${want}`)
      }
    }
    expect(wrong).toEqual([])
  })

  it('has entries that leave out optional fields, never the ones sync relies on', () => {
    const sparse = list.filter((e) => Object.keys(e).length < TEMPLATE_KEYS.length)
    expect(sparse.length).toBeGreaterThan(100)
    const wrong: string[] = []
    const required = [
      'activityId',
      'activityName',
      'startTimeGMT',
      'startTimeLocal',
      'activityType',
      'beginTimestamp',
    ]
    for (const e of sparse) {
      for (const key of Object.keys(e))
        if (!TEMPLATE_KEYS.includes(key)) wrong.push(`${e.activityId} has ${key}`)
      for (const key of required) if (!(key in e)) wrong.push(`${e.activityId} lacks ${key}`)
    }
    expect(wrong).toEqual([])
  })

  it('writes times as "YYYY-MM-DD HH:MM:SS" with beginTimestamp and local time consistent', () => {
    const format = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/
    const wrong: string[] = []
    for (const e of list) {
      const local = e.startTimeLocal as string
      if (!format.test(e.startTimeGMT) || !format.test(local)) wrong.push(`${e.activityId}: format`)
      if (parseGarminTime(e.startTimeGMT) !== e.beginTimestamp) wrong.push(`${e.activityId}: beginTimestamp`)
      const offsetH = (parseGarminTime(local) - parseGarminTime(e.startTimeGMT)) / 3_600_000
      if (!Number.isInteger(offsetH) || offsetH < -12 || offsetH > 14)
        wrong.push(`${e.activityId}: offset ${offsetH}`)
    }
    expect(wrong).toEqual([])
    // Home is Europe/Paris (Garmin's time zone 124): +1 h in winter, +2 h in summer.
    const offsets = (month: string) =>
      new Set(
        list
          .filter((e) => e.timeZoneId === 124 && e.startTimeGMT.slice(5, 7) === month)
          .map(
            (e) => (parseGarminTime(e.startTimeLocal as string) - (e.beginTimestamp as number)) / 3_600_000,
          ),
      )
    expect(offsets('01')).toEqual(new Set([1]))
    expect(offsets('07')).toEqual(new Set([2]))
  })

  it('includes emoji and other Unicode names, intact', () => {
    const names = list.map((e) => e.activityName as string)
    const emoji = names.filter((n) => EMOJI_NAMES.includes(n))
    expect(emoji.length).toBeGreaterThan(50)
    expect(names).toContain(fixtures.emojiActivity.activityName)
    expect(names).toContain('🚴‍♀️ Gravel loop')
    expect(names.some((n) => /[\u3040-\u30ff\u4e00-\u9fff]/.test(n))).toBe(true)
    expect(JSON.parse(JSON.stringify(list)).map((e: ActivityEntry) => e.activityName)).toEqual(names)
  })

  it('links multisport parents and children both ways', () => {
    const parents = list.filter((e) => e.parent === true)
    expect(parents.length).toBeGreaterThan(0)
    const byId = new Map(list.map((e) => [e.activityId, e]))
    for (const p of parents) {
      expect((p.activityType as { typeKey: string }).typeKey).toBe('multi_sport')
      const childIds = p.childIds as number[]
      expect(childIds.length).toBeGreaterThanOrEqual(3)
      expect(p.childActivityTypes).toHaveLength(childIds.length)
      for (const id of childIds) {
        const child = byId.get(id)
        expect(child?.parentId).toBe(p.activityId)
        expect(id).toBeGreaterThan(p.activityId)
        expect(child!.beginTimestamp as number).toBeGreaterThanOrEqual(p.beginTimestamp as number)
      }
    }
    const children = list.filter((e) => typeof e.parentId === 'number')
    expect(children.length).toBe(parents.reduce((n, p) => n + (p.childIds as number[]).length, 0))
  })

  it('varies types, distances and durations', () => {
    const types = new Set(list.map((e) => (e.activityType as { typeKey: string }).typeKey))
    expect(types.size).toBeGreaterThanOrEqual(8)
    const running = list.filter((e) => (e.activityType as { typeKey: string }).typeKey === 'running')
    for (const e of running) {
      const pace = (e.distance as number) / (e.duration as number)
      expect(pace).toBeGreaterThan(2)
      expect(pace).toBeLessThan(4.5)
    }
  })

  // How fast it is belongs in `npm run bench`, not in a verdict that depends on the machine's load.
  it('generates 10,000 activities with distinct ids', () => {
    const list = generate(10_000, 3, 8)
    expect(list).toHaveLength(10_000)
    expect(new Set(list.map((e) => e.activityId)).size).toBe(10_000)
  })
})

describe('more activities', () => {
  it('are newer than every existing one, with larger ids, newest first', () => {
    const gen = new ActivityGenerator({ seed: 4, owner })
    const existing = gen.generate(100, 1, NOW)
    const added = gen.more(5, existing, NOW + 3 * 86_400_000)
    expect(added).toHaveLength(5)
    const maxId = Math.max(...existing.map((e) => e.activityId))
    const newest = existing[0]!
    for (const e of added) {
      expect(e.activityId).toBeGreaterThan(maxId)
      expect(e.startTimeGMT > newest.startTimeGMT).toBe(true)
    }
    expect(added.map((e) => e.startTimeGMT)).toEqual(
      added
        .map((e) => e.startTimeGMT)
        .sort()
        .reverse(),
    )
    expect(Object.keys(added.find((e) => Object.keys(e).length >= TEMPLATE_KEYS.length)!)).toEqual(
      TEMPLATE_KEYS,
    )
  })
})

describe('activities file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'garmin-sim-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('is served newest first, entries unchanged (ids beyond 2^32 exact)', () => {
    const path = join(dir, 'list.json')
    const entries = [
      { activityId: 2541953812, startTimeGMT: '2018-03-08 11:23:22', activityName: 'Biel 🏛 Pavillon' },
      { activityId: 21034567890, startTimeGMT: '2026-11-01 07:00:00', extra: { nested: [1, 2] } },
    ]
    writeFileSync(path, JSON.stringify(entries))
    expect(loadActivitiesFile(path)).toEqual([entries[1], entries[0]])
  })

  it('is refused with a clear message when entries lack an id or time', () => {
    const path = join(dir, 'bad.json')
    writeFileSync(path, JSON.stringify([{ activityId: '12', startTimeGMT: '2020-01-01 00:00:00' }]))
    expect(() => loadActivitiesFile(path)).toThrow(/entry 0 has no integer activityId/)
    writeFileSync(path, JSON.stringify([{ activityId: 12, startTimeGMT: 'yesterday' }]))
    expect(() => loadActivitiesFile(path)).toThrow(/startTimeGMT/)
    writeFileSync(path, '{"not": "an array"}')
    expect(() => loadActivitiesFile(path)).toThrow(/JSON array/)
  })
})
