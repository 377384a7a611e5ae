/** Token stores: the private file (permissions, symlinks, atomic replace) and SSM through moto_server. */

import { execFileSync } from 'node:child_process'
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
import type { TokenStore } from '../../src/garmin/types.js'
import { FakeClock } from '../helpers/fake-clock.js'
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

  it('rejects a corrupt file as "sign in again" (exit 3) and deletes it only with force', async () => {
    const path = join(dir, 'corrupt', 'tokens.json')
    await mkdir(join(dir, 'corrupt'), { mode: 0o700 })
    await writeFile(path, '{"version":1', { mode: 0o600 })
    const store = new FileTokenStore(path)
    await expect(store.load()).rejects.toMatchObject({
      exitCode: 3,
      message: expect.stringMatching(/not valid JSON/),
    })
    await expect(store.clear()).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('--force'),
    })
    expect(await store.clear({ force: true })).toBe(true)
    expect(await store.clear({ force: true })).toBe(false)
    await expect(readFile(path)).rejects.toThrow()
  })
})

describe('FileTokenStore leftovers', () => {
  it('a save sweeps the temporary files of killed writers and lockers, and nothing else', async () => {
    const folder = join(dir, 'leftovers')
    await mkdir(folder, { mode: 0o700 })
    const dead = deadPid()
    const hex = 'a1b2c3d4e5f6'
    const killed = [
      `.tokens.${dead}.${hex}.tmp`,
      `tokens.json.lock.${dead}.${hex}.tmp`,
      `tokens.json.lock.break.${dead}.${hex}.tmp`,
    ]
    const kept = [`.tokens.${process.pid}.${hex}.tmp`, `other.json.lock.${dead}.${hex}.tmp`, 'notes.txt']
    for (const name of [...killed, ...kept]) await writeFile(join(folder, name), 'x', { mode: 0o600 })
    await new FileTokenStore(join(folder, 'tokens.json')).save(storedTokens())
    expect((await readdir(folder)).sort()).toEqual([...kept, 'tokens.json'].sort())
  })
})

describe('FileTokenStore pointing to SSM', () => {
  it('when the parameter cannot be read, names the pointer file and the way back to a local login', async () => {
    await mkdir(join(dir, 'unreadable-pointer'), { mode: 0o700 })
    const path = join(dir, 'unreadable-pointer', 'tokens.json')
    const denied: TokenStore = {
      location: 'ssm:/gone/tokens',
      load: async () => {
        throw new TokenStoreError('Cannot read the SSM parameter /gone/tokens (CredentialsProviderError).', {
          hint: 'Check the AWS credentials and region.',
        })
      },
      save: async () => undefined,
      clear: async () => false,
    }
    const local = new FileTokenStore(path, { openSsm: () => denied })
    await local.pointTo('ssm:/gone/tokens', TEST_REGION)
    const error = (await local.load().catch((e: unknown) => e)) as TokenStoreError
    expect(error).toBeInstanceOf(TokenStoreError)
    expect(error.exitCode).toBe(1)
    expect(error.message).toContain('Cannot read the SSM parameter /gone/tokens (CredentialsProviderError).')
    expect(error.message).toContain(`${path} points there`)
    expect(error.hint).toContain('Check the AWS credentials and region.')
    expect(error.hint).toContain('garmin-s3 logout')
  })
})

describe('FileTokenStore refuses what is not a private token file before anything is sent', () => {
  const at = async (name: string, folderMode = 0o700) => {
    await mkdir(join(dir, name), { mode: folderMode })
    await chmod(join(dir, name), folderMode)
    return new FileTokenStore(join(dir, name, 'tokens.json'))
  }

  it('answers at once for a FIFO at the token path, instead of hanging', async () => {
    const store = await at('fifo')
    execFileSync('mkfifo', ['-m', '600', store.path])
    await expect(store.load()).rejects.toMatchObject({ exitCode: 2, message: expect.stringMatching(/pipe/) })
    await expect(store.checkWritable()).rejects.toThrow(/pipe/)
  })

  it('refuses a folder at the token path, and a folder others can write with a chmod 700 hint', async () => {
    const folderAtPath = await at('folder-at-path')
    await mkdir(folderAtPath.path)
    await expect(folderAtPath.checkWritable()).rejects.toThrow(/is a folder, not a file/)
    const open = await at('world-writable', 0o777)
    for (const attempt of [open.checkWritable(), open.load(), open.save(storedTokens())]) {
      await expect(attempt).rejects.toMatchObject({
        exitCode: 2,
        hint: expect.stringContaining(`chmod 700 ${join(dir, 'world-writable')}`),
      })
    }
    expect(await readdir(join(dir, 'world-writable'))).toEqual([])
  })

  it('never advises closing a shared folder such as /tmp: it points to a private folder inside it', async () => {
    const shared = await at('sticky', 0o1777)
    const error = await shared.checkWritable().catch((e: unknown) => e)
    const folder = join(dir, 'sticky')
    expect(error).toMatchObject({
      exitCode: 2,
      message: expect.stringContaining('(mode 1777)'),
      hint: `It is a shared folder: keep the tokens in a private one, e.g. \`mkdir -m 700 ${join(folder, 'garmin-s3')}\` and --token-store ${join(folder, 'garmin-s3', 'tokens.json')}.`,
    })
    expect((error as { hint: string }).hint).not.toContain('chmod')
  })

  it('will not overwrite or delete a file that is no token file, unless forced', async () => {
    const store = await at('foreign')
    await writeFile(store.path, '-----BEGIN OPENSSH PRIVATE KEY-----\n', { mode: 0o600 })
    await expect(store.checkWritable()).rejects.toMatchObject({
      exitCode: 2,
      hint: expect.stringContaining('--force'),
    })
    await expect(store.clear()).rejects.toThrow(/not a garmin-s3 token file/)
    expect(await readFile(store.path, 'utf8')).toContain('PRIVATE KEY')
    await writeFile(store.path, '{"editor.fontSize": 14}', { mode: 0o600 })
    await expect(store.checkWritable()).rejects.toThrow(/not a garmin-s3 token file/)
    await store.checkWritable({ force: true })
    await store.save(storedTokens())
    await store.checkWritable()
  })

  it('names the wrong field, never its value (a token pasted into "version")', async () => {
    const store = await at('version-field')
    const secret = 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0.c2ln'
    await writeFile(store.path, JSON.stringify({ ...storedTokens(), version: secret }), { mode: 0o600 })
    const error = (await store.load().catch((e: unknown) => e)) as TokenStoreError
    expect(error).toMatchObject({ exitCode: 3, message: expect.stringContaining('"version" field') })
    expect(`${error.message} ${error.hint}`).not.toContain(secret)
  })
})

/** The pid of a process that has exited. */
const deadPid = () => Number(execFileSync('sh', ['-c', 'sh -c "echo \\$\\$" ']).toString().trim())

describe('FileTokenStore refresh lock', () => {
  /**
   * A refresh of the token file in `folder` while another process (this one's pid: alive) holds its
   * lock, which starts as `lock`; `onPoll(n)` plays that process at the waiting refresh's nth poll.
   */
  async function refreshWhileLocked(
    folder: string,
    lock: string,
    onPoll: (poll: number, store: FileTokenStore) => Promise<void>,
  ) {
    const { clock, store, stale } = await savedStore(folder)
    await writeFile(`${store.path}.lock`, lock)
    let polls = 0
    const sleep = clock.sleep.bind(clock)
    clock.sleep = async (ms: number) => {
      await onPoll(++polls, store)
      await sleep(ms)
    }
    let refreshed = 0
    const got = await store.lockedRefresh(stale, async (t) => {
      refreshed++
      return t
    })
    return { refreshToken: got.refreshToken, refreshed, polls, files: await readdir(join(dir, folder)) }
  }
  /** A token file in `folder` holding the refresh token 'old', on a fake clock. */
  async function savedStore(
    folder: string,
    options: { hardLink?: (from: string, to: string) => Promise<void> } = {},
  ) {
    const clock = new FakeClock()
    const store = new FileTokenStore(join(dir, folder, 'tokens.json'), { clock, ...options })
    const stale = storedTokens({ refreshToken: 'old' })
    await store.save(stale)
    return { clock, store, stale }
  }
  const liveLock = () => JSON.stringify({ pid: process.pid, at: new FakeClock().now() })
  const rotateAndRelease = async (store: FileTokenStore) => {
    await store.save(storedTokens({ refreshToken: 'rotated-elsewhere' }))
    await rm(`${store.path}.lock`)
  }

  it('waits for another live refresh and then uses the tokens it saved, without refreshing', async () => {
    const r = await refreshWhileLocked('locked', liveLock(), async (poll, store) => {
      if (poll === 3) await rotateAndRelease(store)
    })
    expect(r).toEqual({ refreshToken: 'rotated-elsewhere', refreshed: 0, polls: 3, files: ['tokens.json'] })
  })

  it('waits for a lock still being written (created, not yet filled) instead of taking it', async () => {
    // It starts empty: the instant between the other process creating its lock and writing its pid.
    const r = await refreshWhileLocked('filling', '', async (poll, store) => {
      if (poll === 1) await writeFile(`${store.path}.lock`, liveLock())
      if (poll === 4) await rotateAndRelease(store)
    })
    expect(r).toEqual({ refreshToken: 'rotated-elsewhere', refreshed: 0, polls: 4, files: ['tokens.json'] })
  })

  it('leaves a dead lock to the waiter already breaking it, and uses what that one then saved', async () => {
    const dead = deadPid()
    await mkdir(join(dir, 'breaking'), { mode: 0o700 })
    // Another waiter judged the same dead lock first and holds the breaker while it replaces it.
    await writeFile(join(dir, 'breaking', 'tokens.json.lock.break'), liveLock())
    const deadLock = JSON.stringify({ pid: dead, at: new FakeClock().now() })
    const r = await refreshWhileLocked('breaking', deadLock, async (poll, store) => {
      if (poll === 2) {
        await writeFile(`${store.path}.lock`, liveLock())
        await rm(`${store.path}.lock.break`)
      }
      if (poll === 4) await rotateAndRelease(store)
    })
    expect(r).toEqual({ refreshToken: 'rotated-elsewhere', refreshed: 0, polls: 4, files: ['tokens.json'] })
  })

  it('removes a breaker whose owner died, then breaks the dead lock and refreshes', async () => {
    const { clock, store, stale } = await savedStore('dead-breaker')
    const dead = JSON.stringify({ pid: deadPid(), at: clock.now() })
    await writeFile(`${store.path}.lock`, dead)
    await writeFile(`${store.path}.lock.break`, dead)
    const fresh = await store.lockedRefresh(stale, async (t) => ({ ...t, refreshToken: 'new' }))
    expect([fresh.refreshToken, clock.sleeps]).toEqual(['new', [100]])
    expect(await readdir(join(dir, 'dead-breaker'))).toEqual(['tokens.json'])
  })

  it('takes over a lock that stays empty for 2 s (its owner died before filling it)', async () => {
    const { clock, store, stale } = await savedStore('unfilled')
    await writeFile(`${store.path}.lock`, '')
    const fresh = await store.lockedRefresh(stale, async (t) => ({ ...t, refreshToken: 'new' }))
    expect(fresh.refreshToken).toBe('new')
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(2_000)
    expect(await readdir(join(dir, 'unfilled'))).toEqual(['tokens.json'])
  })

  it('takes over the lock of a process that died, and gives up after a minute on a live one', async () => {
    const { clock, store, stale } = await savedStore('dead-lock')
    const dead = deadPid()
    await writeFile(`${store.path}.lock`, JSON.stringify({ pid: dead, at: clock.now() }))
    const fresh = await store.lockedRefresh(stale, async (t) => ({ ...t, refreshToken: 'new' }))
    expect([fresh.refreshToken, clock.sleeps.length]).toEqual(['new', 0])
    await writeFile(`${store.path}.lock`, JSON.stringify({ pid: process.pid, at: clock.now() }))
    await expect(store.lockedRefresh(fresh, async (t) => t)).rejects.toMatchObject({
      hint: expect.stringContaining(`${store.path}.lock`),
    })
    expect(clock.sleeps.reduce((a, b) => a + b, 0)).toBe(60_000)
  })

  describe('on a file system without hard links', () => {
    /** `link` failing as it does there (FAT, some network and FUSE file systems). */
    const noLinks = (code: string) => async () => {
      throw Object.assign(new Error(`${code}: operation not permitted, link`), { code })
    }

    it.each(['EPERM', 'ENOTSUP', 'ENOSYS'])(
      'creates the lock with O_EXCL and fills it (link: %s)',
      async (code) => {
        const { store, stale } = await savedStore(`no-links-${code}`, { hardLink: noLinks(code) })
        let lockDuringRefresh: unknown
        const fresh = await store.lockedRefresh(stale, async (t) => {
          lockDuringRefresh = JSON.parse(await readFile(`${store.path}.lock`, 'utf8'))
          return { ...t, refreshToken: 'new' }
        })
        expect(fresh.refreshToken).toBe('new')
        expect(lockDuringRefresh).toMatchObject({ pid: process.pid })
        // Neither the lock nor the temporary file it could not link stays behind.
        expect(await readdir(join(dir, `no-links-${code}`))).toEqual(['tokens.json'])
      },
    )

    it('still waits for a live refresh and uses what it saved', async () => {
      const { clock, store, stale } = await savedStore('no-links-wait', { hardLink: noLinks('EPERM') })
      await writeFile(`${store.path}.lock`, liveLock())
      const sleep = clock.sleep.bind(clock)
      clock.sleep = async (ms: number) => {
        if (clock.sleeps.length === 2) {
          await store.save(storedTokens({ refreshToken: 'rotated-elsewhere' }))
          await rm(`${store.path}.lock`)
        }
        await sleep(ms)
      }
      let refreshed = 0
      const got = await store.lockedRefresh(stale, async (t) => {
        refreshed++
        return t
      })
      expect([got.refreshToken, refreshed, await readdir(join(dir, 'no-links-wait'))]).toEqual([
        'rotated-elsewhere',
        0,
        ['tokens.json'],
      ])
    })

    it('reports any other link failure as a lock error naming the token file', async () => {
      const { store, stale } = await savedStore('link-eio', { hardLink: noLinks('EIO') })
      await expect(store.lockedRefresh(stale, async (t) => t)).rejects.toMatchObject({
        name: 'TokenStoreError',
        message: expect.stringContaining(`Cannot lock the token file ${store.path}: EIO`),
      })
      expect(await readdir(join(dir, 'link-eio'))).toEqual(['tokens.json'])
    })
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

  it("follows a pointer file: local commands use the deployment's parameter, one chain", async () => {
    const ssm = client()
    const name = `/garmin-s3-test/${Date.now()}/pointed`
    const param = new SsmTokenStore(name, ssm)
    await param.save(storedTokens({ refreshToken: 'in-ssm' }))
    await mkdir(join(dir, 'pointer'), { mode: 0o700 })
    const path = join(dir, 'pointer', 'tokens.json')
    const opened: (string | undefined)[] = []
    const local = new FileTokenStore(path, {
      openSsm: (n, region) => {
        opened.push(`${n}@${region}`)
        return new SsmTokenStore(n, ssm)
      },
    })
    await local.save(storedTokens({ refreshToken: 'local' }))
    await local.pointTo(`ssm:${name}`, TEST_REGION)
    expect(await readFile(path, 'utf8')).not.toContain('local')
    expect((await local.load())?.refreshToken).toBe('in-ssm')
    expect(local.location).toBe(`ssm:${name} (via ${path})`)
    await local.save(storedTokens({ refreshToken: 'rotated' }))
    expect((await param.load())?.refreshToken).toBe('rotated')
    expect(opened[0]).toBe(`${name}@${TEST_REGION}`)
    // The deployment destroyed: nothing there, and the next login is stored locally again.
    await param.clear()
    expect(await local.load()).toBeUndefined()
    await local.save(storedTokens({ refreshToken: 'new-login' }))
    expect(await local.pointer()).toBeUndefined()
    expect((await local.load())?.refreshToken).toBe('new-login')
    expect(await param.load()).toBeUndefined()
    expect(await local.clear()).toBe(true)
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
