import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FakeClock } from '../helpers/fake-clock.js'
import { DEFAULT_USER, type Simulator, startSimulator } from './server.js'
import { loginToSim } from './session.js'

const clock = new FakeClock(Date.UTC(2026, 10, 28, 12, 0, 0))
let sim: Simulator
let token: string

beforeAll(async () => {
  sim = await startSimulator({
    activities: 20,
    years: 1,
    seed: 3,
    now: () => clock.now(),
    archiveAfterDays: 180,
    reloadCap: 3,
    gapDays: 0,
  })
  token = (await loginToSim(sim.url, DEFAULT_USER)).accessToken
})
afterAll(() => sim.close())

const OLD = '2026-03-01'
const RECENT = '2026-11-01'

async function call(path: string, method = 'GET', auth = true): Promise<Response> {
  return fetch(`${sim.url}${path}`, {
    method,
    headers: { accept: 'application/json', ...(auth ? { authorization: `Bearer ${token}` } : {}) },
  })
}
async function body(path: string): Promise<Record<string, unknown>> {
  const res = await call(path)
  expect(res.status, path).toBe(200)
  return (await res.json()) as Record<string, unknown>
}
const heartRate = (d: string) => `/wellness-service/wellness/dailyHeartRate/runner_1?date=${d}`
const stress = (d: string) => `/wellness-service/wellness/dailyStress/${d}`
const sleep = (d: string) =>
  `/wellness-service/wellness/dailySleepData/runner_1?date=${d}&nonSleepBufferMinutes=60`
const reload = (d: string) => call(`/wellness-service/wellness/epoch/request/${d}`, 'POST')
async function statusOf(res: Response): Promise<string> {
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return (JSON.parse(text) as { status: string }).status
}

describe('archive mode', () => {
  it('answers old days with the summary and without samples; recent days with both', async () => {
    const oldHr = await body(heartRate(OLD))
    expect(oldHr.heartRateValues).toBeNull()
    expect(oldHr.restingHeartRate).toEqual(expect.any(Number))
    const oldStress = await body(stress(OLD))
    expect(oldStress.stressValuesArray).toBeNull()
    expect(oldStress.avgStressLevel).toEqual(expect.any(Number))
    const oldSleep = await body(sleep(OLD))
    expect(oldSleep.sleepLevels).toBeNull()
    expect(oldSleep.sleepMovement).toBeNull()
    expect((oldSleep.dailySleepDTO as { sleepTimeSeconds: number }).sleepTimeSeconds).toBeGreaterThan(0)

    expect(((await body(heartRate(RECENT))).heartRateValues as unknown[]).length).toBeGreaterThan(0)
    expect(((await body(stress(RECENT))).stressValuesArray as unknown[]).length).toBeGreaterThan(0)
    const recentSleep = await body(sleep(RECENT))
    expect((recentSleep.sleepLevels as unknown[]).length).toBeGreaterThan(0)
    expect((recentSleep.sleepMovement as unknown[]).length).toBeGreaterThan(0)
  })

  it('restores a day on SUBMITTED, answers COMPLETE after, NO_FILES_FOUND without data, DENIED past the cap', async () => {
    expect(await statusOf(await reload(OLD))).toBe('SUBMITTED')
    expect(((await body(heartRate(OLD))).heartRateValues as unknown[]).length).toBeGreaterThan(0)
    expect(((await body(sleep(OLD))).sleepLevels as unknown[]).length).toBeGreaterThan(0)
    expect(await statusOf(await reload(OLD))).toBe('COMPLETE')
    sim.loseArchivedDay('2026-03-02')
    expect(await statusOf(await reload('2026-03-02'))).toBe('NO_FILES_FOUND')
    expect((await body(heartRate('2026-03-02'))).heartRateValues).toBeNull()
    // The cap (3 here) is spent: DENIED, and the day stays archived.
    expect(await statusOf(await reload('2026-03-03'))).toBe('DENIED')
    expect((await body(heartRate('2026-03-03'))).heartRateValues).toBeNull()

    // The next day brings a new quota (control route, as a separately started sim is driven).
    const moved = await fetch(`${sim.url}/__sim/clock`, { method: 'POST', body: '{"nextDay":true}' })
    expect(((await moved.json()) as { today: string }).today).toBe('2026-11-29')
    token = (await loginToSim(sim.url, DEFAULT_USER)).accessToken
    expect(await statusOf(await reload('2026-03-03'))).toBe('SUBMITTED')
    expect(sim.reloads().map((r) => [r.date, r.status, r.on])).toEqual([
      [OLD, 'SUBMITTED', '2026-11-28'],
      [OLD, 'COMPLETE', '2026-11-28'],
      ['2026-03-02', 'NO_FILES_FOUND', '2026-11-28'],
      ['2026-03-03', 'DENIED', '2026-11-28'],
      ['2026-03-03', 'SUBMITTED', '2026-11-29'],
    ])
    const listed = (await (await fetch(`${sim.url}/__sim/reloads`)).json()) as { reloads: unknown[] }
    expect(listed.reloads).toHaveLength(5)
  })

  it('is as strict as Garmin: a token, POST and a real date', async () => {
    expect((await call(`/wellness-service/wellness/epoch/request/${OLD}`, 'POST', false)).status).toBe(401)
    expect((await call(`/wellness-service/wellness/epoch/request/${OLD}`, 'GET')).status).toBe(405)
    for (const bad of ['2026-02-30', '20260301', 'yesterday']) {
      expect((await reload(bad)).status, bad).toBe(400)
    }
    // A future day has nothing to restore.
    const before = sim.reloads().length
    expect(await statusOf(await reload('2027-01-01'))).toBe('NO_FILES_FOUND')
    expect(sim.reloads()).toHaveLength(before + 1)
  })
})
