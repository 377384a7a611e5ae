/** GarminClient.requestReload against the simulator's archive mode: the four answers, typed; errors as elsewhere. */
import { afterEach, describe, expect, it } from 'vitest'
import { GarminS3Error } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { GarminUnavailableError, RateLimitedError, UnexpectedResponseError } from '../../src/garmin/errors.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { type Simulator, startSimulator } from '../sim/server.js'
import { MemoryTokenStore } from './helpers.js'

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0)
let sim: Simulator | undefined
afterEach(() => sim?.close())

async function setUp(reloadCap = 2) {
  const clock = new FakeClock(NOW)
  sim = await startSimulator({ activities: 5, now: () => clock.now(), archiveAfterDays: 180, reloadCap })
  const client = new GarminClient({
    tokenStore: new MemoryTokenStore(),
    endpoints: resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: sim.url } }),
    clock,
    random: () => 0.5,
  })
  await client.login({ email: sim.user.email, password: sim.user.password })
  return { clock, client, sim }
}

describe('requestReload', () => {
  it('returns SUBMITTED, COMPLETE, NO_FILES_FOUND and DENIED as Garmin answers them', async () => {
    const { client, sim } = await setUp(3)
    sim.loseArchivedDay('2026-01-02')
    expect(await client.requestReload('2026-01-01')).toBe('SUBMITTED')
    expect(await client.requestReload('2026-01-01')).toBe('COMPLETE')
    expect(await client.requestReload('2026-01-02')).toBe('NO_FILES_FOUND')
    expect(await client.requestReload('2026-01-03')).toBe('DENIED')
    expect(client.stats().requests.reload).toBe(4)
    expect(sim.stats().byRoute.reloadRequest).toEqual({ 200: 4 })
  })

  it('refuses a date that is not YYYY-MM-DD before asking Garmin', async () => {
    const { client, sim } = await setUp()
    await expect(client.requestReload('2026/01/01')).rejects.toBeInstanceOf(GarminS3Error)
    expect(sim.stats().byRoute.reloadRequest).toBeUndefined()
  })

  it('treats an unknown status as an unexpected answer, and 5xx and 429 as elsewhere', async () => {
    const { client, sim } = await setUp()
    sim.addFault({ route: 'reloadRequest', fault: { kind: 'rateLimitBody' }, times: 1 })
    await expect(client.requestReload('2026-01-01')).rejects.toBeInstanceOf(UnexpectedResponseError)
    sim.addFault({ route: 'reloadRequest', fault: { kind: 'status', status: 503 } })
    await expect(client.requestReload('2026-01-01')).rejects.toBeInstanceOf(GarminUnavailableError)
    sim.clearFaults()
    sim.addFault({ route: 'reloadRequest', fault: { kind: 'status', status: 429, retryAfter: 3600 } })
    await expect(client.requestReload('2026-01-01')).rejects.toBeInstanceOf(RateLimitedError)
  })
})
