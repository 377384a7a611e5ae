import { Decoder, Stream } from '@garmin/fitsdk'
import { describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { encodeFit } from './fit.js'
import { ActivityGenerator, sportFor } from './generator.js'

const owner = { profileId: 81_234_567, displayName: 'runner_1', fullName: 'Sim Runner' }
const list = new ActivityGenerator({ seed: 5, owner }).generate(1500, 3, Date.UTC(2026, 10, 28, 12))

function typeKey(e: ActivityEntry): string {
  return (e.activityType as { typeKey: string }).typeKey
}

describe('FIT originals', () => {
  it('decode for every activity type with the matching sport, times and distance', () => {
    const byType = new Map<string, ActivityEntry>()
    for (const e of list) if (!byType.has(typeKey(e))) byType.set(typeKey(e), e)
    expect(byType.size).toBeGreaterThanOrEqual(12)
    const wrong: string[] = []
    for (const [key, entry] of byType) {
      const decoder = new Decoder(Stream.fromByteArray(encodeFit(entry, 5)))
      if (!decoder.checkIntegrity()) wrong.push(`${key}: integrity`)
      const { messages, errors } = decoder.read()
      const session = messages.sessionMesgs?.[0]
      const sport = sportFor(key)
      if (errors.length > 0) wrong.push(`${key}: ${errors.join()}`)
      if (session?.sport !== sport.fitSport || session?.subSport !== sport.fitSubSport) {
        wrong.push(`${key}: ${session?.sport}/${session?.subSport}`)
      }
      if (session?.startTime?.valueOf() !== entry.beginTimestamp) wrong.push(`${key}: start`)
      const distance = typeof entry.distance === 'number' ? entry.distance : 0
      if (Math.abs((session?.totalDistance ?? -1) - distance) > 0.01) wrong.push(`${key}: distance`)
      if (!messages.activityMesgs?.length) wrong.push(`${key}: no activity message`)
    }
    expect(wrong).toEqual([])
  })

  it('are byte-identical for the same entry and seed, and differ between activities', () => {
    const [a, b] = [list[0]!, list[1]!]
    expect(Buffer.from(encodeFit(a, 5)).equals(Buffer.from(encodeFit(a, 5)))).toBe(true)
    expect(Buffer.from(encodeFit(a, 5)).equals(Buffer.from(encodeFit(b, 5)))).toBe(false)
  })
})
