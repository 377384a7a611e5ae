/** The pure parts of deploy: flag validation, IAM document comparison, the deterministic zip. */
import { describe, expect, it } from 'vitest'
import { BUNDLE_ENTRY_NAME, codeSha256, zipBundle } from '../../src/deploy/bundle.js'
import { validateDeployOptions, validateRuntime } from '../../src/deploy/index.js'
import { resourceNames } from '../../src/deploy/options.js'
import { executionPolicy, samePolicy } from '../../src/deploy/policy.js'
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
