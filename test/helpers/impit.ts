/**
 * impit (the optional browser-like TLS transport) for the tests that need it. A clone where impit
 * cannot load (a platform without its prebuilt binary, or `npm ci --omit=optional`) runs the suite
 * with GARMIN_S3_TEST_WITHOUT_IMPIT=1: those tests then check the fetch fallback instead. Without that
 * variable a missing impit fails the run, so the impit tests are never skipped by accident.
 */
import type { Transport } from '../../src/garmin/http.js'
import { loadImpit } from '../../src/garmin/transport.js'

const loadError: unknown = await loadImpit().then(
  () => undefined,
  (error: unknown) => error,
)

export const withoutImpit = process.env.GARMIN_S3_TEST_WITHOUT_IMPIT === '1'

if (loadError !== undefined && !withoutImpit) {
  throw new Error(
    `impit does not load here (${String(loadError)}); run \`npm ci\` with optional dependencies, or set GARMIN_S3_TEST_WITHOUT_IMPIT=1 to test the fallback.`,
  )
}
if (loadError === undefined && withoutImpit) {
  throw new Error(
    'GARMIN_S3_TEST_WITHOUT_IMPIT=1 is set, but impit loads here: remove it from node_modules first.',
  )
}

/** True where impit loads (then every impit test runs). */
export const impitLoads = loadError === undefined

/** impit's fetch; only call it in a test that runs when `impitLoads`. */
export async function impitTransport(): Promise<Transport> {
  return loadImpit()
}
