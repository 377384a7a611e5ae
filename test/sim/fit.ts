/**
 * The "original file" of an activity: a real FIT activity file (written with Garmin's own FIT SDK) inside a
 * ZIP, as `/download-service/files/activity/{id}` returns it. Same id -> same bytes, every time.
 */
import { crc32, deflateRawSync } from 'node:zlib'
import { Encoder, type FieldValue, type Mesg, Profile } from '@garmin/fitsdk'
import type { ActivityEntry } from '../../src/garmin/types.js'
import { sportFor } from './generator.js'
import { track } from './shapes.js'

const FIT_EPOCH_S = 631_065_600 // 1989-12-31T00:00:00Z
/**
 * Record messages per file, at most one every 30 s. The SDK's encoder costs about 0.1 ms per message, so the
 * default keeps a download near 3 ms; benchmarks that want realistic sizes can ask for more.
 */
export const DEFAULT_FIT_RECORDS = 30

function mesgNum(name: string): number {
  const n = Profile.MesgNum[name]
  if (n === undefined) throw new Error(`FIT profile has no message ${name}`)
  return n
}
const FILE_ID = mesgNum('FILE_ID')
const EVENT = mesgNum('EVENT')
const RECORD = mesgNum('RECORD')
const LAP = mesgNum('LAP')
const SESSION = mesgNum('SESSION')
const ACTIVITY = mesgNum('ACTIVITY')

function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined
}

function semicircles(degrees: number): number {
  return Math.round((degrees * 2 ** 31) / 180)
}

export function encodeFit(entry: ActivityEntry, seed: number, maxRecords = DEFAULT_FIT_RECORDS): Uint8Array {
  const s = sportFor((entry.activityType as { typeKey?: unknown } | undefined)?.typeKey)
  const duration = num(entry.duration) ?? 1800
  const points = track(entry, seed, Math.min(Math.max(2, maxRecords), Math.max(2, Math.floor(duration / 30))))
  const start = new Date(points[0]!.ms)
  const end = new Date(points[points.length - 1]!.ms)
  const local =
    typeof entry.startTimeLocal === 'string'
      ? Date.parse(`${entry.startTimeLocal.replace(' ', 'T')}Z`)
      : Number.NaN
  const offsetS = Number.isNaN(local) ? 0 : Math.round((local - points[0]!.ms) / 1000)
  const distance = num(entry.distance) ?? 0
  const device = num(entry.deviceId)

  const encoder = new Encoder()
  // The SDK accepts enum names ('activity', 'running'), which its typings (numbers only) do not express.
  const write = (mesg: number, fields: Record<string, FieldValue | undefined>) =>
    encoder.onMesg(mesg, fields as Mesg)
  write(FILE_ID, {
    type: 'activity',
    manufacturer: device === undefined ? 'development' : 'garmin',
    product: 2697,
    serialNumber: device ?? 1,
    timeCreated: start,
  })
  write(EVENT, { timestamp: start, event: 'timer', eventType: 'start' })
  for (const p of points) {
    write(RECORD, {
      timestamp: new Date(p.ms),
      distance: p.distance,
      enhancedSpeed: p.speed,
      ...(p.heartRate === undefined ? {} : { heartRate: p.heartRate }),
      ...(p.elevation === undefined ? {} : { enhancedAltitude: p.elevation }),
      ...(p.lat === undefined || p.lon === undefined
        ? {}
        : { positionLat: semicircles(p.lat), positionLong: semicircles(p.lon) }),
    })
  }
  write(EVENT, { timestamp: end, event: 'timer', eventType: 'stopAll' })
  const totals = {
    timestamp: end,
    startTime: start,
    totalElapsedTime: duration,
    totalTimerTime: num(entry.movingDuration) ?? duration,
    totalDistance: distance,
    sport: s.fitSport,
    subSport: s.fitSubSport,
    ...(num(entry.calories) === undefined ? {} : { totalCalories: num(entry.calories) }),
    ...(num(entry.averageHR) === undefined
      ? {}
      : { avgHeartRate: num(entry.averageHR), maxHeartRate: num(entry.maxHR) }),
  }
  write(LAP, { messageIndex: 0, event: 'lap', eventType: 'stop', ...totals })
  write(SESSION, {
    messageIndex: 0,
    event: 'session',
    eventType: 'stop',
    firstLapIndex: 0,
    numLaps: 1,
    ...totals,
  })
  write(ACTIVITY, {
    timestamp: end,
    totalTimerTime: duration,
    numSessions: 1,
    type: 'manual',
    event: 'activity',
    eventType: 'stop',
    localTimestamp: Math.round(end.getTime() / 1000) - FIT_EPOCH_S + offsetS,
  })
  return encoder.close()
}

/** MS-DOS date and time of a ZIP entry (local time of the activity, as the device would have it). */
function dosDateTime(ms: number): { date: number; time: number } {
  const d = new Date(ms)
  const year = Math.max(1980, d.getUTCFullYear())
  return {
    date: ((year - 1980) << 9) | ((d.getUTCMonth() + 1) << 5) | d.getUTCDate(),
    time: (d.getUTCHours() << 11) | (d.getUTCMinutes() << 5) | Math.floor(d.getUTCSeconds() / 2),
  }
}

/**
 * A one-file ZIP written by hand (deflate + zlib's CRC-32) so the bytes depend only on the input:
 * archive libraries stamp the current time.
 */
export function zipOne(name: string, data: Uint8Array, modifiedMs: number): Buffer {
  const fileName = Buffer.from(name, 'utf8')
  const compressed = deflateRawSync(data, { level: 6 })
  const crc = crc32(data)
  const { date, time } = dosDateTime(modifiedMs)

  const local = Buffer.alloc(30)
  local.writeUInt32LE(0x04034b50, 0)
  local.writeUInt16LE(20, 4) // version needed: 2.0 (deflate)
  local.writeUInt16LE(0x0800, 6) // flags: UTF-8 name
  local.writeUInt16LE(8, 8) // method: deflate
  local.writeUInt16LE(time, 10)
  local.writeUInt16LE(date, 12)
  local.writeUInt32LE(crc, 14)
  local.writeUInt32LE(compressed.length, 18)
  local.writeUInt32LE(data.length, 22)
  local.writeUInt16LE(fileName.length, 26)
  local.writeUInt16LE(0, 28)

  const central = Buffer.alloc(46)
  central.writeUInt32LE(0x02014b50, 0)
  central.writeUInt16LE(20, 4) // version made by
  central.writeUInt16LE(20, 6)
  central.writeUInt16LE(0x0800, 8)
  central.writeUInt16LE(8, 10)
  central.writeUInt16LE(time, 12)
  central.writeUInt16LE(date, 14)
  central.writeUInt32LE(crc, 16)
  central.writeUInt32LE(compressed.length, 20)
  central.writeUInt32LE(data.length, 24)
  central.writeUInt16LE(fileName.length, 28)
  // extra length, comment length, disk number, internal attributes, external attributes: 0
  central.writeUInt32LE(0, 42) // offset of the local header

  const centralOffset = local.length + fileName.length + compressed.length
  const centralSize = central.length + fileName.length
  const end = Buffer.alloc(22)
  end.writeUInt32LE(0x06054b50, 0)
  end.writeUInt16LE(1, 8) // entries on this disk
  end.writeUInt16LE(1, 10) // entries in total
  end.writeUInt32LE(centralSize, 12)
  end.writeUInt32LE(centralOffset, 16)

  return Buffer.concat([local, fileName, compressed, central, fileName, end])
}

/** The ZIP Garmin serves for an activity: `<id>_ACTIVITY.fit` inside. */
export function originalZip(entry: ActivityEntry, seed: number, maxRecords = DEFAULT_FIT_RECORDS): Buffer {
  const localMs =
    typeof entry.startTimeLocal === 'string'
      ? Date.parse(`${entry.startTimeLocal.replace(' ', 'T')}Z`)
      : Number.NaN
  const modified = Number.isNaN(localMs) ? Date.parse(`${entry.startTimeGMT.replace(' ', 'T')}Z`) : localMs
  return zipOne(`${entry.activityId}_ACTIVITY.fit`, encodeFit(entry, seed, maxRecords), modified)
}
