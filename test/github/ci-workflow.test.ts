/**
 * The workflows as @action-validator/cli sees them (the CLI itself, run as a user would): the
 * project's own .github/workflows/ci.yml, and a generated sync workflow. ci.yml runs .ci/run on push
 * and pull request with Node 20 and Python 3.11, every action pinned to a commit.
 */
import { spawnSync } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { CHECKOUT, SETUP_NODE, SETUP_PYTHON } from '../../src/github/actions.js'
import { renderSyncWorkflow } from '../../src/github/workflow.js'
import { readWorkflow, SAMPLE_WORKFLOW_INPUT } from './helpers.js'

const ROOT = join(import.meta.dirname, '../..')
const CI = join(ROOT, '.github/workflows/ci.yml')

function actionValidator(file: string): { status: number | null; output: string } {
  const cli = join(ROOT, 'node_modules/@action-validator/cli/cli.mjs')
  const result = spawnSync(process.execPath, [cli, file], { encoding: 'utf8' })
  return { status: result.status, output: `${result.stdout}${result.stderr}` }
}

describe('workflows checked by @action-validator/cli', () => {
  it('.github/workflows/ci.yml validates', () => {
    const result = actionValidator(CI)
    expect(result.output).toBe('')
    expect(result.status).toBe(0)
  })

  it('ci.yml runs .ci/run on push and pull request, Node 20 + Python 3.11, actions pinned to SHAs', async () => {
    const text = await readFile(CI, 'utf8')
    const workflow = readWorkflow(text)
    expect(Object.keys(workflow.on).sort()).toEqual(['pull_request', 'push'])
    const job = workflow.jobs.test
    expect(job?.['runs-on']).toBe('ubuntu-latest')
    const steps = job?.steps ?? []
    expect(steps.map((s) => s.uses?.split('@')[0] ?? s.run)).toEqual([
      'actions/checkout',
      'actions/setup-node',
      'actions/setup-python',
      'bash .ci/run',
    ])
    for (const step of steps.filter((s) => s.uses)) expect(step.uses).toMatch(/^[\w-]+\/[\w-]+@[0-9a-f]{40}$/)
    for (const action of [CHECKOUT, SETUP_NODE, SETUP_PYTHON]) {
      expect(text).toContain(`uses: ${action.repo}@${action.sha} # ${action.version}`)
    }
    expect(steps[1]?.with).toMatchObject({ 'node-version': 20 })
    expect(steps[2]?.with).toEqual({ 'python-version': '3.11' })
  })

  it('a generated sync workflow (UTC schedule) validates with the CLI too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-gha-cli-'))
    try {
      const file = join(dir, 'garmin-s3-sync.yml')
      await writeFile(file, renderSyncWorkflow(SAMPLE_WORKFLOW_INPUT))
      const result = actionValidator(file)
      expect(result.output).toBe('')
      expect(result.status).toBe(0)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
