/**
 * `sync --report <file>`: the run report (what --json prints) in a file, e.g. for a CI summary. The
 * path is checked before the run, so a report that cannot be written stops a run before it touches
 * Garmin or the lake (exit 2), and the file is written whole (a temp file renamed over it), so a CI
 * step reading it never sees half a report.
 */
import { constants } from 'node:fs'
import { access, lstat, mkdir } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { GarminS3Error, UsageError } from '../errors.js'
import { replaceFile } from '../files.js'

const HINT = 'Give --report a file path in a folder you can write to, e.g. --report sync-report.json.'

function reason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code
  if (code === 'ENOTDIR' || code === 'EEXIST') return 'a file is in the way of its folder'
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied'
  if (code === 'EROFS') return 'the file system is read-only'
  return (error as Error).message
}

/** Resolves the path, creates its folder and checks it can be written; a UsageError if not. */
export async function prepareReportFile(path: string): Promise<string> {
  const file = resolve(path)
  const refuse = (why: string) => new UsageError(`cannot write the report to ${path}: ${why}`, { hint: HINT })
  const existing = await lstat(file).catch(() => undefined)
  if (existing?.isDirectory()) throw refuse('it is a folder')
  try {
    await mkdir(dirname(file), { recursive: true })
    await access(dirname(file), constants.W_OK)
  } catch (error) {
    throw refuse(reason(error))
  }
  return file
}

/** Writes `value` as indented JSON to `file` (from prepareReportFile), replacing it whole. */
export async function writeReportFile(file: string, value: unknown): Promise<void> {
  try {
    await replaceFile(file, `${JSON.stringify(value, null, 2)}\n`)
  } catch (error) {
    throw new GarminS3Error(
      `the run finished, but its report could not be written to ${file}: ${reason(error)}`,
      {
        hint: HINT,
        cause: error,
      },
    )
  }
}
