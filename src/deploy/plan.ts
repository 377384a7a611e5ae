/**
 * The plan/apply engine, in one place: every resource reads its current state and compares it with
 * the desired one; the engine turns that into create / update / delete / unchanged, and only then,
 * behind a single gate, acts. `--dry-run` and `destroy` are the same engine with `apply: false` or
 * with every resource wanted absent.
 */
import { explainAwsError, isNotFound } from '../aws/errors.js'
import { GarminS3Error, UsageError } from '../errors.js'

export type Action = 'create' | 'update' | 'delete' | 'unchanged'

export interface Change {
  /** Resource type, e.g. `iam-role`, `lambda-function`, `scheduler-schedule`. */
  resource: string
  name: string
  action: Action
  /** What differs (field names, never values), for `update`. */
  fields: string[]
  /** A remark worth showing, e.g. why something is kept as it is. */
  note?: string
  /** Policies on it that garmin-s3 did not write and that this change detaches (--adopt, destroy). */
  detaches?: string[]
  /** Not wanted, yet left in place (destroy): garmin-s3 did not create it, or something else uses it; `note` says why. */
  kept?: true
}

/**
 * Who made a resource, from its tags (see ownershipOf): `ours` carries managed-by=garmin-s3 and this
 * deployment's name; `ours-untagged` carries managed-by only (made before the name tag existed) and
 * gets the name tag; `foreign` is anything else and is neither changed nor deleted without --adopt.
 */
export type Ownership = 'ours' | 'ours-untagged' | 'foreign'

/** How a top-level resource tells who made it and how it is made ours. */
interface Owned<Current> {
  owner(current: Current): Ownership
  /** Writes our tags; when adopting, also takes off the foreign policies `foreignPolicies` lists. */
  claim(current: Current, adopting: boolean): Promise<void>
  /** Policies on it that are not ours (role policies), for the plan and for --adopt. */
  foreignPolicies?(current: Current): string[]
  /**
   * Why it must stay although the deployment no longer wants it (garmin-s3 did not create it, or
   * something outside the deployment still uses it); undefined: it may go. Never overridden by --adopt.
   */
  keep?(current: Current): string | undefined
}

export interface Difference {
  fields: string[]
  note?: string
}

/** A `Difference` naming the fields whose flag is true. */
export function differences(entries: [string, boolean][], note?: string): Difference {
  return { fields: entries.filter(([, differs]) => differs).map(([name]) => name), ...(note ? { note } : {}) }
}

/** Reads that answer "absent" for a missing resource (or a missing parent) instead of throwing. */
export async function orAbsent<T>(read: () => Promise<T | undefined>): Promise<T | undefined> {
  try {
    return await read()
  } catch (error) {
    if (isNotFound(error)) return undefined
    throw error
  }
}

/** One AWS resource of a deployment. `Current` is what `read` learned; never holds secrets for display. */
export interface Resource<Current> {
  resource: string
  name: string
  /** Whether the deployment wants this resource to exist. */
  wanted: boolean
  /** Undefined when it does not exist (including when what it hangs on does not exist). */
  read(): Promise<Current | undefined>
  /** What differs from the desired state; no fields means unchanged. Called only when wanted and present. */
  diff(current: Current): Difference
  create(): Promise<void>
  update(current: Current, fields: string[]): Promise<void>
  remove(current: Current): Promise<void>
  /** Set on resources that carry tags of their own; the others belong to the resource they hang on. */
  owned?: Owned<Current>
}

/** A resource whose state has been read: its decided action and the one function that carries it out. */
interface Step {
  change: Change
  /** Set when the resource exists but garmin-s3 did not make it for this deployment. */
  foreign?: boolean
  run(): Promise<void>
}

/** Erases `Current` by closing over it, so resources of different shapes fit in one list. */
export type AnyResource = () => Promise<Step>

const ADOPTED = 'adopted (--adopt)'
const NAME_TAG_FIELD = 'deployment tag'

export function resource<Current>(r: Resource<Current>): AnyResource {
  return async () => {
    const base = { resource: r.resource, name: r.name }
    let current: Current | undefined
    try {
      current = await r.read()
    } catch (error) {
      throw explainAwsError(error, `read ${r.resource} ${r.name}`)
    }
    if (current === undefined) {
      if (!r.wanted)
        return { change: { ...base, action: 'unchanged', fields: [], note: 'absent' }, run: noop }
      return { change: { ...base, action: 'create', fields: [] }, run: () => r.create() }
    }
    const present = current
    const owner = r.owned?.owner(present) ?? 'ours'
    const foreign = owner === 'foreign'
    const extra = r.owned?.foreignPolicies?.(present) ?? []
    const detaches = extra.length > 0 ? { detaches: extra } : {}
    const keep = r.wanted ? undefined : r.owned?.keep?.(present)
    if (keep !== undefined) {
      return {
        change: { ...base, action: 'unchanged', fields: [], note: `kept: ${keep}`, kept: true },
        run: noop,
      }
    }
    if (!r.wanted) {
      // Deleting a role takes off every policy on it: the plan says which ones garmin-s3 did not write.
      return {
        change: { ...base, action: 'delete', fields: [], ...detaches },
        foreign,
        run: () => r.remove(present),
      }
    }
    const diff = r.diff(present)
    const claim = foreign ? [ADOPTED] : owner === 'ours-untagged' ? [NAME_TAG_FIELD] : []
    const fields = [...claim, ...diff.fields]
    const change: Change = {
      ...base,
      action: fields.length > 0 ? 'update' : 'unchanged',
      fields,
      ...(diff.note ? { note: diff.note } : {}),
      ...(foreign ? detaches : {}),
    }
    const run = async () => {
      if (claim.length > 0) await r.owned?.claim(present, foreign)
      if (diff.fields.length > 0) await r.update(present, diff.fields)
    }
    return { change, foreign, run: fields.length > 0 ? run : noop }
  }
}

/** Exit 2 before any write: resources with our names that garmin-s3 did not make for `name`. */
function refuseForeign(foreign: Change[], deployment: string): UsageError {
  const list = foreign
    .map((c) => `${c.resource} ${c.name}${c.detaches ? ` (policies: ${c.detaches.join(', ')})` : ''}`)
    .join('; ')
  return new UsageError(
    `These resources are not tagged managed-by=garmin-s3 for the deployment "${deployment}", so garmin-s3 will not change or delete them: ${list}`,
    {
      hint: 'Pick another --name, remove them yourself, or rerun with --adopt to take them over (their foreign policies are detached and listed).',
    },
  )
}

const noop = async () => {}

export interface ReconcileOptions {
  /** False for --dry-run: read everything, change nothing. */
  apply: boolean
  /** Called once per resource when its action is done (or decided, on a dry run). */
  onChange?: (change: Change) => void
  /** What to do when applying stops halfway, e.g. "Rerun deploy to complete it, or destroy removes it." */
  recovery?: string
  /** The deployment's name, for the refusal of resources it does not own. */
  deployment?: string
  /** Take over (or delete) same-named resources garmin-s3 did not make (`--adopt`). */
  adopt?: boolean
}

/**
 * A failure halfway through: the error that stopped it, plus which resources exist at that point
 * (made by this run or there before), so the user knows what is left and how to finish or undo it.
 */
function stoppedHalfway(failure: GarminS3Error, existing: Change[], recovery: string | undefined) {
  if (existing.length === 0 || !recovery) return failure
  const names = existing.map((c) => `${c.resource} ${c.name}`).join(', ')
  return new GarminS3Error(`${failure.message}. It stopped halfway; these exist now: ${names}`, {
    exitCode: failure.exitCode,
    hint: [failure.hint, recovery].filter(Boolean).join(' '),
    cause: failure,
  })
}

/**
 * Reads every resource in order, then (if applying) deletes what is no longer wanted in reverse
 * order (dependents first), then creates and updates in order (dependencies first).
 * Returns the changes in resource order.
 */
export async function reconcile(resources: AnyResource[], options: ReconcileOptions): Promise<Change[]> {
  const steps: Step[] = []
  for (const read of resources) steps.push(await read())
  const changes = steps.map((s) => s.change)
  const foreign = steps.filter((s) => s.foreign).map((s) => s.change)
  if (foreign.length > 0 && !options.adopt) throw refuseForeign(foreign, options.deployment ?? '')
  if (!options.apply) {
    for (const change of changes) options.onChange?.(change)
    return changes
  }
  const deletions = steps.filter((s) => s.change.action === 'delete').reverse()
  const others = steps.filter((s) => s.change.action !== 'delete')
  // What exists: everything present before that is not deleted yet, plus what this run created.
  const existing = new Set(changes.filter((c) => c.action !== 'create' && c.note !== 'absent'))
  for (const step of [...deletions, ...others]) {
    const { action, resource: kind, name } = step.change
    if (action !== 'unchanged') {
      try {
        await step.run()
      } catch (error) {
        const failure = explainAwsError(error, `${action} ${kind} ${name}`)
        throw stoppedHalfway(
          failure,
          changes.filter((c) => existing.has(c)),
          options.recovery,
        )
      }
    }
    if (action === 'delete') existing.delete(step.change)
    if (action === 'create') existing.add(step.change)
    options.onChange?.(step.change)
  }
  return changes
}
