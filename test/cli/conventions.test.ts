/**
 * The conventions every oclif CLI has, through oclif's own plugins, on the built CLI (bin/run.js) as a
 * user runs it: `help` and `-h`, `-v`/`--version`, "did you mean" for a typo, completion scripts, one
 * line and the usage for an unknown flag, and the update warning, which only a person at a terminal
 * sees and which asks only the registry it is pointed at (a loopback server here).
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync, watch } from 'node:fs'
import { mkdir, readFile, utimes, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { assertBuilt, CLI, ROOT, runCli, tempDir } from '../e2e/sync-helpers.js'
import { runProcess } from '../helpers/process.js'

const VERSION = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version as string

let home: Awaited<ReturnType<typeof tempDir>>
let registry: Server
let registryUrl: string
const registryRequests: string[] = []

beforeAll(async () => {
  assertBuilt()
  home = await tempDir('conventions')
  // A registry that knows of a newer garmin-s3, on loopback: the update check's only peer here.
  registry = createServer((request, response) => {
    registryRequests.push(request.url ?? '')
    response.writeHead(200, { 'content-type': 'application/json' })
    response.end(JSON.stringify({ name: 'garmin-s3', 'dist-tags': { latest: '99.0.0' } }))
  })
  await new Promise<void>((resolve) => registry.listen(0, '127.0.0.1', resolve))
  registryUrl = `http://127.0.0.1:${(registry.address() as AddressInfo).port}/`
})

afterAll(async () => {
  await new Promise((resolve) => registry?.close(resolve))
  await home?.remove()
})

/** Nothing inherited: a home and cache of this test's own, the registry on loopback. */
function env(name: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const dir = join(home.path, name)
  return {
    PATH: process.env.PATH,
    HOME: dir,
    XDG_CACHE_HOME: join(dir, 'cache'),
    XDG_CONFIG_HOME: join(dir, 'config'),
    GARMIN_S3_NPM_REGISTRY: registryUrl,
    NO_COLOR: '1',
    ...extra,
  }
}

const cli = (args: string[], name = 'plain', extra: NodeJS.ProcessEnv = {}) =>
  runCli(args, { env: env(name, extra) })

/** The CLI at a terminal: util-linux `script` gives it a pseudo-terminal for stdin, stdout and stderr. */
function atTerminal(args: string[], environment: NodeJS.ProcessEnv) {
  const command = [process.execPath, CLI, ...args].map((word) => `'${word}'`).join(' ')
  return runProcess('script', ['-qec', command, '/dev/null'], { env: environment, cwd: ROOT })
}

/** Resolves once `file` contains `text`, watching its folder (no polling). */
function fileSays(file: string, text: string): Promise<void> {
  return new Promise((resolve) => {
    const check = async () => {
      if ((await readFile(file, 'utf8').catch(() => '')).includes(text)) {
        watcher.close()
        resolve()
      }
    }
    const watcher = watch(dirname(file), () => void check())
    void check()
  })
}

describe('help and version', () => {
  it('`help`, `-h` and `--help` print the same help; `help sync` is `sync --help`', async () => {
    const help = await cli(['help'])
    expect(help.code).toBe(0)
    for (const id of ['sync', 'login', 'status', 'deploy', 'destroy', 'doctor', 'init', 'autocomplete']) {
      expect(help.stdout).toContain(id)
    }
    expect((await cli(['-h'])).stdout).toBe(help.stdout)
    expect((await cli(['--help'])).stdout).toBe(help.stdout)
    const sync = await cli(['sync', '--help'])
    expect(sync.code).toBe(0)
    expect(sync.stdout).toContain('--bucket')
    expect((await cli(['sync', '-h'])).stdout).toBe(sync.stdout)
    expect((await cli(['help', 'sync'])).stdout).toBe(sync.stdout)
  })

  it('`-v` and `--version` print the version', async () => {
    for (const flag of ['-v', '--version']) {
      const r = await cli([flag])
      expect(r.code).toBe(0)
      expect(r.stdout.trim()).toMatch(new RegExp(`^garmin-s3/${VERSION.replaceAll('.', '\\.')} \\S+ node-v`))
      expect(r.stderr).toBe('')
    }
  })

  it("bin/run.js's --version (printed without loading oclif) is oclif's own line", async () => {
    const { Config } = await import('@oclif/core')
    const oclifLine = (await Config.load(ROOT)).userAgent
    expect((await cli(['--version'])).stdout).toBe(`${oclifLine}\n`)
    expect((await cli(['-v'])).stdout).toBe(`${oclifLine}\n`)
  })
})

describe('mistakes', () => {
  it('help for a mistyped command answers as the mistyped command does: the one meant, exit 2', async () => {
    // oclif's own help said only "Command sycn not found.", with no suggestion and no next step.
    const sycn =
      'Error: sycn is not a garmin-s3 command. Did you mean garmin-s3 sync?\n' +
      '  -> Run garmin-s3 help for a list of the commands.\n'
    for (const args of [
      ['help', 'sycn'],
      ['sycn', '-h'],
      ['-h', 'sycn'],
    ]) {
      const r = await cli(args)
      expect({ args, code: r.code, stdout: r.stdout, stderr: r.stderr }).toEqual({
        args,
        code: 2,
        stdout: '',
        stderr: sycn,
      })
    }
    const far = await cli(['help', 'backup'])
    expect(far.code).toBe(2)
    expect(far.stderr).toBe(
      'Error: backup is not a garmin-s3 command.\n  -> Run garmin-s3 help for a list of the commands.\n',
    )
    // A command with an extra word: its help, as `login user@x` runs login.
    const extra = await cli(['help', 'login', 'user@example.invalid'])
    expect(extra.code).toBe(0)
    expect(extra.stdout).toContain('$ garmin-s3 login')
  })

  it('a mistyped command suggests the right one and, without a terminal, asks nothing: exit 2', async () => {
    const r = await cli(['sycn'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(
      'Error: sycn is not a garmin-s3 command. Did you mean garmin-s3 sync?\n' +
        '  -> Run garmin-s3 help for a list of the commands.\n',
    )
    const topic = await cli(['init', 'github-actons'])
    expect(topic.code).toBe(2)
    expect(topic.stderr).toContain('Did you mean garmin-s3 init github-actions?')
    // Nothing within a few edits (at most 2, or a third of the word): no suggestion rather than a far
    // one (update is 3 edits from curate, statistics 5 from status).
    for (const word of ['backup', 'update', 'statistics']) {
      const nothingClose = await cli([word])
      expect([nothingClose.code, nothingClose.stdout]).toEqual([2, ''])
      expect(nothingClose.stderr).toBe(
        `Error: ${word} is not a garmin-s3 command.\n  -> Run garmin-s3 help for a list of the commands.\n`,
      )
    }
  })

  it('a flag before a mistyped command: --json still answers in JSON, with the suggestion (exit 2)', async () => {
    const r = await cli(['--json', 'sycn'])
    expect([r.code, r.stderr]).toEqual([2, ''])
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        name: 'UsageError',
        message: 'sycn is not a garmin-s3 command. Did you mean garmin-s3 sync?',
        hint: 'Run garmin-s3 help for a list of the commands.',
        exitCode: 2,
      },
    })
    const deep = await cli(['--json', 'init', 'github-actons', '--bucket', 'b'])
    expect([deep.code, deep.stderr]).toEqual([2, ''])
    expect(JSON.parse(deep.stdout).error.message).toBe(
      'init github-actons is not a garmin-s3 command. Did you mean garmin-s3 init github-actions?',
    )
    const nothing = await cli(['--json'])
    expect([nothing.code, nothing.stderr]).toEqual([2, ''])
    expect(JSON.parse(nothing.stdout)).toEqual({
      error: {
        name: 'UsageError',
        message: 'No command given.',
        hint: 'Run garmin-s3 help for a list of the commands.',
        exitCode: 2,
      },
    })
  })

  it('--json before a right command runs it as with --json after it', async () => {
    const lake = join(home.path, 'json-first-lake')
    const before = await cli(['--json', 'status', '--out', lake])
    const after = await cli(['status', '--out', lake, '--json'])
    expect(before.code).toBe(after.code)
    expect(before.stderr).toBe(after.stderr)
    const report = (text: string) => ({ ...JSON.parse(text), generatedAt: 'any' })
    expect(report(before.stdout)).toEqual(report(after.stdout))
    expect(report(before.stdout).location).toBe(lake)
    // Any other flag belongs to a command: the command comes first.
    const other = await cli(['--out', lake, 'sync'])
    expect([other.code, other.stdout]).toEqual([2, ''])
    expect(other.stderr).toBe(
      'Error: --out comes before a command; a garmin-s3 command comes first, then its flags.\n' +
        '  -> Run garmin-s3 help for a list of the commands.\n',
    )
  })

  it('a mistyped command with an argument or a flag still suggests from its first words (exit 2)', async () => {
    const help = '  -> Run garmin-s3 help for a list of the commands.'
    const cases: [string[], string, string][] = [
      [['logn', 'user@x'], 'logn', 'login'],
      [['snyc', '--out', 'x'], 'snyc', 'sync'],
      [['catalg', 'athena', 'x'], 'catalg athena', 'catalog athena'],
      [['init', 'github-actons', 'x'], 'init github-actons', 'init github-actions'],
    ]
    for (const [args, typed, meant] of cases) {
      const r = await cli(args)
      expect([r.code, r.stdout]).toEqual([2, ''])
      expect(r.stderr).toBe(
        `Error: ${typed} is not a garmin-s3 command. Did you mean garmin-s3 ${meant}?\n${help}\n`,
      )
      const json = await cli([...args, '--json'])
      expect([json.code, json.stderr]).toEqual([2, ''])
      expect(JSON.parse(json.stdout)).toEqual({
        error: {
          name: 'UsageError',
          message: `${typed} is not a garmin-s3 command. Did you mean garmin-s3 ${meant}?`,
          hint: 'Run garmin-s3 help for a list of the commands.',
          exitCode: 2,
        },
      })
    }
    // Nothing close: the first word is the one no command starts with.
    const unknown = await cli(['backup', 'x', '--json'])
    expect(unknown.code).toBe(2)
    expect(JSON.parse(unknown.stdout).error.message).toBe('backup is not a garmin-s3 command.')
  })

  it("a topic with an unknown command lists the topic's commands (exit 2)", async () => {
    const r = await cli(['init', 'x'])
    expect([r.code, r.stdout]).toEqual([2, ''])
    expect(r.stderr).toBe(
      'Error: init x is not a garmin-s3 command. The init commands: garmin-s3 init github-actions.\n' +
        '  -> Run garmin-s3 help init for what they do.\n',
    )
    const json = await cli(['init', 'x', '--json'])
    expect([json.code, json.stderr]).toEqual([2, ''])
    expect(JSON.parse(json.stdout)).toEqual({
      error: {
        name: 'UsageError',
        message: 'init x is not a garmin-s3 command. The init commands: garmin-s3 init github-actions.',
        hint: 'Run garmin-s3 help init for what they do.',
        exitCode: 2,
      },
    })
  })

  /** The CLI at a terminal, answering `answer` once it asks "Did you mean". */
  async function answering(args: string[], name: string, answer: string) {
    const command = [process.execPath, CLI, ...args].map((word) => `'${word}'`).join(' ')
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: env(name), cwd: ROOT })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      const before = output
      output += chunk.toString()
      if (!before.includes('Did you mean') && output.includes('Did you mean'))
        child.stdin.write(`${answer}\r`)
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    return { output, code }
  }

  it('at a terminal, a mistyped command asks "Did you mean" (and a no ends with exit 2)', async () => {
    const r = await answering(['sycn'], 'terminal-typo', 'n')
    expect(r.output).toContain('sycn is not a garmin-s3 command')
    expect(r.output).toContain('Did you mean sync?')
    expect(r.output).toContain('-> Run garmin-s3 help for a list of the commands.')
    expect(r.code).toBe(2)
  })

  it('at a terminal, the question names the suggestion printed without one, and a yes runs it', async () => {
    // `catalg athena x`: the command meant is two words; the words after them go to it, and it refuses
    // the extra one as it would have typed right.
    const r = await answering(['catalg', 'athena', 'x'], 'terminal-yes', 'y')
    expect(r.output).toContain('Did you mean catalog athena?')
    expect(r.output).toContain("Error: Unexpected argument 'x' for catalog athena")
    expect(r.code).toBe(2)
  })

  it('at a terminal, a word no command is close to asks nothing: the same error as without one (exit 2)', async () => {
    // The prompt's own pick has no limit: backup was offered doctor, update curate.
    for (const word of ['backup', 'update']) {
      const r = await atTerminal([word], env('terminal-far'))
      expect(r.code).toBe(2)
      expect(r.stdout).not.toContain('Did you mean')
      expect(r.stdout.replaceAll('\r\n', '\n')).toBe(
        `Error: ${word} is not a garmin-s3 command.\n  -> Run garmin-s3 help for a list of the commands.\n`,
      )
    }
  })

  it('Ctrl-C at the password prompt of a terminal login: one quiet line, exit 130, nothing written', async () => {
    const environment = env('ctrl-c', { TERM: 'dumb', GARMIN_S3_GARMIN_URL: 'http://127.0.0.1:9' })
    const store = join(home.path, 'ctrl-c', 'tokens', 'tokens.json')
    const command = [process.execPath, CLI, 'login', '--email', 'a@example.invalid', '--token-store', store]
      .map((word) => `'${word}'`)
      .join(' ')
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: environment, cwd: ROOT })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => {
      const before = output
      output += chunk.toString()
      // Ctrl-C once the prompt is shown, as a person would press it.
      if (!before.includes('Garmin password:') && output.includes('Garmin password:'))
        child.stdin.write('\x03')
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
    expect(code).toBe(130)
    expect(output).toContain('Cancelled; nothing was changed.')
    expect(output).not.toMatch(/bug in garmin-s3|Error:|at .*\.js:\d+/)
    // No tokens and no pending sign-in; the private folder login checks before it asks may stay, empty.
    expect(existsSync(dirname(store)) ? readdirSync(dirname(store)) : []).toEqual([])
  })

  it('an unknown flag prints one line and the usage, not the whole help (exit 2)', async () => {
    const r = await cli(['sync', '--nope'])
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    const lines = r.stderr.trimEnd().split('\n')
    expect(lines).toHaveLength(2)
    expect(lines[0]).toBe('Error: Nonexistent flag: --nope (garmin-s3 sync --help lists every flag)')
    expect(lines[1]).toMatch(/^Usage: garmin-s3 sync \[--json\] \[--bucket <value> \| --out <value>\] /)
    const deep = await cli(['init', 'github-actions', '--nope'])
    expect(deep.stderr.trimEnd().split('\n')).toHaveLength(2)
    expect(deep.stderr).toContain('Usage: garmin-s3 init github-actions --bucket <value>')
  })

  it('an extra argument is refused for that command, not taken for an unknown command (exit 2)', async () => {
    // oclif reads the words after a command as more of its name: `login user@x` looked up "login user@x".
    const cases: [string[], string, string][] = [
      [['login', 'user@x'], 'login', "'user@x'"],
      [['logout', 'foo'], 'logout', "'foo'"],
      [['logout', '--force', 'foo'], 'logout', "'foo'"],
      [['sync', 'a', 'b'], 'sync', "'a', 'b'"],
      [['init', 'github-actions', 'x'], 'init github-actions', "'x'"],
    ]
    for (const [args, command, extra] of cases) {
      const r = await cli(args)
      expect([r.code, r.stdout]).toEqual([2, ''])
      const s = extra.includes(',') ? 's' : ''
      expect(r.stderr.trimEnd().split('\n')).toEqual([
        `Error: Unexpected argument${s} ${extra} for ${command} (garmin-s3 ${command} --help lists every flag)`,
        expect.stringMatching(
          new RegExp(`^Usage: garmin-s3 ${command} \\[--json\\]|^Usage: garmin-s3 ${command} --`),
        ),
      ])
      const json = await cli([...args, '--json'])
      expect([json.code, json.stderr]).toEqual([2, ''])
      expect(JSON.parse(json.stdout)).toEqual({
        error: {
          name: 'UsageError',
          message: `Unexpected argument${s} ${extra} for ${command}`,
          hint: expect.stringMatching(new RegExp(`^Usage: garmin-s3 ${command} `)),
          exitCode: 2,
        },
      })
    }
  })

  it('an SSM token store without an AWS region: the next step is AWS_REGION, not a flag the command lacks', async () => {
    // No region anywhere (no AWS_REGION, no config file): the SDK stops before any request.
    const noRegion = {
      AWS_CONFIG_FILE: join(home.path, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home.path, 'no-aws-credentials'),
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'not-a-secret',
      AWS_EC2_METADATA_DISABLED: 'true',
    }
    const manifest = JSON.parse(await readFile(join(ROOT, 'oclif.manifest.json'), 'utf8')) as {
      commands: Record<string, { flags: Record<string, unknown> }>
    }
    const runs: [string, string[]][] = [
      ['logout', []],
      // sync has a --region, the bucket's: it would not reach the token store either.
      ['sync', ['--out', join(home.path, 'no-region-lake')]],
    ]
    for (const [command, extra] of runs) {
      const args = [command, ...extra, '--token-store', 'ssm:/garmin-s3/tokens', '--json']
      const r = await cli(args, 'no-region', noRegion)
      expect(r.code).toBe(2)
      const { error } = JSON.parse(r.stdout) as { error: { message: string; hint: string } }
      expect(error.message).toBe('No AWS region configured for the SSM token store ssm:/garmin-s3/tokens.')
      expect(error.hint).toContain('AWS_REGION')
      // The SSM token store takes its region from the environment: no command's --region reaches it.
      expect(error.hint).not.toContain('--region')
      for (const [, flag] of error.hint.matchAll(/--([a-z][a-z-]*)/g))
        expect(Object.keys(manifest.commands[command]?.flags ?? {}), `${command} --${flag}`).toContain(flag)
    }
  })

  it('with --json, an unknown flag is one JSON error with the usage as its hint', async () => {
    const r = await cli(['deploy', '--nope', '--json'])
    expect(r.code).toBe(2)
    expect(JSON.parse(r.stdout)).toEqual({
      error: {
        name: 'UsageError',
        message: 'Nonexistent flag: --nope',
        hint: expect.stringMatching(/^Usage: garmin-s3 deploy --bucket <value> /),
        exitCode: 2,
      },
    })
    expect(r.stderr).toBe('')
  })

  it('a bad flag value, conflicting flags or a missing flag say so in one line and the usage (exit 2)', async () => {
    const cases: [string[], string][] = [
      [
        ['sync', '--concurrency', '0'],
        '--concurrency: Expected an integer greater than or equal to 1 but received: 0',
      ],
      [['sync', '--bucket', 'b', '--out', 'o'], '--out=o cannot also be provided when using --bucket'],
      [['sync', '--notify-on', 'sometimes'], 'Expected --notify-on=sometimes to be one of: failure, always'],
      [['deploy'], 'Missing required flag bucket'],
      [['sync', '--concurrency'], 'Flag --concurrency expects a value'],
      [['sync', '--out', 'a', '--out', 'b'], 'Flag --out can only be specified once'],
    ]
    for (const [args, message] of cases) {
      const r = await cli(args)
      expect([r.code, r.stdout]).toEqual([2, ''])
      const lines = r.stderr.trimEnd().split('\n')
      expect(lines).toEqual([
        `Error: ${message} (garmin-s3 ${args[0]} --help lists every flag)`,
        expect.stringMatching(new RegExp(`^Usage: garmin-s3 ${args[0]} `)),
      ])
      const json = await cli([...args, '--json'])
      expect([json.code, json.stderr]).toEqual([2, ''])
      expect(JSON.parse(json.stdout)).toEqual({
        error: { name: 'UsageError', message, hint: expect.stringMatching(/^Usage: /), exitCode: 2 },
      })
    }
  })
})

describe('completion', () => {
  it('`autocomplete bash` explains the set-up and writes the completion cache under the cache folder', async () => {
    const r = await cli(['autocomplete', 'bash'], 'completion')
    expect(r.code).toBe(0)
    expect(r.stdout).toContain('garmin-s3 autocomplete')
    expect(r.stdout).toContain('.bashrc')
    const script = await readFile(
      join(
        home.path,
        'completion',
        'cache',
        'garmin-s3',
        'autocomplete',
        'functions',
        'bash',
        'garmin-s3.bash',
      ),
      'utf8',
    )
    expect(script).toContain('sync')
  })
})

describe('the update warning', () => {
  /** A cache that already knows of a newer release, checked long ago (so a check would also ask again). */
  async function staleCache(name: string): Promise<void> {
    const dir = join(home.path, name, 'cache', 'garmin-s3')
    await mkdir(dir, { recursive: true })
    const file = join(dir, 'version')
    await writeFile(file, JSON.stringify({ latest: '99.0.0', current: VERSION }))
    const longAgo = new Date('2020-01-01T00:00:00Z')
    await utimes(file, longAgo, longAgo)
  }

  it('at a terminal, warns once a newer release is known', async () => {
    await staleCache('warned')
    const r = await atTerminal(['--version'], env('warned'))
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(`garmin-s3 99.0.0 is available (you have ${VERSION})`)
  })

  it('asks the configured registry in the background, and the next run warns', async () => {
    const before = registryRequests.length
    const environment = env('learns')
    const dir = join(home.path, 'learns', 'cache', 'garmin-s3')
    await mkdir(dir, { recursive: true })
    // The check runs detached, after the command has ended: wait for what it writes.
    const learnt = fileSays(join(dir, 'version'), '99.0.0')
    const first = await atTerminal(['--version'], environment)
    expect(first.code).toBe(0)
    expect(first.stdout).not.toContain('is available')
    await learnt
    expect(registryRequests.slice(before)).toContain('/garmin-s3')
    const second = await atTerminal(['--version'], environment)
    expect(second.stdout).toContain('garmin-s3 99.0.0 is available')
  })

  it('is silent with CI set, with --json, and when stderr is not a terminal', async () => {
    await staleCache('ci')
    const ci = await atTerminal(['--version'], env('ci', { CI: 'true' }))
    expect(ci.code).toBe(0)
    expect(ci.stdout).not.toContain('is available')

    await staleCache('json')
    const json = await atTerminal(
      ['status', '--json', '--out', join(home.path, 'json', 'nothing')],
      env('json'),
    )
    expect(json.stdout).not.toContain('is available')

    await staleCache('piped')
    const piped = await cli(['--version'], 'piped')
    expect(piped.code).toBe(0)
    expect(piped.stderr).toBe('')
    // The warning's absence is the proof: the one switch (bin/run.js) skips the warning and the check
    // alike. And none of them has rewritten the stale version file (yet, at least).
    for (const name of ['ci', 'json', 'piped']) {
      const file = join(home.path, name, 'cache', 'garmin-s3', 'version')
      expect(existsSync(file)).toBe(true)
      expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ latest: '99.0.0', current: VERSION })
    }
  })
})
