/**
 * Time is injected (ARCHITECTURE.md, "Time"): only src/clock.ts reads the wall clock. A `Date.now()`
 * or an argument-less `new Date()` anywhere else in src/ would make that code wait on, or depend on,
 * real time in tests. This test reads the source with the TypeScript parser, so comments and strings
 * that mention them do not count.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'

const SRC = join(import.meta.dirname, '../../src')
const CLOCK = 'clock.ts'

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

/** `file:line  text` for every read of the wall clock in `text`. */
function wallClockReads(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true)
  const found: string[] = []
  const isDate = (node: ts.Node) => ts.isIdentifier(node) && node.text === 'Date'
  const visit = (node: ts.Node): void => {
    const nowCall =
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      isDate(node.expression.expression) &&
      node.expression.name.text === 'now'
    const bareNew = ts.isNewExpression(node) && isDate(node.expression) && (node.arguments ?? []).length === 0
    const bareCall = ts.isCallExpression(node) && isDate(node.expression)
    if (nowCall || bareNew || bareCall) {
      const { line } = source.getLineAndCharacterOfPosition(node.getStart(source))
      found.push(`${fileName}:${line + 1}  ${node.getText(source)}`)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return found
}

describe('the wall clock', () => {
  it('is read only in src/clock.ts', () => {
    const reads = sourceFiles(SRC)
      .map((path) => relative(SRC, path))
      .filter((path) => path !== CLOCK)
      .flatMap((path) => wallClockReads(`src/${path}`, readFileSync(join(SRC, path), 'utf8')))
    expect(reads, 'inject a Clock (src/clock.ts) instead').toEqual([])
  })

  it('is recognised in each form, and not in comments, strings or dated constructions', () => {
    const text = [
      'const a = Date.now()',
      'const b = new Date()',
      'const c = new Date',
      'const d = Date()',
      '// Date.now() in a comment',
      "const e = 'new Date()'",
      'const f = new Date(0)',
      'const g = Date.parse("2026-01-01")',
    ].join('\n')
    expect(wallClockReads('x.ts', text)).toEqual([
      'x.ts:1  Date.now()',
      'x.ts:2  new Date()',
      'x.ts:3  new Date',
      'x.ts:4  Date()',
    ])
  })
})
