/**
 * The README is for people and stays short; the reference lives in docs/*.md. It opens with Install,
 * the quick start and the try-it block, with a table of contents (Troubleshooting in it) at the top
 * (issue 14: it was 68 KB, try-it at line 209, troubleshooting at 94%). Every relative link in them
 * must lead somewhere: to a file that exists and, with a #fragment, to a heading in it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '../..')
const README = join(ROOT, 'README.md')
const DOCS = join(ROOT, 'docs')
const PAGES = [
  README,
  ...readdirSync(DOCS)
    .filter((name) => name.endsWith('.md'))
    .map((name) => join(DOCS, name)),
]

/** The lines of a Markdown file outside fenced code blocks (where `#` is a comment, not a heading). */
function proseLines(text: string): string[] {
  let fence: string | null = null
  const out: string[] = []
  for (const line of text.split('\n')) {
    const marker = /^\s*(```|~~~)/.exec(line)?.[1]
    if (marker) {
      if (fence === null) fence = marker
      else if (fence === marker) fence = null
      continue
    }
    if (fence === null) out.push(line)
  }
  return out
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces to hyphens, -1 -2 for repeats. */
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const line of proseLines(text)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1]
    if (heading === undefined) continue
    const plain = heading.replace(/\[([^\]]*)\]\([^)]*\)/g, '$1').replace(/[`*]/g, '')
    const slug = plain
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\p{M}_\- ]/gu, '')
      .replace(/ /g, '-')
    const count = seen.get(slug) ?? 0
    seen.set(slug, count + 1)
    out.add(count === 0 ? slug : `${slug}-${count}`)
  }
  return out
}

/** Relative link targets of a Markdown file, outside code: `[text](target)` without a scheme. */
function relativeLinks(text: string): string[] {
  const links: string[] = []
  for (const line of proseLines(text)) {
    const prose = line.replace(/`[^`]*`/g, '``')
    for (const m of prose.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1]!
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push(target)
    }
  }
  return links
}

describe('README.md and docs/', () => {
  it('the README stays under 25 KB: the reference belongs in docs/', () => {
    expect(statSync(README).size).toBeLessThan(25_000)
  })

  it('every relative link in README.md and docs/*.md leads to a file, and every #anchor to a heading', () => {
    const broken: string[] = []
    for (const page of PAGES) {
      const text = readFileSync(page, 'utf8')
      for (const link of relativeLinks(text)) {
        const [path = '', fragment] = link.split('#', 2)
        const target = path === '' ? page : join(dirname(page), decodeURI(path))
        const where = `${relative(ROOT, page)}: ${link}`
        if (!existsSync(target)) {
          broken.push(`${where} (no such file)`)
          continue
        }
        if (fragment === undefined || !target.endsWith('.md')) continue
        if (!anchors(readFileSync(target, 'utf8')).has(decodeURIComponent(fragment))) {
          broken.push(`${where} (no such heading in ${relative(ROOT, target)})`)
        }
      }
    }
    expect(broken).toEqual([])
  })

  it('opens with Install (npm, npx, a clone with npm link, a tarball), then the quick start and try-it, then the commands', () => {
    const text = readFileSync(README, 'utf8')
    const sections = proseLines(text)
      .filter((line) => line.startsWith('## '))
      .map((line) => line.slice(3))
    expect(sections.slice(0, 3)).toEqual(['Install', 'Quick start (60 seconds)', 'Commands'])
    const install = text.slice(text.indexOf('## Install'), text.indexOf('## Quick start'))
    // Works before publication too: from a clone, and from a packed tarball.
    for (const route of [
      'npm install -g garmin-s3',
      'npx garmin-s3',
      'npm ci && npm run build && npm link',
      'npm pack',
      'npm i -g ./garmin-s3-',
    ])
      expect(install, route).toContain(route)
    // "Try it without an account" within the first 100 lines (it was at line 209 of 68 KB).
    const lines = text.split('\n')
    for (const marker of ['### Try it without an account', '<!-- try-it -->']) {
      expect(lines, marker).toContain(marker)
      expect(lines.indexOf(marker), marker).toBeLessThan(100)
    }
    // The two set-up commands: the tests and the main job.
    expect(text).toContain('bash .ci/run')
  })

  it('has a table of contents near the top, with Troubleshooting one click away', () => {
    const head = readFileSync(README, 'utf8').split('\n').slice(0, 25).join('\n')
    expect(head).toMatch(/\*\*Contents:\*\*/)
    expect(head).toMatch(/\[Troubleshooting\]\(docs\/troubleshooting\.md\)/)
    for (const target of [
      '#install',
      '#quick-start-60-seconds',
      '#try-it-without-an-account',
      '#commands',
      'docs/json.md',
    ])
      expect(head, target).toContain(`](${target})`)
  })

  it('leaves the reference to docs/: no README section over 5 KB, the status --json schema in docs/json.md', () => {
    const text = readFileSync(README, 'utf8')
    const sections = text.split(/\n(?=## )/)
    const long = sections.filter((s) => s.length > 5 * 1024).map((s) => s.split('\n')[0])
    expect(long).toEqual([])
    expect(text).not.toContain('"schemaVersion"')
    const json = readFileSync(join(DOCS, 'json.md'), 'utf8')
    expect(json).toContain('## `status --json` (schema version 1)')
    expect(json).toContain('"schemaVersion": 1')
  })

  it('turns headings into the anchors GitHub makes', () => {
    const text = [
      '# garmin-s3',
      '## Syncing: `garmin-s3 sync`',
      '## `status --json` (schema version 1)',
      '## Removing it',
      '## Removing it',
      '```sh',
      '# a comment, not a heading',
      '```',
    ].join('\n')
    expect([...anchors(text)]).toEqual([
      'garmin-s3',
      'syncing-garmin-s3-sync',
      'status---json-schema-version-1',
      'removing-it',
      'removing-it-1',
    ])
  })
})
