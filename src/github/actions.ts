/**
 * The third-party actions our workflows use, pinned to full commit SHAs: a tag can be moved by whoever
 * controls the action's repository, a commit cannot. Each pin is the commit its release tag pointed at
 * (`git rev-parse <tag>^{commit}` in the action's repository); bump them together, deliberately.
 * All of these run on the node24 runtime (the node20 majors, e.g. configure-aws-credentials v4/v5,
 * are being retired from GitHub's runners).
 */

export interface PinnedAction {
  /** owner/name */
  repo: string
  /** 40-hex commit SHA */
  sha: string
  /** The release tag the SHA belongs to, written as a comment beside it. */
  version: string
}

export const CONFIGURE_AWS_CREDENTIALS: PinnedAction = {
  repo: 'aws-actions/configure-aws-credentials',
  sha: 'e6de054238d6b7531b4efff3b6587d9aade6a06c',
  version: 'v6.2.3',
}

export const SETUP_NODE: PinnedAction = {
  repo: 'actions/setup-node',
  sha: '820762786026740c76f36085b0efc47a31fe5020',
  version: 'v7.0.0',
}

export const SETUP_PYTHON: PinnedAction = {
  repo: 'actions/setup-python',
  sha: '5fda3b95a4ea91299a34e894583c3862153e4b97',
  version: 'v7.0.0',
}

export const CHECKOUT: PinnedAction = {
  repo: 'actions/checkout',
  sha: '3d3c42e5aac5ba805825da76410c181273ba90b1',
  version: 'v7.0.1',
}

/** `owner/name@sha # vX.Y.Z`, the value of a step's `uses:`. */
export function uses(action: PinnedAction): string {
  return `${action.repo}@${action.sha} # ${action.version}`
}
