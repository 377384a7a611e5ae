/**
 * `--prefix ""` (the whole bucket or folder: activities as top-level files) means the same to every
 * command that takes --prefix: none refuses it as a usage error (exit 2). Each command runs in process
 * until the first thing past flag validation it needs (tokens, AWS), which a test seam refuses.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, expect, it } from 'vitest'
import CatalogAthena from '../../src/commands/catalog/athena.js'
import Curate from '../../src/commands/curate.js'
import Deploy from '../../src/commands/deploy.js'
import Doctor from '../../src/commands/doctor.js'
import { COMMANDS } from '../../src/commands/index.js'
import Status from '../../src/commands/status.js'
import Sync from '../../src/commands/sync.js'
import type { AwsClientFactory } from '../../src/deploy/index.js'
import { runInit } from '../github/command.js'
import { type CommandRun, runCommand } from '../helpers/command.js'

let tmp: string
let out: string
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'garmin-s3-empty-prefix-'))
  out = join(tmp, 'lake')
  await mkdir(out)
  await mkdir(join(tmp, 'repo', '.git'), { recursive: true })
})
afterAll(() => rm(tmp, { recursive: true, force: true }))

/** What every seam says: the command got past its flags. */
const PAST_FLAGS = 'past flag validation'
const noAws: AwsClientFactory = () => {
  throw new Error(PAST_FLAGS)
}
const env = () => ({ HOME: tmp, GARMIN_S3_TOKEN_STORE: join(tmp, 'no-tokens.json') })

const RUNS: Record<string, (prefix: string) => Promise<CommandRun>> = {
  sync: (prefix) => {
    class T extends Sync {
      protected override env() {
        return env()
      }
    }
    return runCommand(T, ['--out', out, '--prefix', prefix, '--curate'])
  },
  status: (prefix) => {
    class T extends Status {
      protected override env() {
        return env()
      }
    }
    return runCommand(T, ['--out', out, '--prefix', prefix, '--json'])
  },
  doctor: (prefix) => {
    class T extends Doctor {
      protected override env() {
        return env()
      }
    }
    return runCommand(T, ['--out', out, '--prefix', prefix, '--json'])
  },
  curate: (prefix) => runCommand(Curate, ['--out', out, '--prefix', prefix, '--json']),
  'catalog:athena': (prefix) => {
    class T extends CatalogAthena {
      protected override glueClient(): never {
        throw new Error(PAST_FLAGS)
      }
    }
    return runCommand(T, ['--bucket', 'my-lake', '--prefix', prefix, '--dry-run'])
  },
  deploy: (prefix) => {
    class T extends Deploy {
      protected override awsClientFactory = noAws
    }
    return runCommand(T, ['--bucket', 'my-lake', '--prefix', prefix, '--curate'])
  },
  'init:github-actions': (prefix) =>
    runInit(
      [
        ...['--bucket', 'my-lake', '--prefix', prefix, '--dir', join(tmp, 'repo'), '--region', 'us-east-1'],
        ...['--role-arn', 'arn:aws:iam::123456789012:role/garmin-s3-github', '--json', '--force'],
      ],
      { aws: noAws },
    ),
}

it('covers every command that takes --prefix', () => {
  const withPrefix = Object.entries(COMMANDS)
    .filter(([, command]) => 'prefix' in (command.flags ?? {}))
    .map(([id]) => id)
  expect(Object.keys(RUNS).sort()).toEqual(withPrefix.sort())
})

it.each(Object.keys(RUNS))('%s accepts --prefix "" like every other command (never exit 2)', async (id) => {
  const run = await RUNS[id]!('')
  // With --json the error is the JSON on stdout.
  const said = (r: CommandRun) => `${r.stdout}\n${r.stderr}`
  expect(run.exitCode, `${id}: ${said(run)}`).not.toBe(2)
  expect(said(run)).not.toMatch(/invalid prefix|curated prefix/)
  // A prefix that is a usage error stays one everywhere: the contrast that shows the check ran.
  const bad = await RUNS[id]!('../up')
  expect(bad.exitCode, `${id}: ${said(bad)}`).toBe(2)
  expect(said(bad)).toMatch(/invalid prefix/)
})
