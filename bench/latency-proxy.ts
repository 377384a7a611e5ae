/**
 * An HTTP proxy that holds every request for a fixed time before passing it to `target` (moto_server),
 * to model the round trip of a real S3 endpoint. moto answers in a few milliseconds of Python CPU, all of
 * it serialized by the GIL, so on moto alone concurrency buys nothing and the original's sequential
 * HEAD + PUT loop looks better than it would against AWS, where each request is a network round trip.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { forward } from '../test/helpers/forward.js'

export interface LatencyProxy {
  url: string
  /** Requests forwarded so far. */
  count(): number
  close(): Promise<void>
}

export async function startLatencyProxy(target: string, latencyMs: number): Promise<LatencyProxy> {
  const upstream = new URL(target)
  let forwarded = 0
  const server = createServer((req, res) => {
    // The body is read first, so the wait models the whole round trip, not just the connection.
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      setTimeout(() => {
        forwarded++
        forward(upstream, req, res, Buffer.concat(chunks))
      }, latencyMs)
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count: () => forwarded,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
