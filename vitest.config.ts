import { availableParallelism } from 'node:os'
import { relative } from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * The `unit` project: files that need no server (no moto_server, no SeaweedFS, no built `dist/`) and
 * finish in seconds — a contributor's inner loop (`npm run test:unit`). Everything else, including
 * any new test file not listed here, runs in the `integration` project, which starts the servers.
 * A file listed here that calls `inject('motoEndpoint')` fails at once: the unit project provides none.
 */
export const UNIT_FILES = [
  'test/cli/empty-prefix.test.ts',
  'test/curate/extract.test.ts',
  'test/datasets/catalogue.test.ts',
  'test/datasets/command.test.ts',
  'test/datasets/corrupt-cursors.test.ts',
  'test/datasets/faults.test.ts',
  'test/datasets/full-and-dry-run.test.ts',
  'test/deploy/deploy.unit.test.ts',
  'test/deploy/pieces.test.ts',
  'test/garmin/client.test.ts',
  'test/garmin/node-transport.test.ts',
  'test/garmin/units.test.ts',
  'test/github/init.command.test.ts',
  'test/github/role.unit.test.ts',
  'test/github/validate.test.ts',
  'test/github/workflow.test.ts',
  'test/github/workflow-steps.test.ts',
  'test/lambda/handler.test.ts',
  'test/lambda/metrics.test.ts',
  'test/login.test.ts',
  'test/sim/*.test.ts',
  'test/status/catalog.test.ts',
  'test/status/command.test.ts',
  'test/status/dataset-failures.test.ts',
  'test/status/health.test.ts',
  'test/status/render.test.ts',
  'test/status/schedule.test.ts',
  'test/store/dir.test.ts',
  'test/store/open.test.ts',
  'test/sync/*.test.ts',
  'test/unit/**/*.test.ts',
]

/** Files known to take long, for a run without timings cached (a fresh clone, CI): they start first. */
const SLOW_FILES = [
  /\/e2e\//,
  /conformance/,
  /\.moto\./,
  /datasets\/sync-/,
  /reliability\//,
  /resume/,
  /bundle/,
  /curate\/(kills|duckdb|incremental)/,
]

/**
 * Longest files first, so that no long file starts last and runs alone at the end. Vitest already does
 * this from the timings it caches; without them it would start the largest files first.
 */
class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const known = (file: TestSpecification) =>
      this.ctx.cache.getFileTestResults(
        `${file.project.name}:${relative(this.ctx.config.root, file.moduleId)}`,
      )
    if (sorted.every(known)) return sorted
    const slow = (file: TestSpecification) => SLOW_FILES.some((pattern) => pattern.test(file.moduleId))
    return [...sorted.filter(slow), ...sorted.filter((file) => !slow(file))]
  }
}

export default defineConfig({
  test: {
    // Generous: with more workers than cores, a file shares the CPU with several others. A timeout is
    // a safety net for a hung test, never a verdict on speed.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Vitest's default is one worker per core less one: a single worker on 2 cores. Most files spend
    // much of their time waiting on child processes (the CLI, moto_server, SeaweedFS), so one more
    // worker than cores keeps the cores busy.
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: SlowFirstSequencer },
    // No update check from a test's CLI run, whatever its terminal (test/cli/conventions.test.ts tests
    // the check itself, with a registry on loopback).
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      GARMIN_S3_SKIP_NEW_VERSION_CHECK: 'true',
    },
    // CI's log names every test, so it shows e.g. the S3 smoke suite running on moto AND SeaweedFS.
    reporters: process.env.CI ? ['verbose'] : ['default'],
    projects: [
      { extends: true, test: { name: 'unit', include: UNIT_FILES } },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/**/*.test.ts'],
          exclude: UNIT_FILES,
          // One moto_server and one SeaweedFS for the project; only integration files pay for them.
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
})
