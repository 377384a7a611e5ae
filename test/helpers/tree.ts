import { readdir } from 'node:fs/promises'
import { join, relative } from 'node:path'

/** Every file and folder below `root` (folders end in `/`), sorted: what a user sees in it. */
export async function folderTree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true })
  return entries
    .map((entry) => {
      const path = relative(root, join(entry.parentPath, entry.name))
      return entry.isDirectory() ? `${path}/` : path
    })
    .sort()
}
