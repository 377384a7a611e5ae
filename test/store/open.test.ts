/**
 * Choosing the target from the user's options, and refusing bad bucket names, prefixes and keys
 * before anything is touched.
 */
import { isAbsolute, join, relative, resolve, sep } from 'node:path'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/errors.js'
import {
  DEFAULT_OUT_DIR,
  DirStore,
  openStore,
  S3Store,
  validateBucketName,
  validatePrefix,
} from '../../src/store/index.js'
import { InvalidKeyError, keyToPath } from '../../src/store/keys.js'

function expectUsageError(error: unknown): UsageError {
  expect(error).toBeInstanceOf(UsageError)
  expect((error as UsageError).exitCode).toBe(2)
  expect((error as UsageError).hint).toBeTruthy()
  return error as UsageError
}

function usageError(fn: () => unknown): UsageError {
  try {
    fn()
  } catch (error) {
    return expectUsageError(error)
  }
  throw new Error('expected a UsageError')
}

async function rejectsWithUsageError(promise: Promise<unknown>): Promise<UsageError> {
  return expectUsageError(
    await promise.then(
      () => {
        throw new Error('expected a UsageError')
      },
      (error: unknown) => error,
    ),
  )
}

describe('openStore', () => {
  it('defaults to ./garmin-data as an absolute path', async () => {
    const store = await openStore({})
    expect(store).toBeInstanceOf(DirStore)
    expect(store.location).toBe(resolve(DEFAULT_OUT_DIR))
    expect(isAbsolute(store.location)).toBe(true)
  })

  it('resolves --out against the working directory', async () => {
    expect((await openStore({ out: 'backup/garmin' })).location).toBe(resolve('backup/garmin'))
  })

  it('opens a bucket, accepting a pasted s3:// URL', async () => {
    const store = await openStore({ bucket: 's3://my-garmin-lake/', region: 'eu-west-1' })
    expect(store).toBeInstanceOf(S3Store)
    expect(store.location).toBe('s3://my-garmin-lake')
  })

  it('refuses --bucket together with --out', async () => {
    expect((await rejectsWithUsageError(openStore({ bucket: 'my-lake', out: './x' }))).message).toMatch(
      /cannot be used together/,
    )
  })

  it('refuses an endpoint that is not an http(s) URL', async () => {
    expect(
      (await rejectsWithUsageError(openStore({ bucket: 'my-lake', endpoint: 'minio:9000' }))).message,
    ).toMatch(/invalid endpoint/)
    await rejectsWithUsageError(openStore({ bucket: 'my-lake', endpoint: 'ftp://minio:9000' }))
  })

  it('refuses a malformed region', async () => {
    await rejectsWithUsageError(openStore({ bucket: 'my-lake', region: 'EU West 1' }))
  })
})

describe('validateBucketName', () => {
  it.each(['my-lake', 'garmin.data.2024', 'abc', 'a'.repeat(63)])('accepts %s', (name) => {
    expect(validateBucketName(name)).toBe(name)
  })

  it.each([
    ['ab', /3 to 63/],
    ['a'.repeat(64), /3 to 63/],
    ['My-Lake', /lowercase/],
    ['my_lake', /letters, digits, dots and hyphens/],
    ['-lake', /start and end/],
    ['lake.', /start and end/],
    ['my..lake', /two dots/],
    ['192.168.1.1', /IP address/],
    ['xn--lake', /xn--/],
  ])('refuses %s', (name, why) => {
    expect(usageError(() => validateBucketName(name)).message).toMatch(why)
  })

  it('points a bucket URL with a path to --prefix', () => {
    const error = usageError(() => validateBucketName('s3://my-lake/raw-data/garmin'))
    expect(error.hint).toBe('Use --bucket my-lake --prefix raw-data/garmin/')
  })
})

describe('validatePrefix', () => {
  it.each([
    ['raw-data/garmin-json', 'raw-data/garmin-json/'],
    ['raw-data/garmin-json/', 'raw-data/garmin-json/'],
    ['./exports/', 'exports/'],
    ['', ''],
    ['Läufe 🏃', 'Läufe 🏃/'],
  ])('normalises %j to %j', (input, output) => {
    expect(validatePrefix(input)).toBe(output)
  })

  it.each([
    '../up',
    'raw/../../up',
    '/absolute',
    'raw//double',
    'raw\\win',
    'raw/\u0000',
    'C:/data',
    'a/./b',
  ])('refuses %j', (prefix) => {
    expect(usageError(() => validatePrefix(prefix)).message).toMatch(/invalid prefix/)
  })
})

describe('keyToPath', () => {
  it('either refuses a key or maps it strictly inside the root, segment for segment', () => {
    const root = join(sep, 'srv', 'garmin-data')
    const piece = fc.constantFrom(
      'a',
      'b.json',
      '.',
      '..',
      '',
      '\\',
      '\u0000',
      'C:',
      '~',
      ' ',
      '😀',
      '.garmin-s3-x',
    )
    const key = fc
      .array(
        fc.array(piece, { maxLength: 3 }).map((p) => p.join('')),
        { maxLength: 5 },
      )
      .map((s) => s.join('/'))
    fc.assert(
      fc.property(key, (k) => {
        let path: string
        try {
          path = keyToPath(root, k)
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidKeyError)
          return
        }
        const rel = relative(root, path)
        expect(rel === '..' || rel.startsWith(`..${sep}`) || isAbsolute(rel)).toBe(false)
        expect(rel.split(sep)).toEqual(k.split('/'))
      }),
      { numRuns: 500, seed: 7 },
    )
  })
})
