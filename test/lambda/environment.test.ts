/** The function's environment contract: what deploy sets is exactly what the handler reads back. */
import { describe, expect, it } from 'vitest'
import { encodeEnvironment, type HandlerConfig, loadConfig } from '../../src/lambda/environment.js'

describe('the Lambda environment contract', () => {
  it('round-trips every field, and leaves unset ones to their defaults', () => {
    const full: HandlerConfig = {
      bucket: 'my-lake',
      prefix: 'lake/garmin/',
      tokenParameter: '/garmin-s3/tokens',
      daysBack: 14,
      bucketRegion: 'eu-west-1',
      garminDomain: 'garmin.cn',
      concurrency: 3,
      datasets: ['activities', 'fit', 'sleep'],
      reconcileDays: 14,
      trackChanges: false,
    }
    expect(loadConfig(encodeEnvironment(full))).toEqual(full)
    // RECONCILE_DAYS=0 turns the automatic reconciles off; a bad value is named (docs/changes.md).
    expect(loadConfig({ ...encodeEnvironment(full), RECONCILE_DAYS: '0' }).reconcileDays).toBe(0)
    expect(() => loadConfig({ ...encodeEnvironment(full), RECONCILE_DAYS: 'weekly' })).toThrow(
      /RECONCILE_DAYS/,
    )
    expect(() => loadConfig({ ...encodeEnvironment(full), TRACK_CHANGES: 'nope' })).toThrow(/TRACK_CHANGES/)
    const minimal: HandlerConfig = {
      bucket: 'b',
      prefix: 'raw-data/garmin-json/',
      tokenParameter: '/x/tokens',
    }
    expect(encodeEnvironment(minimal)).toEqual({
      BUCKET: 'b',
      PREFIX: 'raw-data/garmin-json/',
      TOKEN_PARAMETER: '/x/tokens',
    })
    expect(loadConfig(encodeEnvironment(minimal))).toEqual(minimal)
  })

  it('names every bad variable at once, with the redeploy hint', () => {
    expect(() => loadConfig({ DAYS_BACK: '-1', TOKEN_PARAMETER: 'garmin' })).toThrow(
      /missing environment variable BUCKET; DAYS_BACK must be a positive whole number.*TOKEN_PARAMETER must be an SSM parameter name/,
    )
  })
})
