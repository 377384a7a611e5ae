/**
 * What this machine's file system allows for the folder row of `npm run bench`: `files` files of
 * `bytes` each, created the way the folder store creates a new object (src/store/dir.ts: a temp file
 * opened with `wx` in a working folder, written, fsynced, closed, hard-linked to its name, unlinked),
 * `concurrency` at a time, with no Garmin, parsing or state around it. The folder row's rate divided by
 * this one says how much of the file system's own speed the sync reaches; the rate itself moves with the
 * disk (the same build measured 2,918/s and 1,430/s on two days of the same kind of machine).
 *
 *   node --import tsx bench/disk-floor.ts <folder> <files> <bytes> <concurrency>
 *
 * Prints one JSON line: { files, wallMs, cpuMs, perSecond }. Removes what it made.
 */
import { link, mkdir, open, rm, unlink } from 'node:fs/promises'
import { join } from 'node:path'

export interface DiskFloor {
  files: number
  wallMs: number
  cpuMs: number
  perSecond: number
}

async function floor(dir: string, files: number, bytes: number, concurrency: number): Promise<DiskFloor> {
  const work = join(dir, 'tmp')
  const out = join(dir, 'out')
  await mkdir(work, { recursive: true })
  await mkdir(out, { recursive: true })
  const body = Buffer.alloc(bytes, 'x')
  let next = 0
  const worker = async () => {
    while (next < files) {
      const n = next++
      const temp = join(work, `t${n}`)
      const handle = await open(temp, 'wx')
      await handle.writeFile(body)
      await handle.sync()
      await handle.close()
      await link(temp, join(out, `activity_${n}.json`))
      await unlink(temp)
    }
  }
  const cpu = process.cpuUsage()
  const began = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  const wallMs = performance.now() - began
  const used = process.cpuUsage(cpu)
  await rm(dir, { recursive: true, force: true })
  return { files, wallMs, cpuMs: (used.user + used.system) / 1000, perSecond: files / (wallMs / 1000) }
}

const [dir, files, bytes, concurrency] = process.argv.slice(2)
if (!dir || !files || !bytes || !concurrency) {
  console.error('usage: node --import tsx bench/disk-floor.ts <folder> <files> <bytes> <concurrency>')
  process.exit(2)
}
const result = await floor(dir, Number(files), Number(bytes), Number(concurrency))
process.stdout.write(`${JSON.stringify(result)}\n`)
