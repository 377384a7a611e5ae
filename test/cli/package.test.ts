/**
 * What `npm pack` ships, against an allow-list: the CLI entry, the compiled library with its types,
 * the Lambda bundle, the oclif manifest and the docs a user reads. No sources, tests, source maps or
 * the tsx-based bin/dev.js (it needs devDependencies an installed package does not have).
 */
import { execFileSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { assertBuilt, ROOT } from '../e2e/sync-helpers.js'

const ALLOWED = [
  /^bin\/run\.js$/,
  /^dist\/.+\.js$/,
  /^dist\/.+\.d\.ts$/,
  /^dist\/lambda\/index\.mjs$/,
  /^oclif\.manifest\.json$/,
  /^(README|CHANGELOG)\.md$/,
  /^LICENSE$/,
  /^package\.json$/,
]

describe('the published package', () => {
  it('holds only allowed files, among them the library entry, its types and the Lambda bundle', () => {
    assertBuilt()
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    const [pack] = JSON.parse(out) as { files: { path: string }[]; unpackedSize: number }[]
    const files = (pack?.files ?? []).map((f) => f.path)
    expect(files.filter((path) => !ALLOWED.some((re) => re.test(path)))).toEqual([])
    for (const needed of [
      'bin/run.js',
      'dist/index.js',
      'dist/index.d.ts',
      'dist/lambda/index.mjs',
      'oclif.manifest.json',
    ])
      expect(files).toContain(needed)
    expect(
      files.some((path) => path.endsWith('.map') || path.startsWith('src/') || path.includes('dev.js')),
    ).toBe(false)
  })
})
