/**
 * docs/iam.md's policy for the identity running deploy and destroy is exact: every AWS call a deploy
 * (schedule and rule mode, with alerts), its rerun and destroy send on moto maps to an IAM action the
 * policy grants, and the policy grants nothing they do not use. A missing action is an Access Denied
 * halfway through a user's deploy; a missing `lambda:ListTags` even makes deploy think its own
 * function is foreign (GetFunction returns tags only with it).
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam'
import { CreateBucketCommand } from '@aws-sdk/client-s3'
import { SetTopicAttributesCommand } from '@aws-sdk/client-sns'
import { RemoveTagsFromResourceCommand } from '@aws-sdk/client-ssm'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { type AwsClients, deploy, destroy } from '../../src/deploy/index.js'
import { FakeClock } from '../helpers/fake-clock.js'
import { testS3Client } from '../helpers/s3.js'
import { TEST_REGION } from '../helpers/servers.js'
import {
  deployOptions,
  FIXTURE_BUNDLE,
  fixtureTokens,
  freshMotoAccount,
  immediateWaiters,
  MemoryTokenStore,
  motoClients,
  type RecordedCall,
} from './helpers.js'

const SERVICE: Record<keyof AwsClients, string> = {
  iam: 'iam',
  lambda: 'lambda',
  scheduler: 'scheduler',
  events: 'events',
  ssm: 'ssm',
  sts: 'sts',
  sns: 'sns',
  cloudwatch: 'cloudwatch',
  s3: 's3',
}

/** The IAM actions one API call needs: its own, and those AWS checks besides (tags, PassRole). */
const ALSO: Record<string, string[]> = {
  's3:HeadBucket': ['s3:ListBucket'],
  'lambda:GetFunction': ['lambda:GetFunction', 'lambda:ListTags'],
  'lambda:CreateFunction': ['lambda:CreateFunction', 'lambda:TagResource', 'iam:PassRole'],
  'lambda:UpdateFunctionConfiguration': ['lambda:UpdateFunctionConfiguration', 'iam:PassRole'],
  'lambda:Invoke': ['lambda:InvokeFunction'],
  'scheduler:CreateSchedule': ['scheduler:CreateSchedule', 'iam:PassRole'],
  'scheduler:UpdateSchedule': ['scheduler:UpdateSchedule', 'iam:PassRole'],
  'iam:CreateRole': ['iam:CreateRole', 'iam:TagRole'],
  'events:PutRule': ['events:PutRule', 'events:TagResource'],
  'ssm:PutParameter': ['ssm:PutParameter', 'ssm:AddTagsToResource'],
  'sns:CreateTopic': ['sns:CreateTopic', 'sns:TagResource'],
  'cloudwatch:PutMetricAlarm': ['cloudwatch:PutMetricAlarm', 'cloudwatch:TagResource'],
}

function actionsOf(calls: RecordedCall[]): Set<string> {
  return new Set(
    calls.flatMap((c) => {
      const call = `${SERVICE[c.client]}:${c.command}`
      return ALSO[call] ?? [call]
    }),
  )
}

/** The actions of the ```json block under "## What the identity running deploy and destroy needs". */
async function documentedActions(): Promise<Set<string>> {
  const doc = await readFile(join(import.meta.dirname, '../../docs/iam.md'), 'utf8')
  const section = doc.split('## What the identity running deploy and destroy needs')[1] ?? ''
  const block = /```json\n([\s\S]*?)```/.exec(section)?.[1]
  if (!block) throw new Error('docs/iam.md has no policy for the identity running deploy')
  const policy = JSON.parse(block) as { Statement: { Action: string | string[] }[] }
  return new Set(policy.Statement.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action])))
}

describe('docs/iam.md: what the identity running deploy and destroy needs', () => {
  let calls: RecordedCall[]
  const clock = new FakeClock()

  beforeAll(async () => {
    const endpoint = inject('motoEndpoint')
    const account = await freshMotoAccount(endpoint)
    let clients: AwsClients
    ;({ clients, calls } = motoClients(endpoint, account))
    const s3 = testS3Client(endpoint, { credentials: account.credentials })
    await s3.send(new CreateBucketCommand({ Bucket: 'iam-doc-lake' }))
    s3.destroy()
    const tokenStore = new MemoryTokenStore(fixtureTokens())
    const deps = { clients, tokenStore, bundle: FIXTURE_BUNDLE, clock, waiters: immediateWaiters }
    const alerts = { emails: ['me@example.invalid'], noDataDays: 3 }
    await deploy(deployOptions({ bucket: 'iam-doc-lake', alerts }), deps)
    // Drift, made with clients that are not recorded: a policy attached to the function's role (destroy
    // detaches it), a trust policy and a topic policy changed by hand.
    const { clients: hand } = motoClients(endpoint, account)
    const { Policy } = await hand.iam.send(
      new CreatePolicyCommand({
        PolicyName: 'added-by-hand',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'logs:CreateLogStream', Resource: '*' }],
        }),
      }),
    )
    await hand.iam.send(
      new AttachRolePolicyCommand({ RoleName: 'garmin-s3-function', PolicyArn: Policy?.Arn }),
    )
    await hand.iam.send(
      new UpdateAssumeRolePolicyCommand({
        RoleName: 'garmin-s3-scheduler',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    )
    await hand.sns.send(
      new SetTopicAttributesCommand({
        TopicArn: `arn:aws:sns:${TEST_REGION}:${account.accountId}:garmin-s3-alerts`,
        AttributeName: 'Policy',
        AttributeValue: JSON.stringify({ Version: '2012-10-17', Statement: [] }),
      }),
    )
    // A GitHub Actions role of the user's own (init github-actions --role-arn), for another parameter:
    // destroy reads its policies to know whether the workflow still uses this deployment's.
    await hand.iam.send(
      new CreateRoleCommand({
        RoleName: 'my-github-sync',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: {
                Federated: `arn:aws:iam::${account.accountId}:oidc-provider/token.actions.githubusercontent.com`,
              },
              Action: 'sts:AssumeRoleWithWebIdentity',
            },
          ],
        }),
      }),
    )
    const { Policy: sync } = await hand.iam.send(
      new CreatePolicyCommand({
        PolicyName: 'my-github-sync-access',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Action: 'ssm:PutParameter',
              Resource: 'arn:aws:ssm:*:*:parameter/other/tokens',
            },
          ],
        }),
      }),
    )
    await hand.iam.send(new AttachRolePolicyCommand({ RoleName: 'my-github-sync', PolicyArn: sync?.Arn }))
    // A token parameter as a version before garmin-s3:created-by left it: the rerun reads its history.
    await hand.ssm.send(
      new RemoveTagsFromResourceCommand({
        ResourceType: 'Parameter',
        ResourceId: '/garmin-s3/tokens',
        TagKeys: ['garmin-s3:created-by'],
      }),
    )
    // A rerun with other settings: every update path, and the rule mode instead of the schedule.
    await deploy(
      deployOptions({ bucket: 'iam-doc-lake', alerts, memory: 512, schedule: 'rate(1 day)' }),
      deps,
    )
    await deploy(deployOptions({ bucket: 'iam-doc-lake', scheduler: 'rule', timezone: 'UTC', memory: 256 }), {
      ...deps,
      bundle: new TextEncoder().encode('export const handler = async () => 2\n'),
    })
    await destroy('garmin-s3', { clients })
  })

  it('grants every action deploy, a rerun and destroy use, and nothing else (lambda:InvokeFunction for --invoke)', async () => {
    const used = actionsOf(calls)
    // moto cannot run a Node function: --invoke's one call is added by hand.
    used.add('lambda:InvokeFunction')
    const documented = await documentedActions()
    expect([...used].filter((a) => !documented.has(a)).sort(), 'used but not in docs/iam.md').toEqual([])
    expect([...documented].filter((a) => !used.has(a)).sort(), 'in docs/iam.md but never used').toEqual([])
  })
})
