/**
 * `garmin-s3 init github-actions --role-arn ...` as a user runs it: the file it writes, --json and
 * human output, refusing to overwrite, reruns, --dry-run, and the exit-2 usage errors (nothing written).
 */
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { runInit } from './command.js'
import { expectValidWorkflow, readWorkflow, syncStep } from './helpers.js'

const ROLE = 'arn:aws:iam::123456789012:role/garmin-s3-github'
const FILE = '.github/workflows/garmin-s3-sync.yml'

describe('init github-actions --role-arn', () => {
  let repo: string
  const base = () => ['--bucket', 'my-data-lake', '--role-arn', ROLE, '--region', 'us-east-1', '--dir', repo]

  beforeEach(async () => {
    repo = await mkdtemp(join(tmpdir(), 'garmin-s3-gha-'))
    await mkdir(join(repo, '.git'))
    vi.stubEnv('AWS_REGION', '')
    vi.stubEnv('AWS_DEFAULT_REGION', '')
  })

  afterEach(async () => {
    vi.unstubAllEnvs()
    await rm(repo, { recursive: true, force: true })
  })

  it('writes a valid workflow and prints the path and the remaining steps as JSON', async () => {
    const run = await runInit([...base(), '--cron', '15 7 * * *', '--timezone', 'America/Chicago', '--json'])
    expect(run.exitCode).toBe(0)
    expect(run.json).toMatchObject({
      path: join(repo, FILE),
      file: 'create',
      dryRun: false,
      roleArn: ROLE,
      region: 'us-east-1',
      tokenParameter: '/garmin-s3/tokens',
      schedule: { cron: '15 7 * * *', timezone: 'America/Chicago' },
      github: null,
    })
    const steps = (run.json?.nextSteps ?? []) as string[]
    expect(steps.some((s) => s.includes('garmin-s3 login --token-store ssm:/garmin-s3/tokens'))).toBe(true)
    expect(steps.some((s) => s.includes(`git add ${FILE}`))).toBe(true)
    expect(steps.some((s) => s.includes('gh workflow run garmin-s3-sync.yml'))).toBe(true)
    expect(steps.some((s) => s.includes('60 days'))).toBe(true)

    const text = await readFile(join(repo, FILE), 'utf8')
    expectValidWorkflow(text)
    const workflow = readWorkflow(text)
    expect(workflow.on.schedule).toEqual([{ cron: '15 7 * * *', timezone: 'America/Chicago' }])
    expect(syncStep(workflow)?.run).toContain(`npx --yes garmin-s3@${run.json?.packageVersion} sync`)
  })

  it('prints a numbered to-do list for humans; a rerun reports the file unchanged', async () => {
    const first = await runInit(base())
    expect(first.exitCode).toBe(0)
    expect(first.stdout).toContain(`Wrote ${join(repo, FILE)}.`)
    expect(first.stdout).toMatch(/Next steps:\n {2}1\. Make sure the role .* trusts GitHub's OIDC provider/)
    expect(first.stdout).toMatch(/^ {2}2\. Put your Garmin tokens in SSM once/m)
    expect(first.stdout).toContain(
      'Runs "0 6 * * *" (UTC) as arn:aws:iam::123456789012:role/garmin-s3-github in us-east-1',
    )
    const written = await stat(join(repo, FILE))

    const again = await runInit([...base(), '--json'])
    expect(again.exitCode).toBe(0)
    expect(again.json?.file).toBe('unchanged')
    expect(((again.json?.nextSteps ?? []) as string[]).some((s) => s.includes('git add'))).toBe(false)
    expect((await stat(join(repo, FILE))).mtimeMs).toBe(written.mtimeMs)
  })

  it('refuses to replace a different workflow without --force (exit 2), and replaces it with --force', async () => {
    await mkdir(join(repo, '.github/workflows'), { recursive: true })
    await writeFile(join(repo, FILE), 'name: my own\n')
    const refused = await runInit(base())
    expect(refused.exitCode).toBe(2)
    expect(refused.stderr).toContain(`Error: ${FILE} already exists and differs`)
    expect(refused.stderr).toContain('--force')
    expect(await readFile(join(repo, FILE), 'utf8')).toBe('name: my own\n')

    const forced = await runInit([...base(), '--force', '--json'])
    expect(forced.exitCode).toBe(0)
    expect(forced.json?.file).toBe('update')
    expect(await readFile(join(repo, FILE), 'utf8')).toContain('name: garmin-s3 sync')
  })

  it('--dry-run over a different workflow shows what --force would write instead of failing', async () => {
    await mkdir(join(repo, '.github/workflows'), { recursive: true })
    await writeFile(join(repo, FILE), 'name: my own\n')
    const refused = await runInit(base())
    expect(refused.stderr).toContain('see what it would write first with --dry-run')

    const plan = await runInit([...base(), '--dry-run'])
    expect(plan.exitCode).toBe(0)
    expect(plan.stdout).toContain(`Would replace ${join(repo, FILE)}:`)
    expect(plan.stdout).toContain('name: garmin-s3 sync')
    expect(plan.stdout).toMatch(/1\. .*rerun without --dry-run and with --force to replace it/)
    expect(await readFile(join(repo, FILE), 'utf8')).toBe('name: my own\n')
  })

  it('--package puts a tarball URL or a GitHub tag in the workflow, so it runs before publication', async () => {
    const cases: [string, string][] = [
      ['garmin-s3@1.2.3', 'npx --yes garmin-s3@1.2.3 sync'],
      [
        'https://github.com/octocat/garmin-s3/releases/download/v0.1.0/garmin-s3-0.1.0.tgz',
        'npx --yes --package https://github.com/octocat/garmin-s3/releases/download/v0.1.0/garmin-s3-0.1.0.tgz garmin-s3 sync',
      ],
      [
        'github:octocat/garmin-s3#v0.1.0',
        "npx --yes --package 'github:octocat/garmin-s3#v0.1.0' garmin-s3 sync",
      ],
    ]
    for (const [spec, command] of cases) {
      const run = await runInit([...base(), '--package', spec, '--force', '--json'])
      expect(run.exitCode, spec).toBe(0)
      expect(run.json?.packageSpec).toBe(spec)
      expect(syncStep(readWorkflow(await readFile(join(repo, FILE), 'utf8')))?.run).toContain(command)
    }
    const bad = [
      'garmin-s3@latest',
      'garmin-s3@^1.0.0',
      'left-pad@1.0.0',
      'http://example.invalid/garmin-s3.tgz',
      'https://example.invalid/$(id).tgz',
      'github:octocat/garmin-s3',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template literal
      'github:octocat/garmin-s3#${{ github.ref }}',
    ]
    for (const spec of bad) {
      const run = await runInit([...base(), '--package', spec, '--force'])
      expect(run.exitCode, spec).toBe(2)
      expect(run.stderr, spec).toContain('github:owner/repo#tag')
    }
  })

  it('--dry-run shows the workflow and writes nothing', async () => {
    const run = await runInit([...base(), '--dry-run'])
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain(`Would write ${join(repo, FILE)}:`)
    expect(run.stdout).toContain('role-to-assume: arn:aws:iam::123456789012:role/garmin-s3-github')
    expect(run.stdout).toMatch(/1\. Rerun without --dry-run/)
    await expect(stat(join(repo, '.github'))).rejects.toThrow(/ENOENT/)
  })

  it('takes the region from AWS_REGION, picks the parameter of --name, and warns outside a git root', async () => {
    vi.stubEnv('AWS_REGION', 'eu-west-1')
    await rm(join(repo, '.git'), { recursive: true })
    const run = await runInit([
      '--bucket',
      'my-data-lake',
      '--role-arn',
      ROLE,
      '--name',
      'family',
      '--dir',
      repo,
    ])
    expect(run.exitCode).toBe(0)
    expect(run.stderr).toContain('is not the root of a git repository')
    const text = await readFile(join(repo, FILE), 'utf8')
    expect(text).toContain('aws-region: eu-west-1')
    expect(text).toContain('--token-store ssm:/family/tokens')
    expect(text).toContain('group: garmin-s3-sync-family')
  })

  it('refuses bad input with exit 2 and writes nothing', async () => {
    const cases: [string[], string][] = [
      [['--bucket', 'my-data-lake', '--region', 'us-east-1', '--dir', repo], '--role-arn is required'],
      [[...base(), '--cron', '0 6 * * ? *'], 'must have 5 fields'],
      [[...base(), '--timezone', 'Central Time'], 'not an IANA time zone'],
      [
        ['--bucket', 'My_Bucket', '--role-arn', ROLE, '--region', 'us-east-1', '--dir', repo],
        'invalid bucket name',
      ],
      [
        ['--bucket', 'my-data-lake', '--role-arn', 'my-role', '--region', 'us-east-1', '--dir', repo],
        'not an IAM role ARN',
      ],
      [[...base(), '--repo', 'octocat/data'], '--repo is only used with --create-role'],
      [['--bucket', 'my-data-lake', '--role-arn', ROLE, '--dir', repo], 'No AWS region'],
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a GitHub expression, not a template literal
      [[...base(), '--prefix', '${{ secrets.X }}/'], 'cannot go into an IAM policy or a workflow'],
      [[...base(), '--name', 'bad name'], 'is not a valid deployment name'],
      [['--bucket', 'my-data-lake', '--create-role', '--dir', repo], '--create-role needs --repo'],
    ]
    for (const [argv, message] of cases) {
      const run = await runInit(argv)
      expect(run.exitCode, argv.join(' ')).toBe(2)
      expect(run.stderr, argv.join(' ')).toContain(message)
    }
    await expect(stat(join(repo, '.github'))).rejects.toThrow(/ENOENT/)
  })

  it("--create-role refuses to upload a simulator's tokens to AWS (exit 2), before any AWS client exists", async () => {
    vi.stubEnv('GARMIN_S3_GARMIN_URL', 'http://127.0.0.1:9')
    const argv = [
      '--bucket',
      'my-data-lake',
      '--create-role',
      '--repo',
      'octocat/data',
      '--region',
      'us-east-1',
    ]
    const run = await runInit([...argv, '--dir', repo], {
      aws: () => {
        throw new Error('no AWS client may be made')
      },
    })
    expect(run.exitCode).toBe(2)
    expect(run.stderr).toContain('GARMIN_S3_GARMIN_URL is set (http://127.0.0.1:9)')
    await expect(stat(join(repo, '.github'))).rejects.toThrow(/ENOENT/)
    // Without --create-role nothing is uploaded: the workflow is written as usual.
    expect((await runInit(base())).exitCode).toBe(0)
  })
})
