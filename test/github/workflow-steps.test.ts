/**
 * The generated workflow's Summary and failure-issue steps, run as a runner would run them (`bash -e`,
 * the step's `if:` decided from the sync step's outcome, its `env:` with the `${{ }}` values a runner
 * would substitute) against a stand-in `gh` that keeps the repository's issues in a file and records
 * every call. Days in a row: fail, fail, succeed, succeed — one issue opened, one comment, one close.
 */
import { spawnSync } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { renderSyncWorkflow } from '../../src/github/workflow.js'
import { readWorkflow, SAMPLE_WORKFLOW_INPUT, type Step } from './helpers.js'

/** A stand-in for the GitHub CLI: the subset the workflow uses, with GitHub's answers and errors. */
const FAKE_GH = `
const fs = require('fs')
const [stateFile, callsFile] = [process.env.FAKE_GH_STATE, process.env.FAKE_GH_CALLS]
const args = process.argv.slice(2)
const state = fs.existsSync(stateFile) ? JSON.parse(fs.readFileSync(stateFile, 'utf8')) : { issues: [], labels: [] }
fs.appendFileSync(callsFile, JSON.stringify(args) + '\\n')
const opt = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args[i + 1] }
const fail = (message) => { process.stderr.write(message + '\\n'); process.exit(1) }
if (!process.env.GH_TOKEN) fail('gh: To use GitHub CLI in a GitHub Actions workflow, set the GH_TOKEN environment variable.')
const body = () => { const f = opt('--body-file'); if (!f) fail('gh: --body-file required'); return fs.readFileSync(f, 'utf8') }
const issue = (n) => state.issues.find((i) => i.number === Number(n)) ?? fail('GraphQL: Could not resolve to an issue with the number of ' + n + '.')
const [group, verb] = args
if (group === 'issue' && verb === 'list') {
  const label = opt('--label'), wanted = opt('--state') ?? 'open', limit = Number(opt('--limit') ?? 30)
  const found = state.issues.filter((i) => i.labels.includes(label) && (wanted === 'all' || i.state === wanted)).slice(0, limit)
  if (opt('--json') !== 'number' || opt('--jq') !== '.[0].number') fail('unexpected list output ' + args.join(' '))
  if (found.length > 0) process.stdout.write(found[0].number + '\\n')
} else if (group === 'issue' && verb === 'create') {
  const label = opt('--label')
  if (!state.labels.includes(label)) fail("could not add label: '" + label + "' not found")
  const number = state.issues.length + 1
  state.issues.push({ number, title: opt('--title'), labels: [label], state: 'open', body: body(), comments: [] })
  process.stdout.write('https://github.com/octocat/garmin-data/issues/' + number + '\\n')
} else if (group === 'issue' && verb === 'comment') {
  issue(args[2]).comments.push(body())
} else if (group === 'issue' && verb === 'close') {
  const i = issue(args[2])
  if (opt('--comment')) i.comments.push(opt('--comment'))
  i.state = 'closed'
} else if (group === 'label' && verb === 'create') {
  if (!state.labels.includes(args[2])) state.labels.push(args[2])
} else fail('unknown command ' + args.join(' '))
fs.writeFileSync(stateFile, JSON.stringify(state))
`

interface Issue {
  number: number
  title: string
  labels: string[]
  state: 'open' | 'closed'
  body: string
  comments: string[]
}

const RUN_URL = 'https://github.com/octocat/garmin-data/actions/runs/'

describe('the workflow after the sync step, with a stand-in gh', () => {
  let dir: string
  let steps: Step[]
  let day = 0

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'garmin-s3-gh-'))
    await writeFile(join(dir, 'gh.cjs'), FAKE_GH)
    await writeFile(join(dir, 'gh'), `#!/bin/sh\nexec "${process.execPath}" "${join(dir, 'gh.cjs')}" "$@"\n`)
    await chmod(join(dir, 'gh'), 0o755)
    steps = readWorkflow(renderSyncWorkflow(SAMPLE_WORKFLOW_INPUT)).jobs.sync?.steps ?? []
    day = 0
  })
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  /** The `${{ }}` values a runner substitutes into the steps' `env:`; an unknown expression fails the test. */
  function expression(value: string, syncOk: boolean): string {
    const values: Record<string, string> = {
      "steps.sync.outcome == 'success' && '0' || '1'": syncOk ? '0' : '1',
      'runner.temp': dir,
      'github.token': 'ghs_fake-installation-token',
      'github.server_url': 'https://github.com',
      'github.repository': 'octocat/garmin-data',
      'github.run_id': String(day),
    }
    return value.replace(/\$\{\{ (.+?) \}\}/g, (_, name: string) => {
      const known = values[name]
      if (known === undefined) throw new Error(`no runner value for the expression ${name}`)
      return known
    })
  }

  /**
   * One scheduled day after the sync step: its report (or none), then every later step whose `if:`
   * holds, as a runner decides it (`always()`, `failure()`, `success()` on the job so far).
   */
  async function runDay(report: Record<string, unknown> | undefined): Promise<string> {
    day += 1
    const syncOk = report?.exitCode === 0
    await rm(join(dir, 'garmin-s3-report.json'), { force: true })
    if (report) await writeFile(join(dir, 'garmin-s3-report.json'), JSON.stringify(report))
    const summaryFile = join(dir, `step-summary-${day}.md`)
    const after = steps.slice(steps.findIndex((s) => s.id === 'sync') + 1)
    let jobOk = syncOk
    for (const step of after) {
      const condition = step.if ?? 'success()'
      const runs = condition === 'always()' || (condition === 'failure()' ? !jobOk : jobOk)
      if (!runs) continue
      expect(condition, `step "${step.name}" has an if: this runner does not know`).toMatch(
        /^(always|failure|success)\(\)$/,
      )
      const env: NodeJS.ProcessEnv = {
        PATH: `${dir}:${process.env.PATH}`,
        HOME: dir,
        GITHUB_STEP_SUMMARY: summaryFile,
        FAKE_GH_STATE: join(dir, 'gh-state.json'),
        FAKE_GH_CALLS: join(dir, 'gh-calls.jsonl'),
      }
      for (const [k, v] of Object.entries(step.env ?? {})) env[k] = expression(v, syncOk)
      const result = spawnSync('bash', ['-e', '-c', step.run ?? ''], { env, encoding: 'utf8' })
      expect(result.status, `step "${step.name}": ${result.stderr}`).toBe(0)
      if (result.status !== 0) jobOk = false
    }
    return readFile(summaryFile, 'utf8')
  }

  async function issues(): Promise<Issue[]> {
    try {
      return (JSON.parse(await readFile(join(dir, 'gh-state.json'), 'utf8')) as { issues: Issue[] }).issues
    } catch {
      return []
    }
  }
  async function calls(): Promise<string[][]> {
    try {
      const text = await readFile(join(dir, 'gh-calls.jsonl'), 'utf8')
      return text
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as string[])
    } catch {
      return []
    }
  }
  const verbs = async () => (await calls()).map((c) => c.slice(0, 2).join(' '))

  const revoked = {
    exitCode: 3,
    created: 0,
    failed: 0,
    errors: [{ message: 'Garmin refused the refresh token', hint: 'run `garmin-s3 login` again' }],
  }

  it('opens one issue on the first failure, comments on the next, closes it on a success, then stays quiet', async () => {
    const first = await runDay(revoked)
    expect(first).toContain('FAIL')
    expect(first).toContain('**Next step:** run `garmin-s3 login` again')
    expect(first).toContain(`Run: ${RUN_URL}1`)
    expect(await issues()).toEqual([
      expect.objectContaining({
        number: 1,
        state: 'open',
        labels: ['garmin-s3'],
        title: 'garmin-s3 sync is failing',
      }),
    ])
    expect((await issues())[0]?.body).toBe(first)
    expect(await verbs()).toEqual(['issue list', 'label create', 'issue create'])

    // Day 2: the sync step dies before writing a report (e.g. npx could not install the package).
    const second = await runDay(undefined)
    expect(second).toContain('FAIL')
    expect(second).toContain('**Next step:** read the log of this run')
    const [open] = await issues()
    expect(await issues()).toHaveLength(1)
    expect(open?.comments).toEqual([second])
    expect((await verbs()).slice(3)).toEqual(['issue list', 'issue comment'])

    const third = await runDay({ exitCode: 0, created: 4, failed: 0, errors: [] })
    expect(third).toContain('| health | OK |')
    expect(third).toContain('| created | 4 |')
    const [closed] = await issues()
    expect(closed?.state).toBe('closed')
    expect(closed?.comments.at(-1)).toBe(`The sync succeeded again: ${RUN_URL}3`)
    expect((await verbs()).slice(5)).toEqual(['issue list', 'issue close'])

    await runDay({ exitCode: 0, created: 0, failed: 0, errors: [] })
    expect((await verbs()).slice(7)).toEqual(['issue list'])
    expect(await issues()).toHaveLength(1)

    // A new failure after the close opens a new issue rather than reopening the old thread.
    await runDay(revoked)
    expect((await issues()).map((i) => [i.number, i.state])).toEqual([
      [1, 'closed'],
      [2, 'open'],
    ])
  })

  it('never puts the GitHub token into the summary or an issue', async () => {
    await runDay(revoked)
    await runDay(revoked)
    const everything = JSON.stringify(await issues()) + JSON.stringify(await calls())
    expect(everything).not.toContain('ghs_fake-installation-token')
  })

  it('a partial run (exit 5) is a warning in the summary; its step failed, so the issue records it', async () => {
    const summary = await runDay({ exitCode: 5, created: 10, failed: 2, errors: [] })
    expect(summary).toContain('WARN (partial: the next run resumes)')
    expect(summary).toContain('**Next step:** nothing to do')
    expect((await issues()).map((i) => i.state)).toEqual(['open'])
  })

  it('with --no-issue there is no gh call at all, whatever happens', async () => {
    steps =
      readWorkflow(renderSyncWorkflow({ ...SAMPLE_WORKFLOW_INPUT, noIssue: true })).jobs.sync?.steps ?? []
    const summary = await runDay(revoked)
    expect(summary).toContain('FAIL')
    await runDay({ exitCode: 0, created: 1, failed: 0, errors: [] })
    expect(await calls()).toEqual([])
  })
})
