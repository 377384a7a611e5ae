/**
 * `--prefix` goes into IAM policies (deploy, init --create-role) and into a workflow (init): one
 * validator refuses wildcards, policy variables, GitHub expressions and Unicode line separators with
 * exit 2, before any AWS call or file write.
 */
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import Deploy from '../../src/commands/deploy.js'
import type { AwsClientFactory } from '../../src/deploy/index.js'
import { runInit } from '../github/command.js'
import { runCommand } from '../helpers/command.js'

const BAD_PREFIXES: [string, string][] = [
  ['*/', '"*"'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template literal
  ['${aws:username}/', '"$"'],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template literal
  ['${{ secrets.X }}/', '"$"'],
  ['data?/', '"?"'],
  ['a{b}/', '"{"'],
  ['raw\u2028data/', 'U+2028'],
  ['raw\u2029data/', 'U+2029'],
  ['raw\u0085data/', 'U+0085'],
]

/** A client factory that fails the test if anything reaches AWS. */
const noAws: AwsClientFactory = () => {
  throw new Error('no AWS client may be built for a bad --prefix')
}

class OfflineDeploy extends Deploy {
  protected override awsClientFactory = noAws
}

describe('a --prefix that cannot go into a policy or a workflow', () => {
  let repo: string
  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'garmin-s3-prefix-'))
    await mkdir(join(repo, '.git'))
  })
  afterEach(async () => {
    await rm(repo, { recursive: true, force: true })
  })

  it.each(BAD_PREFIXES)('deploy refuses %j with exit 2, naming %s', async (prefix, named) => {
    const run = await runCommand(OfflineDeploy, ['--bucket', 'my-lake', '--prefix', prefix])
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain(`${named} cannot go into an IAM policy or a workflow`)
  })

  it.each(BAD_PREFIXES)('init github-actions refuses %j with exit 2 and writes nothing', async (prefix) => {
    const common = ['--bucket', 'my-lake', '--prefix', prefix, '--dir', repo, '--region', 'us-east-1']
    for (const argv of [
      [...common, '--role-arn', 'arn:aws:iam::123456789012:role/garmin-s3-github'],
      [...common, '--create-role', '--repo', 'octocat/garmin-data'],
    ]) {
      const run = await runInit(argv, { aws: noAws })
      expect(run.exitCode, argv.join(' ')).toBe(2)
      expect(run.stderr).toContain('cannot go into an IAM policy or a workflow')
    }
    await expect(stat(join(repo, '.github'))).rejects.toThrow(/ENOENT/)
  })

  it('accepts plain folder names, including hive-style key=value', async () => {
    const run = await runInit(
      [
        '--bucket',
        'my-lake',
        '--prefix',
        'lake/source=garmin/v1.2_x-y',
        '--dir',
        repo,
        '--region',
        'us-east-1',
        '--role-arn',
        'arn:aws:iam::123456789012:role/garmin-s3-github',
        '--json',
      ],
      { aws: noAws },
    )
    expect(run.exitCode).toBe(0)
    expect(run.json).toMatchObject({ prefix: 'lake/source=garmin/v1.2_x-y/' })
  })
})
