// Runs a bundled handler the way the Lambda runtime does: import the module, call `handler(event,
// context)` once with a fixture context. Usage: node invoke-bundle.mjs <bundle.mjs> <result.json> [budgetMs]
// The handler's own log lines go to stdout; the outcome goes to <result.json>.
import { writeFileSync } from 'node:fs'
import { pathToFileURL } from 'node:url'

const [bundle, resultPath, budget = '120000'] = process.argv.slice(2)
const started = Date.now()
const context = {
  awsRequestId: `test-${process.pid}`,
  functionName: 'garmin-s3',
  functionVersion: '$LATEST',
  memoryLimitInMB: '256',
  getRemainingTimeInMillis: () => Number(budget) - (Date.now() - started),
}
try {
  const { handler } = await import(pathToFileURL(bundle).href)
  const result = await handler({}, context)
  writeFileSync(resultPath, JSON.stringify({ ok: true, node: process.version, result }))
} catch (error) {
  writeFileSync(
    resultPath,
    JSON.stringify({
      ok: false,
      node: process.version,
      error: { name: error?.name, message: error?.message },
    }),
  )
  process.exitCode = 1
}
