/**
 * The sign-in's error catalogue against the CLI and the docs. Every `garmin-s3 ...` command that a
 * message or hint of src/garmin/ (and login, logout, docs/signin.md, docs/troubleshooting.md) tells a
 * user to run must be a command that exists, with flags that command has: a hint naming a flag that
 * oclif then refuses is a dead end. And each error a user can hit in `login` exits with the code the
 * troubleshooting table gives for its message.
 */
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { COMMANDS } from '../../src/commands/index.js'
import { GarminS3Error } from '../../src/errors.js'
import { AccountLockedError, WrongPasswordError } from '../../src/garmin/auth.js'
import {
  BotChallengeError,
  noTokensError,
  RateLimitedError,
  RefreshRejectedError,
  TokenStoreError,
} from '../../src/garmin/errors.js'
import { readTokenImport, refuseSimulatorSession, runLogin } from '../../src/garmin/login.js'
import { RedirectRefusedError } from '../../src/garmin/redirects.js'
import { FilePendingStore } from '../../src/garmin/signin/pending.js'
import { FileTokenStore, SsmTokenStore } from '../../src/garmin/tokens.js'
import type { TokenStore } from '../../src/garmin/types.js'

const ROOT = join(import.meta.dirname, '../..')

/** Where the sign-in's messages, hints and their reference live. */
async function sources(): Promise<{ file: string; text: string }[]> {
  const { readdir, readFile } = await import('node:fs/promises')
  const files = (await readdir(join(ROOT, 'src/garmin'), { recursive: true }))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => join('src/garmin', name))
  files.push('src/commands/login.ts', 'src/commands/logout.ts', 'docs/signin.md', 'docs/troubleshooting.md')
  return Promise.all(
    files.map(async (file) => ({
      file,
      text: (await readFile(join(ROOT, file), 'utf8')).replaceAll('\\`', '`'),
    })),
  )
}

/** Each `garmin-s3 ...` code span, and each bare "garmin-s3 login|logout ..." in a sentence. */
function commandsIn(text: string): string[] {
  const found: string[] = []
  for (const m of text.matchAll(
    /`garmin-s3 ([^`\n]*)`|garmin-s3 (log(?:in|out)(?: +(?:--[a-z-]+|<[^>]+>|\$\{[^}]+\}|\d+))*)/g,
  )) {
    found.push((m[1] ?? m[2] ?? '').trim())
  }
  // `signInCommand(store, '--import <file>')` (src/garmin/sign-in-command.ts): a login with those flags.
  for (const m of text.matchAll(/signInCommand\([^,()]+, [`']([^`']+)[`']\)/g)) found.push(`login ${m[1]}`)
  return found
}

/** The command id a command line starts with (`init github-actions` is `init:github-actions`). */
function commandOf(line: string): { id: string; flags: string[] } {
  // `login${this.storeFlag}`: the code adds flags the scan cannot see; the command is what precedes them.
  const words = line.split(/\s+|(?=\$\{)/)
  const two = `${words[0]}:${words[1]}`
  const id = two in COMMANDS ? two : (words[0] ?? '')
  return { id, flags: [...line.matchAll(/(?:^|[\s[])--([a-z][a-z-]*)/g)].map((m) => m[1] ?? '') }
}

describe('the sign-in error catalogue', () => {
  it('names only commands that exist, with flags they have', async () => {
    const lines: string[] = []
    const problems: string[] = []
    for (const { file, text } of await sources()) {
      for (const line of commandsIn(text)) {
        lines.push(line)
        const { id, flags } = commandOf(line)
        const command = COMMANDS[id as keyof typeof COMMANDS]
        if (!command) {
          problems.push(`${file}: \`garmin-s3 ${line}\`: no command ${id}`)
          continue
        }
        const known = new Set([
          ...Object.keys(command.flags ?? {}),
          ...(command.enableJsonFlag ? ['json'] : []),
        ])
        for (const flag of flags) {
          if (!known.has(flag)) problems.push(`${file}: \`garmin-s3 ${line}\`: ${id} has no --${flag}`)
        }
      }
    }
    expect(problems).toEqual([])
    // The scan finds what it should: the hints with flags are among them.
    expect(lines).toEqual(
      expect.arrayContaining(['login --mfa-code <code>', 'login --import <file>', 'login --force']),
    )
    expect(lines.some((line) => line.startsWith('login --domain'))).toBe(true)
    expect(lines.length).toBeGreaterThan(40)
  })
})

describe('exit codes of the errors a login meets, as docs/troubleshooting.md gives them', () => {
  let dir: string
  let count = 0
  /** A private folder of its own for one case. */
  const folder = async () => {
    const d = join(dir, `case-${++count}`)
    await mkdir(d, { mode: 0o700 })
    return d
  }
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'garmin-s3-catalogue-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The exit code of the troubleshooting row whose symptom names `fragment`. */
  async function documentedExit(fragment: string): Promise<number | undefined> {
    const { readFile } = await import('node:fs/promises')
    const rows = (await readFile(join(ROOT, 'docs/troubleshooting.md'), 'utf8'))
      .split('\n')
      .filter((line) => line.startsWith('| ') && (line.split('|')[1] ?? '').includes(fragment))
    expect(rows, fragment).toHaveLength(1)
    const code = /\(exit (\d)/.exec(rows[0]?.split('|')[1] ?? '')?.[1]
    return code === undefined ? undefined : Number(code)
  }

  const failure = (promise: Promise<unknown>) =>
    promise.then(
      () => undefined,
      (error: unknown) => error,
    )

  const pointedAt = async (target: TokenStore) => {
    const store = new FileTokenStore(join(await folder(), 'tokens.json'), { openSsm: () => target })
    await store.pointTo('ssm:/x/tokens', 'us-east-1')
    return store
  }

  const cases: { row: string; says?: string; error: () => Promise<unknown> }[] = [
    { row: '"No Garmin tokens are stored at …"', error: async () => noTokensError(new FileTokenStore()) },
    {
      row: '"No Garmin tokens are stored at ssm:/… (via',
      says: 'No Garmin tokens are stored at ssm:/x/tokens (via',
      error: async () => {
        const gone: TokenStore = {
          location: 'ssm:/x/tokens',
          load: async () => undefined,
          save: async () => {},
          clear: async () => false,
        }
        const store = await pointedAt(gone)
        expect(await store.load()).toBeUndefined()
        return noTokensError(store)
      },
    },
    {
      row: '"Cannot read the SSM parameter … points there"',
      says: 'points there',
      error: async () => {
        const denied: TokenStore = {
          location: 'ssm:/x/tokens',
          load: async () => {
            throw new TokenStoreError('Cannot read the SSM parameter /x/tokens (AccessDenied).')
          },
          save: async () => {},
          clear: async () => false,
        }
        return failure((await pointedAt(denied)).load())
      },
    },
    {
      row: '`invalid_grant`',
      says: 'invalid_grant',
      error: async () => new RefreshRejectedError(new FileTokenStore()),
    },
    {
      row: '"is a folder, not a file"',
      says: 'is a folder, not a file',
      error: async () => {
        const path = join(await folder(), 'tokens.json')
        await mkdir(path)
        return failure(new FileTokenStore(path).checkWritable())
      },
    },
    {
      row: '"is a symbolic link"',
      says: 'is a symbolic link',
      error: async () => {
        const d = await folder()
        await writeFile(join(d, 'elsewhere.json'), '{}', { mode: 0o600 })
        await symlink(join(d, 'elsewhere.json'), join(d, 'tokens.json'))
        return failure(new FileTokenStore(join(d, 'tokens.json')).checkWritable())
      },
    },
    {
      row: '"The token file … can be read by other users"',
      says: 'can be read by other users',
      error: async () => {
        const path = join(await folder(), 'tokens.json')
        await writeFile(path, '{"version": 1}\n', { mode: 0o644 })
        await chmod(path, 0o644)
        return failure(new FileTokenStore(path).load())
      },
    },
    {
      row: '"Cannot write the token file …: … does not take new files"',
      says: 'does not take new files',
      error: async () => {
        const store = new FileTokenStore(join(await folder(), 'tokens.json'), {
          openExclusive: async () => {
            throw Object.assign(new Error('EROFS: read-only file system'), { code: 'EROFS' })
          },
        })
        return failure(store.checkWritable())
      },
    },
    {
      row: '"Cannot keep a sign-in waiting for its verification code',
      says: 'Cannot keep a sign-in waiting for its verification code',
      error: async () => {
        const file = join(await folder(), 'a-file')
        await writeFile(file, 'x')
        return failure(
          new FilePendingStore(
            join(file, 'garmin-s3', 'signin-pending.json'),
            new SsmTokenStore('/x'),
          ).checkWritable(),
        )
      },
    },
    {
      row: '"The tokens at … are not usable"',
      says: 'is not valid JSON',
      error: async () => {
        const path = join(await folder(), 'tokens.json')
        await writeFile(path, 'not json\n', { mode: 0o600 })
        return failure(new FileTokenStore(path).load())
      },
    },
    {
      row: '"Refusing to overwrite/delete',
      says: 'it is not a garmin-s3 token file',
      error: async () => {
        const path = join(await folder(), 'tokens.json')
        await writeFile(path, '{"editor": 1}\n', { mode: 0o600 })
        return failure(new FileTokenStore(path).checkWritable())
      },
    },
    {
      row: '"Garmin says the account is locked"',
      says: 'account is locked',
      error: async () => new AccountLockedError('garmin.com', new FileTokenStore()),
    },
    {
      row: 'HTTP 429 on login',
      says: '429',
      error: async () => new RateLimitedError('Garmin is rate-limiting sign-ins (HTTP 429).'),
    },
    {
      row: 'captcha / 403 / HTML page on login',
      says: 'captcha',
      error: async () => new BotChallengeError('Garmin asks for a captcha before signing in.'),
    },
    {
      row: '"redirected to <host>',
      says: 'did not follow it',
      error: async () =>
        new RedirectRefusedError('elsewhere.invalid', 'sso.garmin.com', 'which is not one of Garmin’s hosts'),
    },
    {
      row: '"… is not a token file garmin-s3 knows"',
      says: 'is not a token file garmin-s3 knows',
      error: async () => {
        const path = join(await folder(), 'notes.json')
        await writeFile(path, '{"hello": "world"}\n')
        return failure(readTokenImport(path, { env: {}, readStdin: async () => '' }))
      },
    },
    {
      row: '"There is no pending sign-in for --mfa-code to finish"',
      says: 'There is no pending sign-in for --mfa-code to finish',
      error: async () => {
        const home = await folder()
        const io = {
          env: { HOME: home, GARMIN_S3_GARMIN_URL: 'http://127.0.0.1:1' },
          interactive: false,
          promptEmail: async () => '',
          promptPassword: async () => '',
          promptMfa: async () => '',
          readStdin: async () => '',
        }
        return failure(runLogin({ mfaCode: '123456', transport: 'fetch' }, io))
      },
    },
    {
      row: '"GARMIN_S3_GARMIN_URL is set',
      says: 'GARMIN_S3_GARMIN_URL is set',
      error: async () => {
        try {
          refuseSimulatorSession({ GARMIN_S3_GARMIN_URL: 'http://127.0.0.1:1' }, 'deploy')
        } catch (error) {
          return error
        }
      },
    },
  ]
  for (const c of cases) {
    it(`${c.row}`, async () => {
      const error = await c.error()
      expect(error).toBeInstanceOf(GarminS3Error)
      const e = error as GarminS3Error
      if (c.says) expect(e.message).toContain(c.says)
      expect(e.hint, e.message).toBeTruthy()
      expect({ message: e.message, exitCode: e.exitCode }).toEqual({
        message: e.message,
        exitCode: await documentedExit(c.row),
      })
    })
  }

  it('a wrong password is exit 3, as docs/signin.md says', () => {
    expect(new WrongPasswordError(new FileTokenStore()).exitCode).toBe(3)
  })
})
