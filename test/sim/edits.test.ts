import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { DEFAULT_USER, type Simulator, startSimulator } from './server.js'
import { loginToSim } from './session.js'

const LIST = '/activitylist-service/activities/search/activities'
const clock = new FakeClock(Date.UTC(2026, 10, 28, 12, 0, 0))
let sim: Simulator
let token: string

beforeAll(async () => {
  sim = await startSimulator({ activities: 60, seed: 11, now: () => clock.now() })
  token = (await loginToSim(sim.url, DEFAULT_USER)).accessToken
})
afterAll(() => sim.close())

async function get(path: string): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, accept: 'application/json' },
  })
}
async function page(start: number, limit: number): Promise<ActivityEntry[]> {
  const res = await get(`${LIST}?start=${start}&limit=${limit}`)
  expect(res.status).toBe(200)
  return (await res.json()) as ActivityEntry[]
}
async function control(path: string, body: unknown): Promise<Response> {
  return fetch(`${sim.url}/__sim/activities/${path}`, { method: 'POST', body: JSON.stringify(body) })
}

describe('editing and deleting activities', () => {
  it('an edit changes the entry in place: pages read before and after it stay consistent', async () => {
    const before = sim.listAll()
    const first = await page(0, 20)
    const target = before[25]!
    // Edited between two pages, over HTTP: the second page holds it, with the new name, at its offset.
    const res = await control('edit', {
      activityId: target.activityId,
      fields: { activityName: 'Renamed 🏃', distance: 12_345.6 },
    })
    expect(res.status).toBe(200)
    const rest = [...(await page(20, 20)), ...(await page(40, 20))]
    const ids = [...first, ...rest].map((e) => e.activityId)
    expect(ids).toEqual(before.map((e) => e.activityId))
    const edited = rest.find((e) => e.activityId === target.activityId)!
    expect(edited).toMatchObject({ activityName: 'Renamed 🏃', distance: 12_345.6 })
    // The other fields and their order are kept.
    expect(Object.keys(edited)).toEqual(Object.keys(target))
    const detail = (await (await get(`/activity-service/activity/${target.activityId}`)).json()) as {
      activityName: string
    }
    expect(detail.activityName).toBe('Renamed 🏃')
  })

  it('an edit of the start time moves the entry to its place in the list', () => {
    const list = sim.listAll()
    const oldest = list.at(-1)!
    sim.editActivity(oldest.activityId, {
      startTimeGMT: '2026-11-28 06:00:00',
      startTimeLocal: '2026-11-28 07:00:00',
    })
    expect(sim.listAll()[0]!.activityId).toBe(oldest.activityId)
  })

  it('a deleted activity leaves the list, and every route answers 404 for it', async () => {
    const target = sim.listAll()[3]!
    const count = sim.listAll().length
    expect((await control('delete', { activityId: target.activityId })).status).toBe(200)
    const ids = (await page(0, 100)).map((e) => e.activityId)
    expect(ids).not.toContain(target.activityId)
    expect(ids).toHaveLength(count - 1)
    for (const suffix of ['', '/details', '/splits'])
      expect((await get(`/activity-service/activity/${target.activityId}${suffix}`)).status).toBe(404)
    expect((await control('delete', { activityId: target.activityId })).status).toBe(400)
  })

  it('refuses an edit of the id, or of an unknown activity', async () => {
    const id = sim.listAll()[0]!.activityId
    expect((await control('edit', { activityId: id, fields: { activityId: 1 } })).status).toBe(400)
    expect((await control('edit', { activityId: 1, fields: { activityName: 'x' } })).status).toBe(400)
    expect(() => sim.editActivity(1, { activityName: 'x' })).toThrow(/no activity 1/)
  })
})
