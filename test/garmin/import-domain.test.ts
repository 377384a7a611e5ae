/**
 * `login --import` takes the Garmin domain from the token's issuer (`iss`), so imported China tokens
 * refresh against garmin.cn without `--domain`. The injected transport records where the first request
 * would go and refuses it: nothing leaves this machine.
 */
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, it } from 'vitest'
import { DomainMismatchError } from '../../src/garmin/errors.js'
import type { Transport } from '../../src/garmin/http.js'
import { issuerDomain } from '../../src/garmin/jwt.js'
import { type LoginIo, runLogin } from '../../src/garmin/login.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { fakeJwt } from './helpers.js'

const chinaToken = fakeJwt({ iss: 'https://diauth.garmin.cn', client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI' })

function pythonFile(accessToken: string): string {
  return JSON.stringify({
    di_token: accessToken,
    di_refresh_token: 'refresh-token-cn',
    di_client_id: 'GARMIN_CONNECT_MOBILE_ANDROID_DI',
  })
}

async function importWith(env: NodeJS.ProcessEnv, domain?: string) {
  const hosts: string[] = []
  const transport = (async (input: string | URL | Request) => {
    hosts.push(new URL(String(input)).host)
    throw new TypeError('no network in this test')
  }) as Transport
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-import-'))
  const io: LoginIo = {
    env: { HOME: dir, ...env },
    interactive: false,
    promptEmail: async () => '',
    promptPassword: async () => '',
    promptMfa: async () => '',
    readStdin: async () => pythonFile(chinaToken),
    clock: new FakeClock(Date.parse('2026-11-30T12:00:00Z')),
    transport,
  }
  const error = await runLogin(
    { importFrom: '-', tokenStore: join(dir, 'tokens.json'), ...(domain ? { domain } : {}) },
    io,
  ).catch((e: unknown) => e)
  return { hosts, error }
}

it('reads the domain from the issuer of a token', () => {
  expect(issuerDomain(chinaToken)).toBe('garmin.cn')
  expect(issuerDomain(fakeJwt({ iss: 'https://diauth.garmin.com' }))).toBe('garmin.com')
  expect(issuerDomain(fakeJwt({ iss: 'https://diauth.garmin.com.attacker.invalid' }))).toBeUndefined()
  expect(issuerDomain(fakeJwt({}))).toBeUndefined()
})

it('an imported China token refreshes against garmin.cn without --domain', async () => {
  const { hosts } = await importWith({})
  expect(hosts).toEqual(['diauth.garmin.cn'])
})

it('an explicit --domain that contradicts the token is refused before any request', async () => {
  const { hosts, error } = await importWith({}, 'garmin.com')
  expect(error).toBeInstanceOf(DomainMismatchError)
  expect((error as Error).message).toContain('garmin.cn')
  expect(hosts).toEqual([])
})
