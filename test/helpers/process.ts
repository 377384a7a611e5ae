/** Child processes for the end-to-end tests: run one to its end and keep what it printed. */
import { type ChildProcess, spawn } from 'node:child_process'

export interface ProcessResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
}

export interface ProcessOptions {
  env: NodeJS.ProcessEnv
  cwd?: string
  /** Gets the child as soon as it is spawned (to kill it). */
  onSpawn?: (child: ChildProcess) => void
  /**
   * Runs it in its own process group and kills that group once the process exits, so that whatever
   * it left running in the background (and holding its output open) goes with it.
   */
  killGroupOnExit?: boolean
}

/** Runs `command` with stdin closed (no TTY anywhere, as on a CI runner) and collects stdout and stderr. */
export function runProcess(command: string, args: string[], options: ProcessOptions): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      detached: options.killGroupOnExit === true,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
    })
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString()
    })
    if (options.killGroupOnExit) {
      child.on('exit', () => {
        try {
          process.kill(-child.pid!, 'SIGKILL')
        } catch {
          // Already gone.
        }
      })
    }
    child.on('error', reject)
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }))
    options.onSpawn?.(child)
  })
}
