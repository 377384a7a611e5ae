/**
 * Files written whole and private folders. Replacing a file whole: the bytes go to a temporary file
 * beside it (created exclusively) that is then renamed over it, so a reader sees the old file or the
 * new one, never half of either. The temporary file is removed when anything fails; the errors are the
 * file system's, for the caller to explain.
 */
import { randomBytes } from 'node:crypto'
import { constants } from 'node:fs'
import { chmod, type FileHandle, mkdir, open, rename, unlink, writeFile } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** Creates a file that must not exist yet (O_CREAT | O_EXCL); what tests replace to act as a read-only folder. */
export type OpenNewFile = (path: string, mode: number) => Promise<FileHandle>

export const openNewFile: OpenNewFile = (path, mode) =>
  open(path, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, mode)

/** Creates `dir` (and what is missing above it) private to its owner: mkdir's mode is filtered by the umask. */
export async function makePrivateFolder(dir: string): Promise<void> {
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700)
}

/** Proves a folder takes a new file before anything depends on it: `path` is created in it and removed. */
export async function probeNewFile(path: string, openFile: OpenNewFile = openNewFile): Promise<void> {
  await (await openFile(path, 0o600)).close()
  await unlink(path).catch(() => undefined)
}

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
