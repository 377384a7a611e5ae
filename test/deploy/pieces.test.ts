/** The pure parts of deploy: flag validation, IAM document comparison, the deterministic zip. */
import { describe, expect, it } from 'vitest'
import { BUNDLE_ENTRY_NAME, codeSha256, zipBundle } from '../../src/deploy/bundle.js'
import { validateDeployOptions, validateRuntime } from '../../src/deploy/index.js'
import { resourceNames } from '../../src/deploy/options.js'
import { allows, executionPolicy, samePolicy } from '../../src/deploy/policy.js'
import { functionEnvironment } from '../../src/deploy/resources.js'
import { loadConfig } from '../../src/lambda/environment.js'
import { deployOptions, FIXTURE_BUNDLE, fixtureTokens } from './helpers.js'

const OPTIONS = deployOptions()

describe('deploy options', () => {
  it('accepts nodejs22.x and nodejs24.x and refuses the deprecated nodejs20.x with a usage error', () => {
    expect(validateRuntime('nodejs24.x')).toBe('nodejs24.x')
    expect(() => validateRuntime('nodejs20.x')).toThrow(/deprecated/)
    try {
      validateRuntime('nodejs20.x')
    } catch (error) {
      expect(error).toMatchObject({ exitCode: 2, hint: 'Use nodejs22.x or nodejs24.x.' })
    }
  })

  it('refuses a time zone with a UTC-only EventBridge rule, and unknown zones, before touching AWS', () => {
    expect(() => validateDeployOptions({ ...OPTIONS, scheduler: 'rule' })).toThrow(
      /EventBridge rules run in UTC/,
    )
    expect(validateDeployOptions({ ...OPTIONS, scheduler: 'rule', timezone: 'UTC' }).scheduler).toBe('rule')
    expect(() => validateDeployOptions({ ...OPTIONS, timezone: 'Mars/Olympus' })).toThrow(
      /not an IANA time zone/,
    )
    expect(() => validateDeployOptions({ ...OPTIONS, schedule: '0 6 * * *' })).toThrow(
      /not a schedule expression/,
    )
    expect(() => validateDeployOptions({ ...OPTIONS, memory: 64 })).toThrow(/--memory/)
    expect(() => validateDeployOptions({ ...OPTIONS, name: 'has space' })).toThrow(/--name/)
    expect(() => validateDeployOptions({ ...OPTIONS, reconcileDays: 400 })).toThrow(/--reconcile-days/)
  })

  it('--schedule accepts the expressions EventBridge accepts', () => {
    for (const schedule of [
      'cron(0 6 * * ? *)',
      'cron(30 5 ? * MON-FRI *)',
      'cron(0/15 8-18 ? * 2-6 *)',
      'cron(0 12 1,15 * ? 2027)',
      'cron(0 10 L * ? *)',
      'cron(0 10 15W JAN,JUL ? *)',
      'cron(0 9 ? * 6L *)',
      'cron(0 9 ? * 3#2 *)',
      'cron(0 6 */2 * ? *)',
      'rate(1 day)',
      'rate(2 days)',
      'rate(1 minute)',
      'rate(30 minutes)',
      'rate(1 hour)',
      'rate(12 hours)',
    ]) {
      for (const scheduler of ['schedule', 'rule'] as const) {
        const options = {
          ...OPTIONS,
          schedule,
          scheduler,
          timezone: scheduler === 'rule' ? 'UTC' : OPTIONS.timezone,
        }
        expect(validateDeployOptions(options).schedule, `${schedule} (${scheduler})`).toBe(schedule)
      }
    }
  })

  it('--schedule refuses what EventBridge would refuse halfway through a deploy, with exit 2 and a valid example', () => {
    const refused: [string, RegExp][] = [
      ['cron(0 6 * * *)', /6 fields .* got 5/],
      ['cron(0 6 * * * * *)', /6 fields .* got 7/],
      ['cron(0 6 * * * *)', /one of day-of-month and day-of-week must be "\?"/],
      ['cron(0 6 1 * MON *)', /one of day-of-month and day-of-week must be "\?"/],
      ['cron(0 6 ? * ? *)', /one of day-of-month and day-of-week must be "\?"/],
      ['cron(60 6 * * ? *)', /minutes "60"/],
      ['cron(0 24 * * ? *)', /hours "24"/],
      ['cron(0 6 32 * ? *)', /day-of-month "32"/],
      ['cron(0 6 * 13 ? *)', /month "13"/],
      ['cron(0 6 ? * 8 *)', /day-of-week "8"/],
      ['cron(0 6 * * ? 1969)', /year "1969"/],
      ['cron(0 6 * FOO ? *)', /month "FOO"/],
      ['cron(0 6/0 * * ? *)', /hours "6\/0"/],
      ['rate(0 days)', /positive whole number/],
      ['rate(-1 days)', /positive whole number/],
      ['rate(1.5 hours)', /positive whole number/],
      ['rate(1 days)', /rate\(1 day\)/],
      ['rate(2 day)', /rate\(2 days\)/],
      ['rate(1 week)', /minute\(s\), hour\(s\) or day\(s\)/],
      ['rate(1day)', /rate\(value unit\)/],
      ['at(2027-01-01T06:00:00)', /one-time/],
      ['0 6 * * *', /not cron\(...\) or rate/],
    ]
    for (const [schedule, message] of refused) {
      let error: unknown
      try {
        validateDeployOptions({ ...OPTIONS, schedule })
      } catch (e) {
        error = e
      }
      expect(error, schedule).toMatchObject({
        exitCode: 2,
        message: expect.stringMatching(message),
        hint: expect.stringContaining('cron(0 6 * * ? *)'),
      })
    }
  })

  it('--reconcile-days reaches the function as RECONCILE_DAYS, which the handler reads back', () => {
    const desired = { tokens: fixtureTokens(), zip: new Uint8Array(), codeSha256: '' }
    const env = functionEnvironment(
      { ...desired, options: { ...OPTIONS, reconcileDays: 0 } },
      resourceNames('x'),
    )
    expect(env.RECONCILE_DAYS).toBe('0')
    expect(loadConfig(env).reconcileDays).toBe(0)
    expect(
      functionEnvironment({ ...desired, options: OPTIONS }, resourceNames('x')).RECONCILE_DAYS,
    ).toBeUndefined()
  })
})

describe('IAM documents', () => {
  it('compares a policy as IAM returns it (URL-encoded, one-item lists collapsed, reordered) as equal', () => {
    const desired = executionPolicy({
      partition: 'aws',
      bucket: 'b',
      prefix: 'p/',
      controlPrefix: '_garmin-s3/',
      parameterArn: 'arn:aws:ssm:us-east-1:1:parameter/x',
    })
    const reordered = { ...desired, Statement: [...desired.Statement].reverse() }
    expect(samePolicy(encodeURIComponent(JSON.stringify(reordered)), desired)).toBe(true)
    const widened = {
      ...desired,
      Statement: desired.Statement.map((s) => (s.Sid === 'GarminTokens' ? { ...s, Resource: '*' } : s)),
    }
    expect(samePolicy(JSON.stringify(widened), desired)).toBe(false)
  })

  it('tells whether a role policy of the user lets a workflow write the token parameter, wildcards and URL-encoding included', () => {
    const arn = 'arn:aws:ssm:us-east-1:111122223333:parameter/garmin-s3/tokens'
    const doc = (statement: Record<string, unknown>) =>
      encodeURIComponent(JSON.stringify({ Version: '2012-10-17', Statement: statement }))
    const allow = (Action: unknown, Resource: unknown) => doc({ Effect: 'Allow', Action, Resource })
    expect(allows(allow(['ssm:GetParameter', 'ssm:PutParameter'], arn), 'ssm:PutParameter', arn)).toBe(true)
    expect(
      allows(allow('SSM:Put*', 'arn:aws:ssm:*:111122223333:parameter/garmin-s3/*'), 'ssm:PutParameter', arn),
    ).toBe(true)
    expect(allows(allow('*', '*'), 'ssm:PutParameter', arn)).toBe(true)
    // Read-only, another parameter, a prefix that only looks alike, a Deny: not a writer.
    expect(allows(allow('ssm:GetParameter', arn), 'ssm:PutParameter', arn)).toBe(false)
    expect(allows(allow('ssm:PutParameter', `${arn}-old`), 'ssm:PutParameter', arn)).toBe(false)
    expect(
      allows(allow('ssm:PutParameter', arn.replace('garmin-s3', 'garmin-s?')), 'ssm:PutParameter', arn),
    ).toBe(true)
    expect(
      allows(
        allow('ssm:PutParameter', 'arn:aws:ssm:us-east-1:111122223333:parameter/garmin.s3/tokens'),
        'ssm:PutParameter',
        arn.replace('garmin-s3', 'garminXs3'),
      ),
    ).toBe(false)
    expect(allows(doc({ Effect: 'Deny', Action: 'ssm:*', Resource: '*' }), 'ssm:PutParameter', arn)).toBe(
      false,
    )
    expect(allows('not a policy', 'ssm:PutParameter', arn)).toBe(false)
  })

  it('scopes a bucket-root deployment to the whole bucket plus the control prefix, once each', () => {
    const policy = executionPolicy({
      partition: 'aws-cn',
      bucket: 'b',
      prefix: '',
      controlPrefix: '_garmin-s3/',
      parameterArn: 'arn:aws-cn:ssm:cn-north-1:1:parameter/x',
    })
    expect(policy.Statement[0]?.Resource).toEqual(['arn:aws-cn:s3:::b/*', 'arn:aws-cn:s3:::b/_garmin-s3/*'])
  })
})

describe('the function zip', () => {
  it('is byte-for-byte the same for the same bundle, so CodeSha256 only changes with the code', async () => {
    const [a, b] = await Promise.all([zipBundle(FIXTURE_BUNDLE), zipBundle(FIXTURE_BUNDLE)])
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true)
    const changed = await zipBundle(new TextEncoder().encode('export const handler = async () => 2\n'))
    expect(codeSha256(changed)).not.toBe(codeSha256(a))
    // One local file header naming index.mjs (Lambda's handler is index.handler).
    expect(Buffer.from(a).subarray(0, 4).toString('hex')).toBe('504b0304')
    expect(
      Buffer.from(a)
        .subarray(30, 30 + BUNDLE_ENTRY_NAME.length)
        .toString(),
    ).toBe('index.mjs')
  })
})
