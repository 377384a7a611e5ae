import { type IncomingMessage, request, type ServerResponse } from 'node:http'

/**
 * Passes a request whose body was already read on to `upstream` unchanged (Host included: the
 * emulators behind our proxies do not check signatures) and streams the answer back. If the upstream
 * fails, the client sees a 502 (or a cut connection when the answer had begun).
 */
export function forward(
  upstream: URL,
  req: IncomingMessage,
  res: ServerResponse,
  body: Buffer,
  /** Awaited once the upstream answered, before the client gets the answer (a test kills it there). */
  beforeAnswer?: () => Promise<void>,
): void {
  const out = request(
    { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
    (answer) => {
      const pass = () => {
        if (res.destroyed) return void answer.resume()
        res.writeHead(answer.statusCode ?? 502, answer.headers)
        answer.pipe(res)
      }
      if (beforeAnswer) void beforeAnswer().then(pass, pass)
      else pass()
    },
  )
  out.on('error', (error) => {
    if (res.headersSent) res.destroy()
    else res.writeHead(502).end(String(error))
  })
  out.end(body)
}
