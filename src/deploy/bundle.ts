/**
 * The function's code: the esbuild bundle `dist/lambda/index.mjs` (built by scripts/bundle-lambda.js,
 * shipped in the npm package), zipped deterministically so that an unchanged bundle always gives the
 * same bytes, hence the same CodeSha256, and deploy can skip the upload.
 */
import { createHash } from 'node:crypto'
import { access, readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import archiver from 'archiver'
import { GarminS3Error } from '../errors.js'

/** The handler as Lambda sees it: `index.mjs`, export `handler`. */
export const LAMBDA_HANDLER = 'index.handler'
export const BUNDLE_ENTRY_NAME = 'index.mjs'

// Zip timestamps are DOS dates (1980 and later, 2 s resolution, written in UTC by archiver).
const FIXED_MTIME = new Date(Date.UTC(2020, 0, 1, 0, 0, 0))

/**
 * The bundle beside the compiled code (dist/deploy -> dist/lambda; the CLI bundle's chunks in dist/bundle
 * are one level under dist/ too), else the repository's dist/.
 */
function bundleCandidates(): string[] {
  return [
    fileURLToPath(new URL('../lambda/index.mjs', import.meta.url)),
    fileURLToPath(new URL('../../dist/lambda/index.mjs', import.meta.url)),
  ]
}

/** GARMIN_S3_LAMBDA_BUNDLE points at another build of the bundle (tests, custom builds). */
async function locateBundle(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const override = env.GARMIN_S3_LAMBDA_BUNDLE?.trim()
  for (const path of override ? [override] : bundleCandidates()) {
    try {
      await access(path)
      return path
    } catch {
      // try the next one
    }
  }
  throw new GarminS3Error(`The Lambda bundle ${override ?? '(dist/lambda/index.mjs)'} is missing`, {
    hint: override
      ? 'Fix or unset GARMIN_S3_LAMBDA_BUNDLE.'
      : 'Reinstall garmin-s3, or run `npm run build` in a source checkout.',
  })
}

export async function readBundle(path?: string): Promise<Uint8Array> {
  return readFile(path ?? (await locateBundle()))
}

/** One entry, fixed name, mode and time, maximum deflate: same input, same bytes. */
export async function zipBundle(bundle: Uint8Array): Promise<Uint8Array> {
  const archive = archiver('zip', { zlib: { level: 9 } })
  const chunks: Buffer[] = []
  archive.on('data', (chunk: Buffer) => chunks.push(chunk))
  const done = new Promise<void>((resolve, reject) => {
    archive.on('end', resolve)
    archive.on('error', reject)
    archive.on('warning', reject)
  })
  archive.append(Buffer.from(bundle), { name: BUNDLE_ENTRY_NAME, date: FIXED_MTIME, mode: 0o644 })
  await archive.finalize()
  await done
  return new Uint8Array(Buffer.concat(chunks))
}

/** What Lambda reports as CodeSha256: base64 of the SHA-256 of the zip. */
export function codeSha256(zip: Uint8Array): string {
  return createHash('sha256').update(zip).digest('base64')
}
