/**
 * The generated workflow, for several flag combinations: it validates (action-validator), and the
 * parsed YAML has the schedule, concurrency, permissions, SHA-pinned actions and the exact sync
 * command a user asked for.
 */
import { describe, expect, it } from 'vitest'
import { CONFIGURE_AWS_CREDENTIALS, SETUP_NODE } from '../../src/github/actions.js'
import { renderSyncWorkflow, type SyncWorkflowInput } from '../../src/github/workflow.js'
import {
  expectValidWorkflow,
  npxArguments,
  readWorkflow,
  SAMPLE_WORKFLOW_INPUT,
  type Step,
} from './helpers.js'

const BASE = SAMPLE_WORKFLOW_INPUT

const CASES: { title: string; input: SyncWorkflowInput; args: string[] }[] = [
  {
    title: 'the defaults (daily 06:00 UTC)',
    input: BASE,
    args: [
      '--bucket',
      'my-data-lake',
      '--prefix',
      'raw-data/garmin-json/',
      '--token-store',
      'ssm:/garmin-s3/tokens',
    ],
  },
  {
    title: 'local time, weekdays, another deployment name',
    input: {
      ...BASE,
      name: 'family',
      cron: '30 5 * * 1-5',
      timezone: 'America/Chicago',
      tokenParameter: '/family/tokens',
    },
    args: [
      '--bucket',
      'my-data-lake',
      '--prefix',
      'raw-data/garmin-json/',
      '--token-store',
      'ssm:/family/tokens',
    ],
  },
  {
    title: 'a prefix the shell must quote, garmin.cn, a role with a path, another region',
    input: {
      ...BASE,
      prefix: "Garmin Data/it's mine/",
      domain: 'garmin.cn',
      region: 'eu-central-1',
      bucketRegion: 'eu-west-1',
      roleArn: 'arn:aws:iam::123456789012:role/ci/garmin-s3-github',
      timezone: 'Europe/Berlin',
    },
    args: [
      '--bucket',
      'my-data-lake',
      '--prefix',
      "Garmin Data/it's mine/",
      '--token-store',
      'ssm:/garmin-s3/tokens',
      '--region',
      'eu-west-1',
      '--domain',
      'garmin.cn',
    ],
  },
  {
    title: 'the whole bucket (empty prefix)',
    input: { ...BASE, prefix: '' },
    args: ['--bucket', 'my-data-lake', '--prefix', '', '--token-store', 'ssm:/garmin-s3/tokens'],
  },
]

function step(steps: Step[], uses: string): Step {
  const found = steps.find((s) => s.uses?.startsWith(`${uses}@`))
  if (!found) throw new Error(`no step uses ${uses}`)
  return found
}

describe('renderSyncWorkflow', () => {
  for (const { title, input, args } of CASES) {
    it(`${title}: validates and says what it does`, async () => {
      const text = renderSyncWorkflow(input)
      const { timezoneRejected } = expectValidWorkflow(text)
      // action-validator 0.6 predates GitHub's schedule `timezone` key; everything else validates.
      expect(timezoneRejected).toBe(input.timezone !== undefined)

      const workflow = readWorkflow(text)
      expect(workflow.on.schedule).toEqual([
        input.timezone ? { cron: input.cron, timezone: input.timezone } : { cron: input.cron },
      ])
      expect(workflow.on).toHaveProperty('workflow_dispatch')
      expect(workflow.concurrency).toEqual({
        group: `garmin-s3-sync-${input.name}`,
        'cancel-in-progress': false,
      })
      expect(workflow.permissions).toEqual({ 'id-token': 'write', contents: 'read', issues: 'write' })

      const job = workflow.jobs.sync
      expect(job?.['runs-on']).toBe('ubuntu-latest')
      const steps = job?.steps ?? []
      const aws = step(steps, 'aws-actions/configure-aws-credentials')
      expect(aws.uses).toMatch(/^aws-actions\/configure-aws-credentials@[0-9a-f]{40}$/)
      expect(aws.with).toEqual({ 'role-to-assume': input.roleArn, 'aws-region': input.region })
      const node = step(steps, 'actions/setup-node')
      expect(node.uses).toMatch(/^actions\/setup-node@[0-9a-f]{40}$/)
      expect(node.with).toEqual({ 'node-version': 22 })
      // The release each SHA belongs to is written beside it.
      expect(text).toContain(`uses: ${aws.uses} # ${CONFIGURE_AWS_CREDENTIALS.version}`)
      expect(text).toContain(`uses: ${node.uses} # ${SETUP_NODE.version}`)
      // Credentials come before the command that needs them.
      const run = steps.find((s) => s.id === 'sync')?.run ?? ''
      expect(steps.indexOf(aws)).toBeLessThan(steps.length - 1)

      // What bash actually hands to npx, quoting resolved.
      expect(await npxArguments(run)).toEqual([
        '--yes',
        `garmin-s3@${input.packageVersion}`,
        'sync',
        ...args,
        '--max-duration',
        '50m',
        '--report',
        '/runner/temp/garmin-s3-report.json',
      ])
    })
  }

  it('comments on time zones, GitHub schedule delays and the 60-day rule where the schedule is', () => {
    const local = renderSyncWorkflow({ ...BASE, timezone: 'America/Chicago' })
    expect(local).toContain('# Daily at 06:00 (America/Chicago).')
    expect(local).toMatch(/is not supported .*the cron\n\s+# is read as UTC/)
    expect(local).toContain('up to an hour')
    expect(local).toContain('60 days without repository activity')
    const utc = renderSyncWorkflow(BASE)
    expect(utc).toContain('# Daily at 06:00 UTC.')
    expect(utc).not.toMatch(/^ +timezone:/m)
  })
})
