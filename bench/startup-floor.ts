/**
 * The floor of a no-op `sync --out <folder>` without a CLI framework, for `npm run bench:startup`
 * (docs/performance.md "Why 2x node -e 0 is out of reach on Node 20"): the modules the `sync` command
 * runs (tokens, the Garmin client, the folder store, the pipeline, the summary lines), called with the
 * command's defaults and no flag parser, oclif or error handling. Not a way to run garmin-s3: a
 * measurement of what is left when oclif's start is taken away. Bundled by bench/startup.ts.
 *
 *   node startup-floor.js <folder>
 */
import { summaryLines } from '../src/cli/progress.js'
import { systemClock } from '../src/clock.js'
import { GarminClient } from '../src/garmin/client.js'
import { resolveEndpoints } from '../src/garmin/endpoints.js'
import { openTokenStore } from '../src/garmin/tokens.js'
import { DEFAULT_PREFIX, openStore } from '../src/store/target.js'
import { DEFAULT_CONCURRENCY, parseDatasets, runSyncWithDatasets } from '../src/sync/index.js'

const out = process.argv[2]
if (!out) throw new Error('usage: startup-floor.js <folder>')
const store = await openStore({ out }, (message) => console.error(`warning: ${message}`))
const garmin = new GarminClient({
  tokenStore: openTokenStore(undefined),
  endpoints: resolveEndpoints({ env: process.env }),
  clock: systemClock,
})
const report = await runSyncWithDatasets(
  {
    prefix: DEFAULT_PREFIX,
    concurrency: DEFAULT_CONCURRENCY,
    datasets: parseDatasets(process.env.DATASETS),
    trackChanges: true,
    runner: 'cli',
    toolVersion: 'bench',
  },
  { garmin, store, clock: systemClock },
)
for (const line of summaryLines(report, { defaultLocation: false })) console.log(line)
process.exitCode = report.exitCode
