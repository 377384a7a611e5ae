/**
 * Which region an AWS call goes to: `--region`, else the SDK's own chain (AWS_REGION, the profile).
 * A missing region is the same usage error (exit 2) wherever it is found.
 */
import { isNoRegion, noRegionError } from './errors.js'

/** The region a client was built with, or the usage error that says how to give one. */
export async function clientRegion(client: { config: { region: () => Promise<string> } }): Promise<string> {
  let region: string | undefined
  try {
    region = await client.config.region()
  } catch (error) {
    if (isNoRegion(error)) throw noRegionError(error, { flag: true })
    throw error
  }
  if (!region?.trim()) throw noRegionError(undefined, { flag: true })
  return region
}

/** `--region`, else AWS_REGION / AWS_DEFAULT_REGION: for callers that need a region without a client. */
export function regionFromEnv(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  const region = flag || env.AWS_REGION || env.AWS_DEFAULT_REGION
  return region?.trim() ? region : undefined
}
