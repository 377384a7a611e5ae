/**
 * SIGKILL at a seeded moment, decided by what the run was seen to do, never by elapsed time: the
 * moment is the N-th event of the run (a Garmin call the simulator answered, an object PUT the S3
 * proxy saw, a new file in a folder). Shared by crashes.test.ts and kills-folder.test.ts.
 */
import type { ChildProcess } from 'node:child_process'

export interface KillSwitch {
  /** One event of the run observed; the `moment`-th kills the child. No-op once armed off. */
  event(): void
}

/**
 * Arms a kill of `child` at its `moment`-th event (1-based). `observed`, when given, is polled for the
 * number of events seen so far on disk (e.g. new files in a folder): the switch catches up with it, so
 * a file written between two polls still counts. Disarmed when the child exits.
 */
export function killSwitch(
  child: ChildProcess,
  moment: number,
  observed?: () => Promise<number>,
): KillSwitch {
  let seen = 0
  let armed = true
  const event = () => {
    if (!armed) return
    if (++seen >= moment) {
      armed = false
      child.kill('SIGKILL')
    }
  }
  const poll = observed
    ? setInterval(async () => {
        const count = await observed()
        while (armed && seen < count) event()
      }, 2)
    : undefined
  child.on('exit', () => {
    armed = false
    clearInterval(poll)
  })
  return { event }
}
