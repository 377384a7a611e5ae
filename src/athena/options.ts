/** What the commands check before the Glue client loads: the database name and its default. */
import { UsageError } from '../errors.js'

export const DEFAULT_DATABASE = 'garmin'

/** Lower-case letters, digits and underscores: what Athena accepts unquoted. */
export function validateDatabaseName(name: string): string {
  if (!/^[a-z][a-z0-9_]{0,254}$/.test(name))
    throw new UsageError(`invalid database name ${JSON.stringify(name)}`, {
      hint: 'Use lower-case letters, digits and underscores, starting with a letter (e.g. --database garmin).',
    })
  return name
}
