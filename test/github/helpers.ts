/**
 * Shared by the GitHub Actions tests: the workflow validator (@action-validator/core, the engine of
 * @action-validator/cli, in process), a YAML reader, and a bash run of a workflow's `run:` script
 * with a stand-in `npx` that prints the arguments it was given.
 */
import { spawnSync } from 'node:child_process'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateWorkflow } from '@action-validator/core'
import { parse, parseDocument } from 'yaml'
import type { SyncWorkflowInput } from '../../src/github/workflow.js'

/** A workflow for the defaults: daily 06:00 UTC into my-data-lake, with an existing role. */
export const SAMPLE_WORKFLOW_INPUT: SyncWorkflowInput = {
  packageVersion: '0.1.0',
  name: 'garmin-s3',
  bucket: 'my-data-lake',
  prefix: 'raw-data/garmin-json/',
  region: 'us-east-1',
  roleArn: 'arn:aws:iam::123456789012:role/garmin-s3-github',
  tokenParameter: '/garmin-s3/tokens',
  cron: '0 6 * * *',
}

export interface Step {
  id?: string
  name?: string
  if?: string
  env?: Record<string, string>
  uses?: string
  with?: Record<string, unknown>
  run?: string
}

export interface Workflow {
  name: string
  on: Record<string, unknown> & { schedule?: { cron: string; timezone?: string }[] }
  concurrency?: { group: string; 'cancel-in-progress': boolean }
  permissions?: Record<string, string>
  jobs: Record<string, { 'runs-on': string; 'timeout-minutes'?: number; steps: Step[] }>
}

export function readWorkflow(text: string): Workflow {
  return parse(text) as Workflow
}

/** The validator's complaints, as flat "path: detail" lines (empty when the workflow is valid). */
export function validatorErrors(text: string): string[] {
  const out: string[] = []
  const walk = (errors: unknown[]) => {
    for (const e of errors as {
      path?: string
      detail?: string
      title: string
      states?: { errors: unknown[] }[]
    }[]) {
      if (e.states) for (const state of e.states) walk(state.errors)
      else out.push(`${e.path ?? ''}: ${e.detail ?? e.title}`)
    }
  }
  walk(validateWorkflow(text).errors)
  return out
}

/** The same workflow without the schedule `timezone` keys (which action-validator 0.6's schema predates). */
export function withoutTimezone(text: string): string {
  const doc = parseDocument(text)
  const schedule = doc.getIn(['on', 'schedule']) as { items: { delete(key: string): boolean }[] } | undefined
  for (const item of schedule?.items ?? []) item.delete('timezone')
  return doc.toString()
}

/**
 * Validates a workflow as GitHub would accept it. action-validator 0.6 rejects the schedule
 * `timezone` key (GitHub added it after the schema was written): that exact complaint is allowed and
 * everything else must validate once it is removed.
 */
export function expectValidWorkflow(text: string): { timezoneRejected: boolean } {
  const errors = validatorErrors(text)
  if (errors.length === 0) return { timezoneRejected: false }
  const onlyTimezone = errors.some((e) => e.includes("Additional property 'timezone' is not allowed"))
  const rest = validatorErrors(withoutTimezone(text))
  if (!onlyTimezone || rest.length > 0) {
    throw new Error(`the workflow does not validate:\n${(rest.length > 0 ? rest : errors).join('\n')}`)
  }
  return { timezoneRejected: true }
}

/**
 * Runs a `run:` script the way a GitHub runner does (`bash -e`), with `npx` replaced by a script that
 * prints its arguments as JSON: what the workflow would pass, after the shell's quoting.
 */
export async function npxArguments(script: string): Promise<string[]> {
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-npx-'))
  try {
    const npx = join(dir, 'npx')
    await writeFile(
      npx,
      `#!/bin/sh\nexec "${process.execPath}" -e 'console.log(JSON.stringify(process.argv.slice(1)))' -- "$@"\n`,
    )
    await chmod(npx, 0o755)
    const result = spawnSync('bash', ['-e', '-c', script], {
      env: { PATH: `${dir}:${process.env.PATH}`, RUNNER_TEMP: '/runner/temp' },
      encoding: 'utf8',
    })
    if (result.status !== 0) throw new Error(`bash failed (${result.status}): ${result.stderr}`)
    return JSON.parse(result.stdout) as string[]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

/** The step that runs `garmin-s3 sync` (id `sync`). */
export function syncStep(workflow: Workflow): Step | undefined {
  return workflow.jobs.sync?.steps.find((s) => s.id === 'sync')
}
