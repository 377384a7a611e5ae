/**
 * Choosing and checking the target: `openStore` turns the user's options into a Store, refusing bad
 * names up front with a UsageError (exit 2) that says what to do instead. The CLI imports this module,
 * not ./index.js, so that the S3 SDK is loaded only when a bucket is the target.
 */
import { resolve } from 'node:path'
import { UsageError } from '../errors.js'
import { DirStore } from './dir.js'
import { pathProblem } from './keys.js'
import type { Store } from './types.js'

export interface TargetOptions {
  bucket?: string | undefined
  out?: string | undefined
  region?: string | undefined
  profile?: string | undefined
  endpoint?: string | undefined
  pathStyle?: boolean | undefined
}

/** Where data goes when neither --bucket nor --out is given (relative to the working directory). */
export const DEFAULT_OUT_DIR = './garmin-data'

/** The activity prefix when none is given (the original Python Lambda's): every command and the function. */
export const DEFAULT_PREFIX = 'raw-data/garmin-json/'

/**
 * The bucket name to use, or a UsageError. `s3://bucket` (with an optional trailing slash) is
 * accepted and stripped, because people paste it; `s3://bucket/path` is refused with a pointer to
 * --prefix. Rules (S3 general purpose buckets): 3-63 characters of lowercase letters, digits, dots
 * and hyphens, starting and ending with a letter or digit, no "..", not an IP address, not "xn--".
 */
export function validateBucketName(input: string): string {
  let name = input.trim()
  const url = /^s3:\/\/([^/]*)(\/.*)?$/i.exec(name)
  if (url) {
    const path = url[2] ?? ''
    if (path !== '' && path !== '/') {
      throw new UsageError(`--bucket takes a bucket name, not a path: ${JSON.stringify(input)}`, {
        hint: `Use --bucket ${url[1]} --prefix ${path.replace(/^\/+/, '').replace(/\/?$/, '/')}`,
      })
    }
    name = url[1] ?? ''
  }
  const problem = bucketNameProblem(name)
  if (problem) {
    throw new UsageError(`invalid bucket name ${JSON.stringify(input)}: ${problem}`, {
      hint: 'Give the name of an existing bucket, e.g. --bucket my-garmin-lake (3-63 lowercase letters, digits, dots, hyphens).',
    })
  }
  return name
}

function bucketNameProblem(name: string): string | undefined {
  if (name.length < 3 || name.length > 63) return 'it must be 3 to 63 characters long'
  if (/[A-Z]/.test(name)) return 'it must be lowercase'
  if (!/^[a-z0-9.-]+$/.test(name)) return 'only letters, digits, dots and hyphens are allowed'
  if (!/^[a-z0-9].*[a-z0-9]$/.test(name)) return 'it must start and end with a letter or digit'
  if (name.includes('..')) return 'it must not contain two dots in a row'
  if (/^\d+\.\d+\.\d+\.\d+$/.test(name)) return 'it must not look like an IP address'
  if (name.startsWith('xn--')) return 'it must not start with "xn--"'
  return undefined
}

/**
 * Normalises a key prefix to the `a/b/` form ('' stays '' = the whole bucket or folder). Leading
 * "./" and a missing trailing slash are fixed; "..", absolute paths, backslashes, empty segments and
 * control characters are refused.
 */
export function validatePrefix(prefix: string): string {
  let value = prefix.trim()
  while (value.startsWith('./')) value = value.slice(2)
  if (value === '' || value === '.') return ''
  if (!value.endsWith('/')) value = `${value}/`
  const problem = pathProblem(value.slice(0, -1))
  if (problem) {
    throw new UsageError(`invalid prefix ${JSON.stringify(prefix)}: ${problem}`, {
      hint: 'Use a relative path of plain folder names, e.g. --prefix raw-data/garmin-json/',
    })
  }
  if (Buffer.byteLength(value, 'utf8') > 512) {
    throw new UsageError('the prefix is too long (more than 512 bytes)', {
      hint: 'Choose a shorter --prefix.',
    })
  }
  return value
}

/** Folder names a prefix may use where it enters an IAM policy or a workflow: plain ASCII only. */
const POLICY_PREFIX_SEGMENT = /^[A-Za-z0-9._=+-]+$/

/** `"*"`, or `U+2028` for a character that would not show. */
function describeChar(char: string): string {
  const code = char.codePointAt(0) ?? 0
  const visible = code > 0x20 && code < 0x7f
  return visible ? `"${char}"` : `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
}

/**
 * A prefix for `deploy` and `init github-actions`, where it becomes part of an IAM policy (`*`, `?`
 * are wildcards there, `${...}` a policy variable) and of a YAML workflow (`${{` is an expression,
 * U+2028 / U+0085 end a line for YAML 1.1). Only letters, digits and `. _ = + -` in folder names
 * separated by `/`; everything else is refused with exit 2, never escaped.
 */
export function validatePolicyPrefix(prefix: string): string {
  const value = validatePrefix(prefix)
  const bad = [...value].find((char) => char !== '/' && !POLICY_PREFIX_SEGMENT.test(char))
  if (bad !== undefined) {
    throw new UsageError(
      `invalid prefix ${JSON.stringify(prefix)}: ${describeChar(bad)} cannot go into an IAM policy or a workflow`,
      {
        hint: 'Use folder names of ASCII letters, digits and . _ = + - separated by "/", e.g. --prefix raw-data/garmin-json/',
      },
    )
  }
  return value
}

function validateEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new UsageError(`invalid endpoint ${JSON.stringify(endpoint)}: not a URL`, {
      hint: 'Give a full URL, e.g. --endpoint http://127.0.0.1:9000 or https://<account>.r2.cloudflarestorage.com',
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(
      `invalid endpoint ${JSON.stringify(endpoint)}: it must start with http:// or https://`,
      {
        hint: 'Give a full URL, e.g. --endpoint http://127.0.0.1:9000',
      },
    )
  }
  return endpoint
}

function validateRegion(region: string): string {
  if (!/^[a-z0-9-]{2,32}$/.test(region)) {
    throw new UsageError(`invalid region ${JSON.stringify(region)}`, {
      hint: 'Regions look like eu-west-1 or us-east-1 (R2 uses "auto").',
    })
  }
  return region
}

/**
 * The store for the user's target: an S3Store for `bucket`, a DirStore for `out`, else a DirStore at
 * ./garmin-data (resolved to an absolute path; the caller announces it). S3-only options (region,
 * profile, endpoint, pathStyle) are ignored for a folder because they often come from the
 * environment (AWS_REGION, AWS_PROFILE).
 */
export async function openStore(
  target: TargetOptions,
  log?: (message: string) => void,
  /** `createFolder: false`: a folder target that does not exist is an error, never created (doctor). */
  options: { createFolder?: boolean } = {},
): Promise<Store> {
  if (target.bucket && target.out) {
    throw new UsageError('--bucket and --out cannot be used together', {
      hint: 'Choose one: --bucket NAME for S3, or --out FOLDER for a local folder.',
    })
  }
  if (target.bucket) {
    const options = {
      bucket: validateBucketName(target.bucket),
      region: target.region ? validateRegion(target.region) : undefined,
      profile: target.profile || undefined,
      endpoint: target.endpoint ? validateEndpoint(target.endpoint) : undefined,
      pathStyle: target.pathStyle,
      ...(log ? { log } : {}),
    }
    // Loaded here, not at the top: a folder run never pays for loading the S3 SDK (~0.2 s per start).
    const { S3Store } = await import('./s3.js')
    return new S3Store(options)
  }
  if (target.bucket === '') {
    throw new UsageError('--bucket is empty', {
      hint: 'Give a bucket name, or leave --bucket out to use a folder.',
    })
  }
  const out = target.out?.trim() || DEFAULT_OUT_DIR
  return new DirStore(resolve(out), {
    ...(log ? { log } : {}),
    ...(options.createFolder === false ? { createRoot: false } : {}),
  })
}

/**
 * Checks, creating nothing, that a folder target can be used: a file on its path, or a folder on /proc
 * and the like, is refused (StoreError, exit 2) before any request. A bucket is checked by its first request.
 */
export async function checkTarget(store: Store): Promise<void> {
  if (store instanceof DirStore) await store.checkTarget()
}
