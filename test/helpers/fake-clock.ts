import type { Clock } from '../../src/clock.js'

/**
 * A clock for tests: `sleep` advances virtual time at once instead of waiting, and records
 * every sleep so tests can assert on back-off.
 */
export class FakeClock implements Clock {
  readonly sleeps: number[] = []
  constructor(private current = Date.UTC(2026, 10, 28, 12, 0, 0)) {}
  now(): number {
    return this.current
  }
  advance(ms: number): void {
    this.current += ms
  }
  async sleep(ms: number): Promise<void> {
    this.sleeps.push(ms)
    this.current += ms
  }
}
