/**
 * Poison entries (issue 19 §5, "Quarantine"): the built CLI against the simulator over HTTP, into a
 * folder. Five list entries Garmin sends in a form that cannot be stored are quarantined with their
 * reasons while the others are stored (exit 5); the next runs report the same five without a request
 * of their own (the same Garmin calls as an account of the same activities without poison); a fixed
 * entry is stored and leaves the quarantine. Moved here from test/e2e so `npm run reliability` reports it.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import type { SyncReport } from '../../src/sync/index.js'
import { e2eHome, folderActivities, runCli, syncJson } from '../e2e/sync-helpers.js'
import { recordFigure } from './figures.js'

const home = e2eHome('quarantine')
const ACTIVITIES = 60

describe('a list with 5 poison entries', () => {
  it('stores the others, reports the 5 every run with no request about them, and lets a fixed one in', async () => {
    const { sim, env } = await home.account('poison', { activities: ACTIVITIES, seed: 19 })
    const out = join(home.path(), 'out')
    const all = sim.listAll()
    const [hostileId, deep, huge, badTime, fractionalId] = [3, 15, 30, 45, 59].map((i) => all[i]!)
    const text = (e: object) => JSON.stringify(e)
    sim.replaceListEntry(hostileId!.activityId, text({ ...hostileId, activityId: '../../x' }))
    const nested = `${'['.repeat(10_000)}${']'.repeat(10_000)}`
    sim.replaceListEntry(deep!.activityId, `${text(deep!).slice(0, -1)},"deep":${nested}}`)
    sim.replaceListEntry(huge!.activityId, text({ ...huge, blob: 'x'.repeat(1_100_000) }))
    sim.replaceListEntry(badTime!.activityId, text({ ...badTime, startTimeGMT: 'yesterday' }))
    sim.replaceListEntry(fractionalId!.activityId, text({ ...fractionalId, activityId: 12.5 }))

    const reasons = {
      '"../../x"': /activityId is not a positive whole number/,
      [String(deep!.activityId)]: /nested deeper than 64 levels/,
      [String(huge!.activityId)]: /more than 1048576 \(1 MiB\)/,
      [String(badTime!.activityId)]: /startTimeGMT is not a time/,
      '12.5': /activityId is not a positive whole number/,
    }
    const expectQuarantine = (report: SyncReport) => {
      expect(report).toMatchObject({ exitCode: 5, partial: true, invalid: 5, failed: 0, errors: [] })
      expect(Object.fromEntries(report.quarantined.map((q) => [q.id, q.reason]))).toEqual(
        Object.fromEntries(Object.entries(reasons).map(([id, re]) => [id, expect.stringMatching(re)])),
      )
    }

    sim.resetStats()
    const first = await syncJson(['--out', out], env)
    const firstCost = sim.stats()
    expect(first.result.code, first.result.stderr).toBe(5)
    expect(first.report.created).toBe(ACTIVITIES - 5)
    expectQuarantine(first.report)
    expect((await folderActivities(out)).size).toBe(ACTIVITIES - 5)
    const manifest = JSON.parse(await readFile(join(out, first.report.manifestKey), 'utf8'))
    expect(manifest.counts.invalid).toBe(5)
    expect(manifest.quarantined).toEqual(first.report.quarantined)
    const state = JSON.parse(await readFile(join(out, 'raw-data', '_garmin-s3', 'state.json'), 'utf8'))
    expect(state.datasets['raw-data/garmin-json/'].quarantine).toHaveLength(5)

    // The yardstick for "no extra requests": the same account without poison, synced twice.
    const control = await home.account('control', { activities: ACTIVITIES, seed: 19 })
    const controlOut = join(home.path(), 'control')
    expect((await syncJson(['--out', controlOut], control.env)).result.code).toBe(0)
    control.sim.resetStats()
    const controlAgain = await syncJson(['--out', controlOut], control.env)
    expect(controlAgain.result.code, controlAgain.result.stderr).toBe(0)
    const cleanCost = control.sim.stats()
    let extraCalls = 0

    // Run 2 and run 3: the same five, the same fingerprints, the same requests.
    const requests: Array<{ garmin: unknown; store: unknown; sim: unknown }> = []
    for (let run = 0; run < 2; run++) {
      sim.resetStats()
      const again = await syncJson(['--out', out], env)
      expect(again.result.code, again.result.stderr).toBe(5)
      expect(again.report).toMatchObject({ created: 0 })
      expectQuarantine(again.report)
      expect(again.report.quarantined).toEqual(first.report.quarantined)
      // List-level calls only (the pages, and the count a not-yet-complete history asks for once): no
      // request is about a quarantined entry.
      expect(Object.keys(sim.stats().byRoute).sort()).toEqual(['activityCount', 'activityList'])
      // Never dearer than the first run. Against the same account without poison: no call about an
      // entry, at most one list page more per quarantined entry (the run looks again where the
      // coverage stops at it, to see a fixed version) and the count while the oldest one keeps the
      // history open.
      const cost = sim.stats()
      expect(cost.total).toBeLessThanOrEqual(firstCost.total)
      const calls = (stats: typeof cost, route: 'activityList' | 'activityCount') =>
        Object.values(stats.byRoute[route] ?? {}).reduce((a, b) => a + b, 0)
      expect(calls(cost, 'activityList')).toBeLessThanOrEqual(calls(cleanCost, 'activityList') + 5)
      expect(calls(cost, 'activityCount')).toBeLessThanOrEqual(1)
      extraCalls = cost.total - cleanCost.total
      // Writes: the state and the run manifest, nothing for the quarantined entries.
      expect(again.report.requests.store.PutObject).toBe(2)
      requests.push({
        garmin: again.report.requests.garmin,
        store: again.report.requests.store,
        sim: sim.stats(),
      })
    }
    expect(requests[1]).toEqual(requests[0])
    recordFigure('quarantine runs', 3)
    recordFigure('quarantine extra calls', extraCalls)
    recordFigure('quarantine clean calls', cleanCost.total)
    recordFigure('quarantined entries', first.report.quarantined.length)
    expect((await folderActivities(out)).size).toBe(ACTIVITIES - 5)

    // The human summary names them too.
    const human = await runCli(['sync', '--out', out], { env })
    expect(human.code).toBe(5)
    expect(human.stdout).toContain('5 list entries quarantined')
    expect(human.stdout).toContain('activityId "../../x": activityId is not a positive whole number')

    // Garmin fixes one: it is stored, and four remain.
    sim.restoreListEntry(badTime!.activityId)
    const fixed = await syncJson(['--out', out], env)
    expect(fixed.result.code, fixed.result.stderr).toBe(5)
    expect(fixed.report).toMatchObject({ created: 1, invalid: 4 })
    expect(fixed.report.quarantined.map((q) => q.id)).not.toContain(String(badTime!.activityId))
    expect(
      (await folderActivities(out)).get(`raw-data/garmin-json/activity_${badTime!.activityId}.json`),
    ).toBe(JSON.stringify(badTime))

    const status = await runCli(['status', '--out', out, '--json'], { env })
    expect(JSON.parse(status.stdout).activities.quarantined, status.stderr).toBe(4)
    const statusText = await runCli(['status', '--out', out], { env })
    expect(statusText.stdout).toContain('4 quarantined')
    // Nothing was written outside the data and control folders (the hostile id went nowhere).
    expect((await readdir(out)).sort()).toEqual(['_garmin-s3', 'raw-data'])
    // The folder store's temporary folder, left empty by the finished runs.
    expect(await readdir(join(out, '_garmin-s3', 'tmp'))).toEqual([])
  })
})
