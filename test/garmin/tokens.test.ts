/** Token stores: the private file (permissions, symlinks, atomic replace) and SSM through moto_server. */
import {
  chmod,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { TokenStoreError } from '../../src/garmin/errors.js'
import { defaultTokenPath, FileTokenStore, openTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import { TEST_CREDENTIALS, TEST_REGION } from '../helpers/servers.js'
import { storedTokens } from './helpers.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'garmin-s3-tokens-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const mode = async (path: string) => (await stat(path)).mode & 0o777

describe('FileTokenStore', () => {
  it('creates a private folder and file, and reads back what it wrote', async () => {
    const store = new FileTokenStore(join(dir, 'fresh', 'garmin-s3', 'tokens.json'))
    expect(await store.load()).toBeUndefined()
    const tokens = storedTokens()
    await store.save(tokens)
    expect(await mode(join(dir, 'fresh', 'garmin-s3'))).toBe(0o700)
    expect(await mode(store.path)).toBe(0o600)
    expect(await store.load()).toEqual(tokens)
  })

  it('replaces the file whole (rename), leaving no temporary files behind', async () => {
    const store = new FileTokenStore(join(dir, 'replace', 'tokens.json'))
    await store.save(storedTokens({ refreshToken: 'first' }))
    const before = (await stat(store.path)).ino
    await store.save(storedTokens({ refreshToken: 'second' }))
    expect((await stat(store.path)).ino).not.toBe(before)
    expect((await store.load())?.refreshToken).toBe('second')
    expect(await readdir(join(dir, 'replace'))).toEqual(['tokens.json'])
  })

  it('refuses a token file other users can read, saying how to fix it', async () => {
    const store = new FileTokenStore(join(dir, 'open', 'tokens.json'))
    await store.save(storedTokens())
    await chmod(store.path, 0o644)
    const error = await store.load().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenStoreError)
    expect((error as TokenStoreError).message).toContain('can be read by other users')
    expect((error as TokenStoreError).hint).toContain(`chmod 600 ${store.path}`)
    await chmod(store.path, 0o600)
    expect(await store.load()).toBeDefined()
  })

  it('refuses a symlinked token file or folder, for reading and writing', async () => {
    const real = new FileTokenStore(join(dir, 'real', 'tokens.json'))
    await real.save(storedTokens())
    const linkedFile = join(dir, 'linked-file', 'tokens.json')
    await mkdir(join(dir, 'linked-file'), { mode: 0o700 })
    await symlink(real.path, linkedFile)
    const viaFile = new FileTokenStore(linkedFile)
    await expect(viaFile.load()).rejects.toThrow(/symbolic link/)
    await expect(viaFile.save(storedTokens({ refreshToken: 'hijack' }))).rejects.toThrow(/symbolic link/)
    await symlink(join(dir, 'real'), join(dir, 'linked-dir'))
    const viaDir = new FileTokenStore(join(dir, 'linked-dir', 'tokens.json'))
    await expect(viaDir.load()).rejects.toThrow(/symbolic link/)
    await expect(viaDir.save(storedTokens({ refreshToken: 'hijack' }))).rejects.toThrow(/symbolic link/)
    expect((await real.load())?.refreshToken).toBe('refresh-token-1')
    expect((await lstat(linkedFile)).isSymbolicLink()).toBe(true)
  })

  it('rejects a corrupt file with a next step and deletes idempotently', async () => {
    const path = join(dir, 'corrupt', 'tokens.json')
    await mkdir(join(dir, 'corrupt'), { mode: 0o700 })
    await writeFile(path, '{"version":1', { mode: 0o600 })
    const store = new FileTokenStore(path)
    await expect(store.load()).rejects.toThrow(/not valid JSON/)
    expect(await store.clear()).toBe(true)
    expect(await store.clear()).toBe(false)
    await expect(readFile(path)).rejects.toThrow()
  })
})

describe('openTokenStore', () => {
  it('defaults to the XDG config folder, else ~/.config', () => {
    expect(defaultTokenPath({ XDG_CONFIG_HOME: '/cfg', HOME: '/home/u' })).toBe('/cfg/garmin-s3/tokens.json')
    expect(defaultTokenPath({ HOME: '/home/u' })).toBe('/home/u/.config/garmin-s3/tokens.json')
    expect(openTokenStore(undefined, { HOME: '/home/u' }).location).toBe(
      '/home/u/.config/garmin-s3/tokens.json',
    )
  })

  it('takes the flag over GARMIN_S3_TOKEN_STORE, expands ~ and understands ssm:/', () => {
    const env = { HOME: '/home/u', GARMIN_S3_TOKEN_STORE: '/env/tokens.json' }
    expect(openTokenStore(undefined, env).location).toBe('/env/tokens.json')
    expect(openTokenStore('~/t.json', env).location).toBe('/home/u/t.json')
    const ssm = openTokenStore('ssm:/garmin-s3/tokens', env)
    expect(ssm).toBeInstanceOf(SsmTokenStore)
    expect(ssm.location).toBe('ssm:/garmin-s3/tokens')
    expect(() => openTokenStore('ssm:garmin', env)).toThrow(/not an SSM token store/)
    expect(() => openTokenStore('ssm:/bad name', env)).toThrow(/not a valid SSM parameter name/)
  })
})

describe('SsmTokenStore (moto_server)', () => {
  const client = () =>
    new SSMClient({ endpoint: inject('motoEndpoint'), region: TEST_REGION, credentials: TEST_CREDENTIALS })

  it('round-trips tokens as a SecureString, overwrites, and deletes idempotently', async () => {
    const ssm = client()
    const name = `/garmin-s3-test/${Date.now()}/tokens`
    const store = new SsmTokenStore(name, ssm)
    expect(await store.load()).toBeUndefined()
    await store.save(storedTokens({ refreshToken: 'one' }))
    await store.save(storedTokens({ refreshToken: 'two' }))
    expect((await store.load())?.refreshToken).toBe('two')
    const raw = await ssm.send(new GetParameterCommand({ Name: name }))
    expect(raw.Parameter?.Type).toBe('SecureString')
    expect(await store.clear()).toBe(true)
    expect(await store.clear()).toBe(false)
    expect(await store.load()).toBeUndefined()
    ssm.destroy()
  })

  it('turns AWS failures into a message naming the permission, not a stack', async () => {
    const broken = new SSMClient({
      endpoint: 'http://127.0.0.1:9',
      region: TEST_REGION,
      credentials: TEST_CREDENTIALS,
      maxAttempts: 1,
    })
    const error = await new SsmTokenStore('/garmin-s3/tokens', broken).load().catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TokenStoreError)
    expect((error as TokenStoreError).hint).toContain('ssm:GetParameter')
    broken.destroy()
  })
})
