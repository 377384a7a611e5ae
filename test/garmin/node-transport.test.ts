/**
 * The default Garmin transport (src/garmin/node-transport.ts) against fetch, on a loopback server:
 * the same request on the wire, the same answer read back, the same failures as `send` classifies them.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { send, TransportFailure } from '../../src/garmin/http.js'
import { nodeTransport } from '../../src/garmin/node-transport.js'

interface Seen {
  method: string
  rawHeaders: string[]
  body: string
}

let server: Server
let base: string
const seen: Seen[] = []
/** Set by a test: the request's arrival (to abort a request the server holds). */
let onHeld: (() => void) | undefined

function answer(req: IncomingMessage, res: ServerResponse, body: string): void {
  const path = new URL(req.url ?? '/', 'http://x').pathname
  const text = JSON.stringify({ hello: 'garmin', path })
  switch (path) {
    case '/json':
      res.writeHead(200, [
        ['content-type', 'application/json'],
        ['set-cookie', 'a=1; Path=/'],
        ['set-cookie', 'b=2; Path=/'],
        ['x-twice', 'one'],
        ['x-twice', 'two'],
      ])
      res.end(text)
      return
    case '/gzip':
      res.writeHead(200, { 'content-encoding': 'gzip' })
      res.end(gzipSync(text))
      return
    case '/deflate':
      res.writeHead(200, { 'content-encoding': 'deflate' })
      res.end(deflateSync(text))
      return
    case '/raw-deflate':
      res.writeHead(200, { 'content-encoding': 'deflate' })
      res.end(deflateRawSync(text))
      return
    case '/redirect':
      res.writeHead(302, { location: '/json' })
      res.end()
      return
    case '/echo':
      res.writeHead(201, { 'content-type': 'text/plain' })
      res.end(`${req.method} ${body}`)
      return
    case '/hold':
      onHeld?.()
      return // never answers
    case '/cut':
      res.writeHead(200, { 'content-length': '100' })
      res.write('{"partial":')
      res.socket?.destroy()
      return
    default:
      res.writeHead(404)
      res.end()
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString()
      seen.push({ method: req.method ?? '', rawHeaders: req.rawHeaders, body })
      answer(req, res, body)
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})

afterAll(async () => {
  server.closeAllConnections()
  await new Promise((resolve) => server.close(resolve))
})

/** The headers one request put on the wire (names lower-cased, in order), via `transport`. */
async function wire(transport: typeof fetch, init: RequestInit): Promise<[string, string][]> {
  const before = seen.length
  const response = await transport(`${base}/echo`, init)
  await response.arrayBuffer()
  const raw = seen[before]?.rawHeaders ?? []
  const pairs: [string, string][] = []
  for (let i = 0; i < raw.length; i += 2) pairs.push([(raw[i] ?? '').toLowerCase(), raw[i + 1] ?? ''])
  return pairs
}

describe('nodeTransport, the default transport of the Garmin client', () => {
  it("puts fetch's request on the wire: its headers, their order, the body's type and length", async () => {
    const get = { headers: { Accept: 'application/json', Authorization: 'Bearer t', 'X-App-Ver': '5' } }
    const post = {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'refresh_token' }).toString(),
    }
    for (const init of [get, post, { method: 'POST', body: 'plain text' }]) {
      expect(await wire(nodeTransport, init)).toEqual(await wire(fetch, init))
    }
  })

  it('reads an answer as fetch does: status, headers (repeated ones joined, cookies apart), body', async () => {
    const [mine, theirs] = await Promise.all([nodeTransport(`${base}/json`), fetch(`${base}/json`)])
    expect(mine.status).toBe(200)
    expect(mine.ok).toBe(true)
    for (const name of ['content-type', 'x-twice', 'set-cookie', 'content-length', 'missing'])
      expect(mine.headers.get(name)).toBe(theirs.headers.get(name))
    expect(mine.headers.getSetCookie()).toEqual(theirs.headers.getSetCookie())
    const stable = ([name]: [string, string]) => name !== 'date'
    expect([...mine.headers.entries()].filter(stable)).toEqual([...theirs.headers.entries()].filter(stable))
    expect(await mine.text()).toBe(await theirs.text())
    await expect(mine.text()).rejects.toThrow(TypeError)
  })

  it('decodes gzip and deflate answers (with and without the zlib wrapper)', async () => {
    for (const path of ['/gzip', '/deflate', '/raw-deflate']) {
      const response = await send(nodeTransport, `${base}${path}`, {}, { timeoutMs: 10_000 })
      expect(JSON.parse(new TextDecoder().decode(response.body))).toEqual({ hello: 'garmin', path })
    }
  })

  it('never follows a redirect: the 3xx comes back with its Location', async () => {
    const response = await nodeTransport(`${base}/redirect`, { redirect: 'manual' })
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('/json')
  })

  it("stops at the caller's abort with the signal's reason, and at send's deadline as a timeout", async () => {
    const controller = new AbortController()
    onHeld = () => controller.abort(new Error('stop now'))
    await expect(nodeTransport(`${base}/hold`, { signal: controller.signal })).rejects.toThrow('stop now')
    onHeld = undefined
    const timeout = send(nodeTransport, `${base}/hold`, {}, { timeoutMs: 50 })
    await expect(timeout).rejects.toBeInstanceOf(TransportFailure)
    await expect(timeout).rejects.toMatchObject({ kind: 'timeout' })
  })

  it('reports a refused connection and a cut-off answer as network failures, as fetch does', async () => {
    const closed = createServer()
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve))
    const port = (closed.address() as AddressInfo).port
    await new Promise((resolve) => closed.close(resolve))
    const refused = send(nodeTransport, `http://127.0.0.1:${port}/`, {}, { timeoutMs: 10_000 })
    await expect(refused).rejects.toMatchObject({
      kind: 'network',
      message: 'connection failed (ECONNREFUSED)',
    })
    const viaFetch = send(fetch, `http://127.0.0.1:${port}/`, {}, { timeoutMs: 10_000 })
    await expect(viaFetch).rejects.toMatchObject({
      kind: 'network',
      message: 'connection failed (ECONNREFUSED)',
    })

    const cut = send(nodeTransport, `${base}/cut`, {}, { timeoutMs: 10_000 })
    await expect(cut).rejects.toMatchObject({ kind: 'network' })
  })
})
