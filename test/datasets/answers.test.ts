/**
 * Answers Garmin really gives on the data path (issue 13 §6), end to end: simulator -> client -> sync ->
 * store. A privacyProtected day or a JSON 403 on one item fails that item only; it is neither stored nor
 * marked done, and everything else is stored. A renamed display name is read again once per run; an
 * account without one loses only the paths that need it, and the report says so.
 */

import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { EXIT } from '../../src/errors.js'
import { GarminClient } from '../../src/garmin/client.js'
import { resolveEndpoints } from '../../src/garmin/endpoints.js'
import { ItemRefusedError } from '../../src/garmin/errors.js'
import { FileTokenStore } from '../../src/garmin/tokens.js'
import { readDatasetState } from '../../src/sync/dataset-state.js'
import { type DailyDataset, dailyKey, datasetPrefix, datasetSpec } from '../../src/sync/datasets.js'
import { addDays } from '../../src/sync/time.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { MemoryStore } from '../helpers/memory-store.js'
import { type SimOptions, type Simulator, startSimulator } from '../sim/server.js'
import { NOW, PREFIX, signedInClient, syncer, TODAY } from './helpers.js'

let sim: Simulator | undefined
afterEach(async () => {
  await sim?.close()
  sim = undefined
})

async function account(options: SimOptions = {}): Promise<Simulator> {
  sim = await startSimulator({ activities: 4, years: 1, seed: 3, now: () => NOW, gapDays: 0, ...options })
  return sim
}

const SINCE = addDays(TODAY, -4)
const day = (offset: number) => addDays(TODAY, -offset)
const spec = (name: string) => datasetSpec(name) as DailyDataset
const key = (name: string, date: string) => dailyKey(datasetPrefix(PREFIX, name), spec(name), date)

async function pendingDays(store: MemoryStore, name: string): Promise<unknown> {
  const state = await readDatasetState(store, PREFIX)
  return state.datasets[datasetPrefix(PREFIX, name)]
}

it('a privacyProtected day is an authorization failure for that day only: not stored, not done, retried next run', async () => {
  const s = await account()
  s.protectDaily('sleep', day(2))
  s.nullDaily('sleep', day(3))
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const { sync } = syncer(await signedInClient(s, clock), store, clock)

  const report = await sync({ since: SINCE, datasets: ['sleep'] })
  expect(report).toMatchObject({ exitCode: EXIT.partial, partial: true })
  expect(report.datasets?.sleep?.failed).toBe(1)
  expect(report.errors?.map((e) => [e.dataset, e.date])).toEqual([['sleep', day(2)]])
  expect(report.errors?.[0]?.message).toMatch(/privacy/i)
  // The other days are stored, the null-filled one as Garmin sent it; the protected one is not.
  expect(store.objects.has(key('sleep', day(2)))).toBe(false)
  for (const offset of [0, 1, 3, 4]) expect(store.objects.has(key('sleep', day(offset)))).toBe(true)
  const nullDay = JSON.parse(Buffer.from(store.objects.get(key('sleep', day(3)))!.body).toString())
  expect(Object.values(nullDay).every((v) => v === null)).toBe(true)
  expect(await pendingDays(store, 'sleep')).toMatchObject({ pending: [day(2)] })
})

it('a JSON 403 on one activity item fails that item, not the run, and says nothing about logging in', async () => {
  const s = await account()
  s.addFault({ route: 'activitySplits', fault: { kind: 'status', status: 403 }, times: 1 })
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const { sync } = syncer(await signedInClient(s, clock), store, clock)

  const report = await sync({ datasets: ['activities', 'splits'] })
  expect(report).toMatchObject({ exitCode: EXIT.partial, partial: true })
  expect(report.datasets?.splits).toMatchObject({ failed: 1, created: 3 })
  expect(report.errors).toHaveLength(1)
  expect(report.errors?.[0]?.message).toMatch(/HTTP 403/)
  expect(`${report.errors?.[0]?.message} ${report.errors?.[0]?.hint}`).not.toMatch(/garmin-s3 login/)

  // The next run asks for that one item again and stores it.
  const again = await sync({ datasets: ['activities', 'splits'] })
  expect(again).toMatchObject({ exitCode: EXIT.ok })
  expect(again.datasets?.splits).toMatchObject({ failed: 0, created: 1 })
})

it('a renamed display name is read again once per run, and the paths that use it go on', async () => {
  const s = await account()
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  const garmin = await signedInClient(s, clock)
  const { sync } = syncer(garmin, store, clock)
  s.renameDisplayName('runner_renamed')
  s.resetStats()

  const report = await sync({ since: SINCE, datasets: ['sleep', 'heart-rate', 'stress'] })
  expect(report).toMatchObject({ exitCode: EXIT.ok })
  expect(report.datasets?.sleep?.created).toBe(5)
  expect(report.datasets?.['heart-rate']?.created).toBe(5)
  // One profile read for the whole run, however many calls met the old name.
  expect(s.stats().byRoute.socialProfile?.['200']).toBe(1)
  expect((await garmin.tokens()).displayName).toBe('runner_renamed')
})

it('an account without a display name signs in (profile id) and loses only the paths that need the name', async () => {
  const s = await account({ noDisplayName: true })
  const store = new MemoryStore()
  const clock = new FakeClock(NOW)
  // A token file, as a user has: what login stored must load again in the next run.
  const tokenStore = new FileTokenStore(
    join(await mkdtemp(join(tmpdir(), 'garmin-s3-noname-')), 'tokens.json'),
  )
  const endpoints = resolveEndpoints({ env: { GARMIN_S3_GARMIN_URL: s.url } })
  await new GarminClient({ tokenStore, endpoints, clock }).login({
    email: s.user.email,
    password: s.user.password,
  })
  expect(await tokenStore.load()).toMatchObject({ displayName: '', profileId: s.user.profileId })
  const garmin = new GarminClient({ tokenStore, endpoints, clock, random: () => 0.5 })
  const { sync } = syncer(garmin, store, clock)
  s.resetStats()

  const report = await sync({ since: SINCE, datasets: ['sleep', 'stress'] })
  expect(report).toMatchObject({ exitCode: EXIT.partial })
  expect(report.datasets?.stress?.created).toBe(5)
  expect(report.datasets?.sleep).toMatchObject({ created: 0, failed: 5 })
  expect(report.errors?.[0]?.message).toMatch(/display name/)
  expect(report.errors?.[0]?.hint).toMatch(/connect\.garmin\.com/)
  // Asked once whether a name has been set since, not once per day.
  expect(s.stats().byRoute.socialProfile?.['200']).toBe(1)
  // The failing paths were never sent with a made-up name.
  expect(s.stats().byRoute.sleep).toBeUndefined()
})

it('the refusal is an item error (exit 1), never a sign-in error', async () => {
  const s = await account()
  s.protectDaily('stress', day(1))
  const garmin = await signedInClient(s, new FakeClock(NOW))
  const error = await garmin.getDaily('stress', day(1)).catch((e: unknown) => e)
  expect(error).toBeInstanceOf(ItemRefusedError)
  expect((error as ItemRefusedError).exitCode).toBe(EXIT.failure)
})
