/** The recorded Garmin responses the simulator copies its shapes from (see fixtures/README.md). */
import { readFileSync } from 'node:fs'

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json }
export type JsonObject = { [key: string]: Json }

function load(name: string): Json {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as Json
}

function object(value: Json | undefined, what: string): JsonObject {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value === undefined) {
    throw new Error(`fixture ${what} is not an object`)
  }
  return value
}

function array(value: Json | undefined, what: string): Json[] {
  if (!Array.isArray(value)) throw new Error(`fixture ${what} is not an array`)
  return value
}

/** Wellness fixtures wrap the body as `{request, body}`. */
function body(name: string): Json {
  return object(load(name), name).body ?? null
}

export const fixtures = {
  listEntry: object(array(load('pest_activitylist-service.json'), 'list')[0], 'list[0]'),
  activity: object(load('pest_activity_2541953812.json'), 'activity'),
  emojiActivity: object(load('pest_activity_emoji.json'), 'emoji activity'),
  multisportParent: object(load('pest_activity_multisport_detail.json'), 'multisport parent'),
  multisportChild: object(load('pest_activity_multisport_child.json'), 'multisport child'),
  dailySummary: object(body('daily-summary_2025-06-14.json'), 'daily summary'),
  sleep: object(body('sleep_2025-07-07.json'), 'sleep'),
  heartRate: object(body('heart-rate_2026-01-07.json'), 'heart rate'),
  hrv: object(body('hrv_2023-07-20.json'), 'hrv'),
  trainingReadiness: array(body('training-readiness_2025-07-07.json'), 'training readiness'),
  weightRange: object(body('weight-range_2025-06-01_2025-06-15.json'), 'weight range'),
  bodyBatteryEvents: array(body('body-battery-events_2023-07-20.json'), 'body battery events'),
}

/** A deep copy that is cheap for the small nested values of a template. */
export function clone<T extends Json>(value: T): T {
  return structuredClone(value)
}
