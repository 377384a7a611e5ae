/**
 * A fault-injecting HTTP proxy in front of a real S3 server (moto / SeaweedFS): the SDK talks to it
 * as to S3, so its own retry logic meets 503 SlowDown, 500, a reset connection, 403 AccessDenied or
 * a slow PUT for the next K requests of one S3 operation. Path-style addressing only.
 */
import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { forward } from '../helpers/forward.js'

export type S3Operation = 'PutObject' | 'GetObject' | 'HeadObject' | 'ListObjectsV2' | 'other'

export type S3Fault =
  | { kind: 'slowDown' } // 503 SlowDown: throttling, retried by the SDK with a longer back-off
  | { kind: 'internal' } // 500 InternalError: transient, retried
  | { kind: 'reset' } // the socket is destroyed before any answer
  | { kind: 'accessDenied' } // 403 AccessDenied: not retried
  | { kind: 'slow'; ms: number } // the request is forwarded after `ms`
  // The request reaches S3; its answer waits for `hook` (e.g. a SIGKILL of the client: done, never told)
  | { kind: 'beforeAnswer'; hook: (key: string) => Promise<void> }

export interface S3FaultRule {
  operation: S3Operation
  fault: S3Fault
  /** Only the next K matching requests (default 1). */
  times?: number
  /** Only keys containing this text (PUT/GET/HEAD). */
  keyContains?: string
}

export interface S3FaultProxy {
  url: string
  addFault(rule: S3FaultRule): void
  clearFaults(): void
  /** Faults served so far, by operation and kind. */
  injected(): Record<string, number>
  /** Requests seen, by operation. */
  requests(): Record<string, number>
  close(): Promise<void>
}

/** The S3 operation of a path-style request. */
export function operationOf(method: string, url: URL): S3Operation {
  const parts = url.pathname.split('/').filter(Boolean)
  const hasKey = parts.length >= 2
  if (method === 'PUT' && hasKey && !url.searchParams.has('uploadId')) return 'PutObject'
  if (method === 'GET' && hasKey) return 'GetObject'
  if (method === 'HEAD' && hasKey) return 'HeadObject'
  if (method === 'GET' && parts.length === 1 && url.searchParams.get('list-type') === '2')
    return 'ListObjectsV2'
  return 'other'
}

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>fault-proxy</RequestId></Error>`
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(body) })
  res.end(body)
}

/** `onRequest` sees each request's operation and key as it arrives (tests use it to time a kill). */
export async function startS3FaultProxy(
  target: string,
  onRequest?: (operation: S3Operation, key: string) => void,
): Promise<S3FaultProxy> {
  const upstream = new URL(target)
  const rules: (S3FaultRule & { left: number })[] = []
  const injected: Record<string, number> = {}
  const seen: Record<string, number> = {}
  const sockets = new Set<Socket>()

  const take = (operation: S3Operation, key: string): S3Fault | undefined => {
    const index = rules.findIndex(
      (r) => r.operation === operation && r.left > 0 && (!r.keyContains || key.includes(r.keyContains)),
    )
    const rule = rules[index]
    if (!rule) return undefined
    rule.left--
    if (rule.left === 0) rules.splice(index, 1)
    const name = `${operation} ${rule.fault.kind}`
    injected[name] = (injected[name] ?? 0) + 1
    return rule.fault
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://proxy')
      const operation = operationOf(req.method ?? 'GET', url)
      seen[operation] = (seen[operation] ?? 0) + 1
      const key = decodeURIComponent(url.pathname)
      onRequest?.(operation, key)
      const fault = take(operation, key)
      const body = Buffer.concat(chunks)
      switch (fault?.kind) {
        case undefined:
          return forward(upstream, req, res, body)
        case 'slowDown':
          return s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.')
        case 'internal':
          return s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.')
        case 'accessDenied':
          return s3Error(res, 403, 'AccessDenied', 'Access Denied')
        case 'reset':
          return req.socket.destroy()
        case 'beforeAnswer': {
          const { hook } = fault
          return forward(upstream, req, res, body, () => hook(key))
        }
        case 'slow': {
          const timer = setTimeout(() => forward(upstream, req, res, body), fault.ms)
          res.on('close', () => clearTimeout(timer))
          return
        }
      }
    })
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    addFault: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    clearFaults: () => {
      rules.length = 0
    },
    injected: () => ({ ...injected }),
    requests: () => ({ ...seen }),
    close: async () => {
      for (const s of sockets) s.destroy()
      await new Promise<void>((r) => server.close(() => r()))
    },
  }
}
