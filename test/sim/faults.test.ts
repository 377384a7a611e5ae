import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { FaultBook, parseFaultSpec, validateFaultRule } from './faults.js'
import { mulberry32 } from './prng.js'
import { DEFAULT_USER, type Simulator, startSimulator } from './server.js'
import { loginToSim, refreshTokens } from './session.js'

const COUNT = '/activitylist-service/activities/count'
const LIST = '/activitylist-service/activities/search/activities?start=0&limit=5'
const sleeps: number[] = []
let sim: Simulator
let token: string

beforeAll(async () => {
  // Latency is recorded, not waited for.
  sim = await startSimulator({ activities: 30, sleep: async (ms) => void sleeps.push(ms) })
  token = (await loginToSim(sim.url, DEFAULT_USER)).accessToken
})
afterAll(() => sim.close())
afterEach(() => {
  sim.clearFaults()
  sim.resetStats()
  sleeps.length = 0
})

function get(path: string): Promise<Response> {
  return fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${token}` } })
}

async function statuses(path: string, n: number): Promise<number[]> {
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const res = await get(path)
    await res.arrayBuffer()
    out.push(res.status)
  }
  return out
}

describe('status faults', () => {
  it('fail the next K requests on a route, then the route recovers', async () => {
    sim.addFault({ route: 'activityCount', fault: { kind: 'status', status: 503 }, times: 2 })
    expect(await statuses(COUNT, 3)).toEqual([503, 503, 200])
    expect(await statuses(LIST, 1)).toEqual([200])
    expect(sim.stats().byRoute.activityCount).toEqual({ '503': 2, '200': 1 })
  })

  it('answer 429 with or without Retry-After', async () => {
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 429, retryAfter: 30 }, times: 1 })
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 429 }, times: 1 })
    const first = await get(LIST)
    expect([first.status, first.headers.get('retry-after')]).toEqual([429, '30'])
    const second = await get(LIST)
    expect([second.status, second.headers.get('retry-after')]).toEqual([429, null])
    expect((await get(LIST)).status).toBe(200)
  })

  it('serve 500 as JSON and 502/503 as a proxy HTML page', async () => {
    for (const status of [500, 502, 503] as const) {
      sim.addFault({ route: '*', fault: { kind: 'status', status }, times: 1 })
      const res = await get(COUNT)
      expect(res.status).toBe(status)
      const type = res.headers.get('content-type') ?? ''
      expect(type.includes('json'), `${status} ${type}`).toBe(status === 500)
      await res.arrayBuffer()
    }
  })

  it('apply "*" rules to every route, including the token endpoint', async () => {
    sim.addFault({ route: '*', fault: { kind: 'status', status: 500 }, times: 2 })
    expect((await get(COUNT)).status).toBe(500)
    expect((await refreshTokens(sim.url, 'whatever')).status).toBe(500)
    expect(sim.stats().byRoute).toEqual({ activityCount: { '500': 1 }, token: { '500': 1 } })
  })
})

describe('other fault kinds', () => {
  it('reset the connection without an answer', async () => {
    sim.addFault({ route: 'activityCount', fault: { kind: 'reset' }, times: 1 })
    await expect(get(COUNT)).rejects.toThrow()
    expect((await get(COUNT)).status).toBe(200)
    expect(sim.stats().byRoute.activityCount).toEqual({ reset: 1, '200': 1 })
  })

  it('serve a Cloudflare challenge page', async () => {
    sim.addFault({ route: 'activityList', fault: { kind: 'html' }, times: 1 })
    const res = await get(LIST)
    expect(res.status).toBe(403)
    expect(res.headers.get('cf-mitigated')).toBe('challenge')
    expect(await res.text()).toMatch(/^<!DOCTYPE html>/)
  })

  it('serve 200 bodies that are not JSON', async () => {
    sim.addFault({ route: 'activityList', fault: { kind: 'malformed' }, times: 1 })
    const res = await get(LIST)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/json/)
    await expect(res.json()).rejects.toThrow(SyntaxError)
  })

  it('cut a body off mid-way, after the route ran (a rotated refresh token stays rotated)', async () => {
    const tokens = await loginToSim(sim.url, DEFAULT_USER)
    sim.addFault({ route: 'token', fault: { kind: 'truncated' }, times: 1 })
    await expect(refreshTokens(sim.url, tokens.refreshToken)).rejects.toThrow()
    const retry = await refreshTokens(sim.url, tokens.refreshToken)
    expect([retry.status, retry.body.error]).toEqual([400, 'invalid_grant'])
    sim.addFault({ route: 'activityList', fault: { kind: 'truncated' }, times: 1 })
    const res = await get(LIST)
    expect(res.status).toBe(200)
    await expect(res.text()).rejects.toThrow()
  })

  it('delay answers by a fixed or jittered latency, on top of the configured latency', async () => {
    sim.addFault({ route: 'activityCount', fault: { kind: 'latency', ms: 250 } })
    sim.addFault({ route: '*', fault: { kind: 'latency', ms: 100, jitterMs: 50 }, times: 3 })
    expect(await statuses(COUNT, 3)).toEqual([200, 200, 200])
    expect(sleeps).toHaveLength(3)
    for (const ms of sleeps) expect(ms >= 350 && ms <= 400).toBe(true)
    expect(new Set(sleeps).size).toBeGreaterThan(1)
    await get(COUNT)
    expect(sleeps[3]).toBe(250)
  })

  it('combine latency with a failure', async () => {
    sim.addFault({ route: 'activityList', fault: { kind: 'latency', ms: 40 }, times: 1 })
    sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 502 }, times: 1 })
    expect(await statuses(LIST, 2)).toEqual([502, 200])
    expect(sleeps).toEqual([40])
  })
})

describe('probability', () => {
  it('fails about p of the requests, in the same pattern for the same seed', async () => {
    const pattern = async (s: Simulator) => {
      const t = (await loginToSim(s.url, DEFAULT_USER)).accessToken
      s.addFault({ route: 'activityCount', fault: { kind: 'status', status: 500 }, probability: 0.3 })
      const out: number[] = []
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${s.url}${COUNT}`, { headers: { authorization: `Bearer ${t}` } })
        await res.arrayBuffer()
        out.push(res.status)
      }
      return out
    }
    const [a, b] = await Promise.all([
      startSimulator({ activities: 3, seed: 9 }),
      startSimulator({ activities: 3, seed: 9 }),
    ])
    try {
      const first = await pattern(a)
      expect(await pattern(b)).toEqual(first)
      const failures = first.filter((s) => s === 500).length
      expect(failures).toBeGreaterThan(6)
      expect(failures).toBeLessThan(32)
    } finally {
      await Promise.all([a.close(), b.close()])
    }
  })

  it('counts "times" only when the fault fired', () => {
    const book = new FaultBook(mulberry32(1))
    book.add({ route: 'download', fault: { kind: 'reset' }, times: 2, probability: 0.5 })
    let fired = 0
    for (let i = 0; i < 100; i++) if (book.take('download').failure) fired++
    expect(fired).toBe(2)
    expect(book.list()).toEqual([])
  })
})

describe('control routes', () => {
  it('add, list and clear faults over HTTP, rejecting bad rules', async () => {
    const add = await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ route: 'activityCount', fault: { kind: 'status', status: 404 }, times: 1 }),
    })
    expect(add.status).toBe(200)
    expect(
      ((await (await fetch(`${sim.url}/__sim/faults`)).json()) as { faults: unknown[] }).faults,
    ).toHaveLength(1)
    expect((await get(COUNT)).status).toBe(404)
    for (const bad of [
      { route: 'nope', fault: { kind: 'reset' } },
      { route: '*', fault: { kind: 'status', status: 418 } },
    ]) {
      const res = await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify(bad) })
      expect(res.status).toBe(400)
    }
    await fetch(`${sim.url}/__sim/faults`, {
      method: 'POST',
      body: JSON.stringify({ route: '*', fault: { kind: 'reset' } }),
    })
    await fetch(`${sim.url}/__sim/faults`, { method: 'POST', body: JSON.stringify({ clear: true }) })
    expect(sim.faults()).toEqual([])
    expect((await get(COUNT)).status).toBe(200)
  })

  it('count every simulated request by route and status, but not themselves; reset clears', async () => {
    await statuses(COUNT, 2)
    await get('/activity-service/activity/1')
    await fetch(`${sim.url}/__sim/faults`)
    const stats = (await (await fetch(`${sim.url}/__sim/stats`)).json()) as ReturnType<Simulator['stats']>
    expect(stats).toEqual({
      total: 3,
      byRoute: { activityCount: { '200': 2 }, activity: { '404': 1 } },
      unmatched: 0,
    })
    expect(sim.stats()).toEqual(stats)
    await fetch(`${sim.url}/__sim/reset`, { method: 'POST' })
    expect(sim.stats()).toEqual({ total: 0, byRoute: {}, unmatched: 0 })
  })

  it('move the sim clock', async () => {
    const before = ((await (await fetch(`${sim.url}/__sim/clock`)).json()) as { now: number }).now
    const res = await fetch(`${sim.url}/__sim/clock`, {
      method: 'POST',
      body: JSON.stringify({ advanceMs: 2 * 86_400_000 }),
    })
    const after = ((await res.json()) as { now: number }).now
    expect(after - before).toBeGreaterThanOrEqual(2 * 86_400_000)
    // The token issued in beforeAll lived one day.
    expect((await get(COUNT)).status).toBe(401)
    sim.advanceClock(-2 * 86_400_000)
    expect((await get(COUNT)).status).toBe(200)
  })
})

describe('fault specs (command line)', () => {
  it('parse statuses, kinds, arguments and options', () => {
    expect(parseFaultSpec('activityList:503:times=3')).toEqual({
      route: 'activityList',
      fault: { kind: 'status', status: 503 },
      times: 3,
    })
    expect(parseFaultSpec('login:429:60')).toEqual({
      route: 'login',
      fault: { kind: 'status', status: 429, retryAfter: 60 },
    })
    expect(parseFaultSpec('login:429:retry-after=5').fault).toEqual({
      kind: 'status',
      status: 429,
      retryAfter: 5,
    })
    expect(parseFaultSpec('*:latency:200:jitter=50')).toEqual({
      route: '*',
      fault: { kind: 'latency', ms: 200, jitterMs: 50 },
    })
    expect(parseFaultSpec('download:reset:p=0.1')).toEqual({
      route: 'download',
      fault: { kind: 'reset' },
      probability: 0.1,
    })
    expect(parseFaultSpec('token:html').fault).toEqual({ kind: 'html' })
  })

  it('name what is wrong', () => {
    expect(() => parseFaultSpec('activityList')).toThrow(/ROUTE:KIND/)
    expect(() => parseFaultSpec('bogus:500')).toThrow(/unknown route/)
    expect(() => parseFaultSpec('activity:418')).toThrow(/status must be one of/)
    expect(() => parseFaultSpec('activity:explode')).toThrow(/kind must be one of/)
    expect(() => parseFaultSpec('activity:500:times=0')).toThrow(/times/)
    expect(() => parseFaultSpec('activity:500:p=2')).toThrow(/probability/)
    expect(() => parseFaultSpec('activity:500:colour=red')).toThrow(/unknown option colour/)
    expect(() => validateFaultRule({ route: '*', fault: { kind: 'latency', ms: -1 } })).toThrow(/fault.ms/)
  })
})
