/** The entry checks behind the quarantine (src/sync/quarantine.ts): cheap, and safe at any depth. */
import { describe, expect, it } from 'vitest'
import {
  checkEntry,
  MAX_ENTRY_DEPTH,
  nestingDepth,
  nextQuarantine,
  type QuarantinedEntry,
  stringifyDeep,
} from '../../src/sync/quarantine.js'

const ok = { activityId: 12_345_678_901, startTimeGMT: '2026-01-01 10:00:00', extra: { any: [1, 'a', null] } }

describe('checkEntry', () => {
  it('passes a usable entry with its exact JSON', () => {
    expect(checkEntry(ok)).toEqual({ ok: true, body: JSON.stringify(ok) })
  })

  it.each([
    [null, /not a JSON object/, 'null'],
    [{ ...ok, activityId: '../../x' }, /activityId/, '"../../x"'],
    [{ ...ok, activityId: 1.5 }, /activityId/, '1.5'],
    [{ ...ok, activityId: 0 }, /activityId/, '0'],
    [{ ...ok, activityId: 2 ** 60 }, /activityId/, String(2 ** 60)],
    [{ ...ok, activityId: 'x'.repeat(500) }, /activityId/, `"${'x'.repeat(36)}...`],
    [{ ...ok, startTimeGMT: 'yesterday' }, /startTimeGMT/, '12345678901'],
    [{ activityId: 1 }, /startTimeGMT/, '1'],
    [{ ...ok, blob: 'x'.repeat(1_100_000) }, /more than 1048576/, '12345678901'],
  ])('quarantines entry %# with its reason and a short id', (entry, reason, id) => {
    const checked = checkEntry(entry)
    expect(checked).toMatchObject({ ok: false, reason: expect.stringMatching(reason), id })
    expect(checked.ok === false && checked.fingerprint).toMatch(/^[0-9a-f]{16}$/)
  })

  it('measures 100,000 levels of nesting without recursion, and fingerprints them', () => {
    const depth = 100_000
    const text = `{"activityId":1,"startTimeGMT":"2026-01-01 10:00:00","d":${'['.repeat(depth)}${']'.repeat(depth)}}`
    const deep = JSON.parse(text)
    expect(nestingDepth(deep)).toBe(depth + 1)
    expect(nestingDepth(deep, MAX_ENTRY_DEPTH)).toBe(MAX_ENTRY_DEPTH + 1)
    const checked = checkEntry(deep)
    expect(checked).toMatchObject({
      ok: false,
      id: '1',
      reason: expect.stringMatching(/nested deeper than 64/),
    })
    expect(stringifyDeep(deep) === text).toBe(true)
  })

  it('stringifyDeep writes what JSON.stringify writes', () => {
    const value = JSON.parse('{"a":[1,-0,2.5e30,"é\\u2028\\"",true,null,{},[]],"":{"b":{"c":[[]]}}}')
    expect(stringifyDeep(value)).toBe(JSON.stringify(value))
    expect(stringifyDeep('x')).toBe('"x"')
  })
})

describe('nextQuarantine', () => {
  const q = (id: string, fingerprint = 'f', since = 's1'): QuarantinedEntry => ({
    id,
    reason: 'r',
    fingerprint,
    since,
  })

  it('keeps the first sighting of an unchanged entry, restarts a changed one, drops what a whole walk did not see', () => {
    const before = [q('1'), q('2'), q('3')]
    const seen = new Map([
      ['1', q('1', 'f', 's2')],
      ['2', q('2', 'g', 's2')],
    ])
    expect(nextQuarantine(before, seen, new Set(), true)).toEqual([q('1', 'f', 's1'), q('2', 'g', 's2')])
  })

  it('a run that stopped early keeps the ones it did not reach, except those it saw valid', () => {
    expect(nextQuarantine([q('1'), q('2')], new Map(), new Set(['2']), false)).toEqual([q('1')])
  })
})
