/**
 * Replacing a file whole: the bytes go to a temporary file beside it (created exclusively) that is then
 * renamed over it, so a reader sees the old file or the new one, never half of either. The temporary
 * file is removed when anything fails; the error is the file system's, for the caller to explain.
 */
import { randomBytes } from 'node:crypto'
import { rename, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

export async function replaceFile(path: string, content: string, mode = 0o644): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  try {
    await writeFile(temp, content, { encoding: 'utf8', flag: 'wx', mode })
    await rename(temp, path)
  } catch (error) {
    await unlink(temp).catch(() => undefined)
    throw error
  }
}
