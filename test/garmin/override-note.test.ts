/**
 * With GARMIN_S3_GARMIN_URL set, an error about Garmin's answer says it came from the override (a
 * simulator), not from Garmin; without it, errors never mention the variable.
 */
import { afterAll, beforeAll, expect, it } from 'vitest'
import { GarminClient } from '../../src/garmin/client.js'
import { type GarminEndpoints, resolveEndpoints } from '../../src/garmin/endpoints.js'
import type { Transport } from '../../src/garmin/http.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { MemoryTokenStore } from './helpers.js'

let sim: Simulator
const clock = new FakeClock(Date.parse('2026-11-30T12:00:00Z'))
beforeAll(async () => {
  sim = await startSimulator({ activities: 3, now: () => clock.now() })
})
afterAll(() => sim.close())

/** Sends what is addressed to Garmin's real hosts to the simulator (loopback), so no override is set. */
const toSim: Transport = ((input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(String(input))
  return fetch(`${sim.url}${url.pathname}${url.search}`, init)
}) as Transport

function client(endpoints: GarminEndpoints): GarminClient {
  return new GarminClient({
    tokenStore: new MemoryTokenStore(),
    endpoints,
    transport: toSim,
    clock,
    random: () => 0.5,
    retryPolicy: { maxRetries: 0 },
  })
}

const withOverride = () => resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } })
const garmin = () => resolveEndpoints({ env: {} })

async function messages(endpoints: GarminEndpoints): Promise<string[]> {
  const c = client(endpoints)
  const wrongPassword = await c
    .login({ email: sim.user.email, password: 'not the password' })
    .catch((e: Error) => e.message)
  await c.login({ email: sim.user.email, password: sim.user.password })
  sim.addFault({ route: 'activityList', fault: { kind: 'status', status: 503 }, times: 1 })
  const unavailable = await c.listActivities({ start: 0, limit: 5 }).catch((e: Error) => e.message)
  sim.addFault({ route: 'activity', fault: { kind: 'malformed' }, times: 1 })
  const id = sim.listAll()[0]!.activityId
  const malformed = await c.getActivity(id).catch((e: Error) => e.message)
  sim.clearFaults()
  return [String(wrongPassword), String(unavailable), String(malformed)]
}

it('says the answer came from the override when GARMIN_S3_GARMIN_URL is set', async () => {
  const texts = await messages(withOverride())
  expect(texts).toHaveLength(3)
  for (const text of texts)
    expect(text).toContain(`GARMIN_S3_GARMIN_URL is set: this was ${sim.url}, not Garmin.`)
})

it('never mentions the variable when talking to Garmin', async () => {
  for (const text of await messages(garmin())) expect(text).not.toContain('GARMIN_S3_GARMIN_URL')
})
