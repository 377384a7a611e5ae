/** The tags garmin-s3 puts on what it makes, and who a resource belongs to by its tags. */
import type { Ownership } from './plan.js'

export const MANAGED_BY_TAG = { Key: 'managed-by', Value: 'garmin-s3' } as const
const DEPLOYMENT_TAG_KEY = 'garmin-s3:deployment'
/**
 * Who made a token parameter: `login` on one deploy took over rather than created (`login --token-store
 * ssm:...` made it), which destroy leaves in place; `deploy` (or `init-github-actions`) on one it
 * created, which destroy may delete. Versions before this tag left it out (see tokenParameter).
 */
export const CREATED_BY_TAG_KEY = 'garmin-s3:created-by'
export const CREATED_BY_LOGIN_TAG = { Key: CREATED_BY_TAG_KEY, Value: 'login' } as const

/** The tags garmin-s3 puts on what it makes for the deployment `name`. */
export function ourTags(name: string): { Key: string; Value: string }[] {
  return [MANAGED_BY_TAG, { Key: DEPLOYMENT_TAG_KEY, Value: name }]
}

/** The same tags as Lambda takes them (a map). */
export function ourTagMap(name: string): Record<string, string> {
  return Object.fromEntries(ourTags(name).map((t) => [t.Key, t.Value]))
}

export function tagRecord(tags: { Key?: string | undefined; Value?: string | undefined }[] | undefined) {
  return Object.fromEntries((tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']))
}

/** Ours for `name`, ours from before the name tag, or someone else's (see Ownership). */
export function ownershipOf(tags: Record<string, string | undefined>, name: string): Ownership {
  if (tags[MANAGED_BY_TAG.Key] !== MANAGED_BY_TAG.Value) return 'foreign'
  const deployment = tags[DEPLOYMENT_TAG_KEY]
  if (deployment === undefined) return 'ours-untagged'
  return deployment === name ? 'ours' : 'foreign'
}
