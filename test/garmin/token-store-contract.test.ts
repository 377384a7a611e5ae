/**
 * One TokenStore contract, run against every store: the private file, SSM on moto, a file that points
 * to SSM (after deploy moved the session), and the in-memory store the unit tests use. A store the
 * client can rely on loads what was saved, replaces it whole, clears idempotently, and, where it
 * offers `lockedRefresh`, never refreshes a token another run already rotated.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import type { TokenStore } from '../../src/garmin/types.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'
import { MemoryTokenStore, storedTokens } from './helpers.js'

let dir: string
let ssm: SSMClient
let n = 0
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-token-contract-'))
  ssm = new SSMClient({
    endpoint: inject('motoEndpoint'),
    region: TEST_REGION,
    credentials: TEST_CREDENTIALS,
  })
})
afterAll(async () => {
  ssm.destroy()
  await rm(dir, { recursive: true, force: true })
})

const parameter = () => `/garmin-s3-contract/${process.pid}-${Date.now()}-${++n}/tokens`

const kinds: { name: string; locks: boolean; fresh: () => Promise<TokenStore> }[] = [
  {
    name: 'file',
    locks: true,
    fresh: async () => new FileTokenStore(join(dir, `file-${++n}`, 'tokens.json')),
  },
  { name: 'SSM (moto)', locks: true, fresh: async () => new SsmTokenStore(parameter(), ssm) },
  {
    name: 'file pointing to SSM',
    locks: true,
    fresh: async () => {
      const name = parameter()
      // A pointer is only ever written to a parameter that holds a session.
      await new SsmTokenStore(name, ssm).save(storedTokens({ refreshToken: 'seed' }))
      const file = new FileTokenStore(join(dir, `pointer-${++n}`, 'tokens.json'), {
        openSsm: (pointed) => new SsmTokenStore(pointed, ssm),
      })
      await file.pointTo(`ssm:${name}`, TEST_REGION)
      return {
        location: file.location,
        load: () => file.load(),
        save: (t) => file.save(t),
        clear: async () => (await new SsmTokenStore(name, ssm).clear()) && (await file.clear()),
        lockedRefresh: (stale, refresh) => file.lockedRefresh(stale, refresh),
      }
    },
  },
  { name: 'memory (tests)', locks: false, fresh: async () => new MemoryTokenStore() },
]

describe.each(kinds)('TokenStore contract: $name', ({ name, fresh }) => {
  it('loads what was saved, and a second save replaces the first whole', async () => {
    const store = await fresh()
    if (name !== 'file pointing to SSM') expect(await store.load()).toBeUndefined()
    await store.save(storedTokens({ refreshToken: 'one', displayName: 'first' }))
    await store.save(storedTokens({ refreshToken: 'two', displayName: 'second' }))
    expect(await store.load()).toEqual(storedTokens({ refreshToken: 'two', displayName: 'second' }))
  })

  it('clears, and clearing again is harmless', async () => {
    const store = await fresh()
    await store.save(storedTokens())
    expect(await store.clear()).not.toBe(false)
    expect(await store.load()).toBeUndefined()
    await store.clear()
    expect(await store.load()).toBeUndefined()
  })
})

describe.each(kinds.filter((k) => k.locks))('TokenStore contract, refresh lock: $name', ({ fresh }) => {
  it('refreshes under lockedRefresh only when nobody rotated the token meanwhile', async () => {
    const store = await fresh()
    expect(store.lockedRefresh).toBeTypeOf('function')
    const stale = storedTokens({ refreshToken: 'old' })
    await store.save(stale)
    let refreshes = 0
    const rotate = async (current: typeof stale) => {
      refreshes++
      const next = { ...current, refreshToken: `new-${refreshes}` }
      await store.save(next)
      return next
    }
    expect((await store.lockedRefresh?.(stale, rotate))?.refreshToken).toBe('new-1')
    // A second run still holding `old`: it gets the rotated tokens, and sends no refresh.
    expect((await store.lockedRefresh?.(stale, rotate))?.refreshToken).toBe('new-1')
    expect(refreshes).toBe(1)
  })
})
