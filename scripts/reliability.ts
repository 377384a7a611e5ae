/**
 * `npm run reliability`: runs test/reliability in its long mode (GARMIN_S3_RELIABILITY_LONG=1: all
 * fault-matrix cells, 42 SIGKILLs in six scenarios and 30 into one folder, three rounds of concurrent runs), collects what the tests tried
 * (test/reliability/figures.ts) and writes the table into docs/reliability.md (the README links to it). `--short` runs the CI
 * sizes instead. Exits with vitest's code: a failing guarantee is never written down as held.
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const long = !process.argv.includes('--short')
const dir = mkdtempSync(join(tmpdir(), 'garmin-s3-reliability-'))
const figuresFile = join(dir, 'figures.jsonl')
const resultsFile = join(dir, 'results.json')
const started = Date.now()
const run = spawnSync(
  'npx',
  [
    'vitest',
    'run',
    'test/reliability',
    '--reporter=default',
    '--reporter=json',
    `--outputFile.json=${resultsFile}`,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      GARMIN_S3_RELIABILITY_FIGURES: figuresFile,
      ...(long ? { GARMIN_S3_RELIABILITY_LONG: '1' } : {}),
    },
  },
)
const seconds = Math.round((Date.now() - started) / 1000)

const figures = new Map<string, number>()
for (const line of readFileSync(figuresFile, 'utf8').split('\n').filter(Boolean)) {
  const { name, count } = JSON.parse(line) as { name: string; count: number }
  figures.set(name, (figures.get(name) ?? 0) + count)
}
interface FileResult {
  name: string
  assertionResults: Array<{ status: string }>
}
const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as {
  numPassedTests: number
  numFailedTests: number
  testResults: FileResult[]
}
rmSync(dir, { recursive: true, force: true })

const f = (name: string) => figures.get(name) ?? 0
const perFile = (file: string) => {
  const r = results.testResults.find((t) => t.name.endsWith(file))
  const all = r?.assertionResults.length ?? 0
  const passed = r?.assertionResults.filter((a) => a.status === 'passed').length ?? 0
  return passed === all && all > 0 ? `held (${passed}/${all} tests)` : `**failed** (${passed}/${all} tests)`
}
const rows = [
  [
    'Fault matrix: sync phases (token refresh, listing, reading state, writing objects, saving state, writing the manifest) x Garmin faults (429 with/without Retry-After, 500/502/503, reset, slow past the timeout, HTML challenge, malformed/truncated JSON, revoked token) and S3 faults through a fault proxy (503 SlowDown, 500, reset, 403 AccessDenied, slow PUT)',
    `${f('faults')} fault cells`,
    'exit code and message as documented; no partial object; state never ahead of the store; a clean rerun completes the set',
    perFile('fault-matrix.test.ts'),
  ],
  [
    'SIGKILL of the CLI at seeded moments in backfill, incremental and `--data fit,sleep` runs, into a folder and S3',
    `${f('kills')} kills (${f('kills mid-write')} after objects were written)`,
    'nothing partial, state never ahead; each rerun restores exactly the expected set, nothing twice',
    perFile('crashes.test.ts'),
  ],
  [
    '4 simultaneous CLI syncs on one bucket and on one folder',
    `${f('concurrent runs')} concurrent runs`,
    'each activity stored once with its content; state whole, counts and coverage consistent',
    perFile('concurrency.test.ts'),
  ],
  [
    'Bad flags and environment (property-based: bucket names, prefixes, dates, numbers, datasets, conflicting flags; some through the CLI process)',
    `${f('inputs')} inputs`,
    'a clear message, exit 1 or 2, never a stack trace; no path outside the store',
    perFile('bad-input.test.ts'),
  ],
  [
    'Garmin answers of random shape (JSON of any shape, bad `activityId`/dates, huge strings, deep nesting)',
    `${f('garmin answers')} answers`,
    'rejected with a clear message, or entries skipped; nothing written from a rejected answer',
    perFile('bad-input.test.ts'),
  ],
  [
    'Secrets across login, sync (S3 and folder, token refresh mid-run), status, deploy --dry-run, a failing sync; IAM policies of deploy and init',
    `${f('secrets checked')} secrets x ${f('outputs scanned')} outputs/objects; ${f('IAM statements checked')} IAM statements`,
    'no password or token printed, logged or stored; token file 0600 in a 0700 folder; no `*` action or resource',
    perFile('secrets.test.ts'),
  ],
  [
    'Redirects on every step that carries a secret (login, MFA, ticket exchange, refresh, data call) x 301/302/307/308 x fetch and impit x same host, another loopback address, a host outside Garmin (attacker.invalid)',
    `${f('redirect cells')} redirect cells`,
    'nothing reaches another host (a capturing server counts); a same-host redirect is followed as a bare GET without body, Authorization or Cookie; the others fail naming the host, before any connection',
    perFile('redirects.test.ts'),
  ],
  [
    "One token chain: `deploy`, a local `sync` (CLI process, through the pointer to SSM on moto), the function's run, a local `sync` again, against a simulator that rotates the refresh token on every refresh and refuses the old one; and `--keep-local`",
    `${f('token-chain runs')} runs, ${f('token-chain refreshes')} rotations`,
    'every run exits 0, no refresh refused (a copy instead of a move fails the second run with exit 3); `--keep-local` without a login of its own changes nothing, exit 2',
    perFile('token-chain.test.ts'),
  ],
  [
    'Poison list entries: 5 of 60 that cannot be stored (a `../../x` id, 10,000 levels of nesting, an entry over 1 MiB, an unreadable start time, a fractional id), synced by the CLI into a folder, again twice, then with one fixed',
    `${f('quarantined entries')} entries x ${f('quarantine runs')} runs; ${f('quarantine extra calls')} list-level calls above the ${f('quarantine clean calls')} of the same account without poison`,
    'the others stored, the 5 reported with their reasons in the report, manifest and state, exit 5 while they remain; later runs report the same 5 with no call about them and are never dearer than the first; a fixed one is stored and leaves the quarantine',
    perFile('quarantine.test.ts'),
  ],
  [
    'SIGKILLs of the CLI into one folder, one after another with no clean run between, each at a seeded moment of observed progress (a Garmin call answered, or the N-th activity file appearing), then one clean run',
    `${f('folder kills')} kills (${f('folder kills after writes')} after files were written; ${f('folder kill leftovers')} temporary files left by them)`,
    'nothing partial between kills; after the clean run nothing temporary anywhere under `--out` (`_garmin-s3/tmp` empty, no dot file, no `*.tmp`), every file whole JSON and an object the store lists, the set complete',
    perFile('kills-folder.test.ts'),
  ],
]
const table = [
  '| What was tried | How much | What must hold | Result |',
  '| --- | --- | --- | --- |',
  ...rows.map((r) => `| ${r.join(' | ')} |`),
].join('\n')
const doc = `# Reliability

What \`garmin-s3 sync\` was put through, and what held. Generated by \`npm run reliability\`
(${long ? 'long mode' : 'CI sizes'}: ${results.numPassedTests} tests passed, ${results.numFailedTests} failed, ${seconds} s,
${new Date().toISOString().slice(0, 10)}). CI runs the same suite (\`test/reliability/\`) at smaller, seeded sizes.

${table}

Notes
- S3 faults come from a proxy in front of moto (\`test/reliability/s3-fault-proxy.ts\`), so the AWS SDK's own
  retries are what is tested: a single 503/500/reset is retried away; five in a row on one key fail that key
  (exit 5, the next run resumes); AccessDenied is never retried (exit 1).
- Garmin: 429 and 5xx are retried with back-off on an injected clock, then end the run with exit 4; an HTML
  challenge or an unreadable answer stops at once (exit 4 / exit 1); a revoked session exits 3 and says to
  run \`garmin-s3 login\`.
- A refresh whose answer is lost (truncated) leaves Garmin with a rotated refresh token the client never
  received: the run exits 4 and the next one needs \`garmin-s3 login\`. This is Garmin's protocol, not a bug.
`
// docs/reliability.md holds the table between two markers; only that part is rewritten.
const docUrl = new URL('../docs/reliability.md', import.meta.url)
const current = readFileSync(docUrl, 'utf8')
const START = '<!-- reliability:start -->'
const END = '<!-- reliability:end -->'
const from = current.indexOf(START)
const to = current.indexOf(END)
if (from < 0 || to < from) throw new Error(`docs/reliability.md has no ${START} ... ${END} section`)
writeFileSync(docUrl, `${current.slice(0, from + START.length)}\n${doc}${current.slice(to)}`)
console.log(`\n${table}\n\nwrote docs/reliability.md`)
process.exit(run.status ?? 1)
