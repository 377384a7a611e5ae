import { availableParallelism } from 'node:os'
import { relative } from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/** Files known to take long, for a run without timings cached (a fresh clone, CI): they start first. */
const SLOW_FILES = [
  /\/e2e\//,
  /conformance/,
  /\.moto\./,
  /datasets\/sync-/,
  /reliability\//,
  /resume/,
  /bundle/,
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
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Generous: with more workers than cores, a file shares the CPU with several others.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Vitest's default is one worker per core less one: a single worker on 2 cores. Most files spend
    // much of their time waiting on child processes (the CLI, moto_server, SeaweedFS), so one more
    // worker than cores keeps the cores busy.
    maxWorkers: availableParallelism() + 1,
    sequence: { sequencer: SlowFirstSequencer },
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    // CI's log names every test, so it shows e.g. the S3 smoke suite running on moto AND SeaweedFS.
    reporters: process.env.CI ? ['verbose'] : ['default'],
  },
})
