/** What the commands check before the Parquet writer loads: the curated prefix and its default. */
import { UsageError } from '../errors.js'
import { insideRawData } from '../sync/datasets.js'

export const DEFAULT_CURATED_PREFIX = 'processed-data/garmin/'

/**
 * The curated prefix, checked against the raw one: never empty (the tables need their own folder) and
 * never inside the raw layer, whose prefixes hold Garmin's answers only.
 */
export function validateCuratedPrefix(curatedPrefix: string, rawPrefix: string): string {
  if (curatedPrefix === '' || insideRawData(curatedPrefix, rawPrefix))
    throw new UsageError(
      `the curated prefix "${curatedPrefix}" must be a folder of its own, outside the raw data`,
      {
        hint: `Use a prefix such as ${DEFAULT_CURATED_PREFIX} (the default).`,
      },
    )
  return curatedPrefix
}
