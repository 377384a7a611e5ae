/**
 * `npm ci` refuses a lockfile that lacks any optional dependency of a locked package. impit lists one
 * prebuilt binary per platform; the registry mirror this project is built with serves only the Linux
 * x64 ones, so `npm install` writes only those and the next `npm ci` fails. The others are kept in the
 * lockfile by hand (docs/dependencies.md): this test catches an `npm install` that dropped them.
 */
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'

interface LockEntry {
  version?: string
  optionalDependencies?: Record<string, string>
  dependencies?: Record<string, string>
}

describe('package-lock.json', () => {
  it('holds every optional dependency of every locked package, so npm ci accepts it', async () => {
    const lock = JSON.parse(await readFile('package-lock.json', 'utf8')) as {
      packages: Record<string, LockEntry>
    }
    const missing: string[] = []
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (!path.startsWith('node_modules/') || path.includes('/node_modules/', 1)) continue
      for (const name of Object.keys(entry.optionalDependencies ?? {})) {
        if (!lock.packages[`node_modules/${name}`] && !lock.packages[`${path}/node_modules/${name}`]) {
          missing.push(`${name} (optional for ${path.slice('node_modules/'.length)})`)
        }
      }
    }
    expect(missing).toEqual([])
    expect(lock.packages['node_modules/impit']?.version).toBe('0.14.5')
  })
})
