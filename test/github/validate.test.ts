/** The flag checks of `init github-actions`: what is accepted (and how it is normalised), what is refused. */
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import {
  validateBranch,
  validateCron,
  validateRegion,
  validateRepo,
  validateRoleArn,
  validateTimezone,
} from '../../src/github/validate.js'

function refused(fn: () => unknown): UsageError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError)
    expect((error as UsageError).exitCode).toBe(2)
    return error as UsageError
  }
  throw new Error('expected a UsageError')
}

describe('init github-actions input checks', () => {
  it('accepts five-field POSIX cron with names, ranges, lists and steps', () => {
    expect(validateCron('0 6 * * *')).toBe('0 6 * * *')
    expect(validateCron('  30  5 * * MON-FRI ')).toBe('30 5 * * MON-FRI')
    expect(validateCron('*/15 0,12 1-7 JAN,jul 0')).toBe('*/15 0,12 1-7 JAN,jul 0')
  })

  it('refuses cron GitHub would not run, saying what is wrong', () => {
    expect(refused(() => validateCron('0 6 * *')).message).toContain('must have 5 fields, it has 4')
    expect(refused(() => validateCron('cron(0 6 * * ? *)')).message).toContain('must have 5 fields')
    expect(refused(() => validateCron('0 24 * * *')).message).toContain('"24" in the hour field (0-23)')
    expect(refused(() => validateCron('0 6 ? * *')).message).toContain('day of month')
    expect(refused(() => validateCron('0 6 * * 7')).message).toContain('day of week')
    expect(refused(() => validateCron('*/0 6 * * *')).message).toContain('step "/0"')
    expect(refused(() => validateCron('@daily')).hint).toContain('"0 6 * * *"')
  })

  it('takes IANA zones in their canonical spelling and refuses the rest', () => {
    expect(validateTimezone('America/Chicago')).toBe('America/Chicago')
    expect(validateTimezone('europe/berlin')).toBe('Europe/Berlin')
    expect(validateTimezone('UTC')).toBe('UTC')
    expect(refused(() => validateTimezone('Mars/Olympus_Mons')).message).toContain('not an IANA time zone')
    expect(refused(() => validateTimezone('CST6CDT; rm -rf /')).message).toContain('not an IANA time zone')
  })

  it('accepts role ARNs of every partition, with a path, and nothing else', () => {
    expect(validateRoleArn('arn:aws:iam::123456789012:role/garmin-s3-github')).toBeTruthy()
    expect(validateRoleArn('arn:aws-us-gov:iam::123456789012:role/ci/gh')).toBeTruthy()
    expect(validateRoleArn('arn:aws-cn:iam::123456789012:role/gh')).toBeTruthy()
    for (const bad of [
      'garmin-s3-github',
      'arn:aws:iam::12345:role/x',
      'arn:aws:iam::123456789012:user/x',
      'arn:aws:sts::123456789012:assumed-role/x/y',
    ]) {
      expect(refused(() => validateRoleArn(bad)).hint).toContain('--create-role')
    }
  })

  it('reads owner/name, also from a pasted clone URL', () => {
    expect(validateRepo('octocat/garmin-data')).toEqual({ owner: 'octocat', name: 'garmin-data' })
    expect(validateRepo('https://github.com/octo-cat/data.lake.git')).toEqual({
      owner: 'octo-cat',
      name: 'data.lake',
    })
    expect(validateRepo('git@github.com:octocat/garmin_data.git')).toEqual({
      owner: 'octocat',
      name: 'garmin_data',
    })
    for (const bad of ['octocat', 'octocat/*', 'octo/cat/data', '-octo/data', 'octo/..', 'a b/c']) {
      expect(refused(() => validateRepo(bad)).hint).toContain('owner/name')
    }
  })

  it('takes one plain branch (no wildcards: the role trusts exactly that ref)', () => {
    expect(validateBranch('main')).toBe('main')
    expect(validateBranch('refs/heads/release/2026')).toBe('release/2026')
    for (const bad of ['*', 'main*', 'a..b', '-x', 'feature/', 'x.lock', 'with space']) {
      expect(refused(() => validateBranch(bad)).message).toContain('is not a branch name')
    }
  })

  it('checks the region shape', () => {
    expect(validateRegion('us-gov-west-1')).toBe('us-gov-west-1')
    expect(refused(() => validateRegion('US East')).hint).toContain('us-east-1')
  })
})
