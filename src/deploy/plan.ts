/**
 * The plan/apply engine, in one place: every resource reads its current state and compares it with
 * the desired one; the engine turns that into create / update / delete / unchanged, and only then,
 * behind a single gate, acts. `--dry-run` and `destroy` are the same engine with `apply: false` or
 * with every resource wanted absent.
 */
import { explainAwsError, isNotFound } from '../aws/errors.js'
import { GarminS3Error } from '../errors.js'

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
}

/** A resource whose state has been read: its decided action and the one function that carries it out. */
interface Step {
  change: Change
  run(): Promise<void>
}

/** Erases `Current` by closing over it, so resources of different shapes fit in one list. */
export type AnyResource = () => Promise<Step>

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
    if (!r.wanted) return { change: { ...base, action: 'delete', fields: [] }, run: () => r.remove(present) }
    const diff = r.diff(present)
    const change: Change = {
      ...base,
      action: diff.fields.length > 0 ? 'update' : 'unchanged',
      fields: diff.fields,
      ...(diff.note ? { note: diff.note } : {}),
    }
    return { change, run: diff.fields.length > 0 ? () => r.update(present, diff.fields) : noop }
  }
}

const noop = async () => {}

export interface ReconcileOptions {
  /** False for --dry-run: read everything, change nothing. */
  apply: boolean
  /** Called once per resource when its action is done (or decided, on a dry run). */
  onChange?: (change: Change) => void
  /** What to do when applying stops halfway, e.g. "Rerun deploy to complete it, or destroy removes it." */
  recovery?: string
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
