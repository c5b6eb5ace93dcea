import http from 'node:http'
import { HTTP_TIMEOUT_MS, MAX_HTTP_BODY } from './constants.js'
import { PortmapError } from './errors.js'

/**
 * The HTTP adapter for UPnP (spec/portmap.md §5): one request over `node:http`, no keep-alive (so
 * nothing stays open), a timeout, a body size cap. Reports the local address of the connection,
 * which is the `NewInternalClient` an IGD in secure mode insists on.
 */

/** A finished HTTP exchange. */
export interface HttpReply {
  status: number
  body: string
  localAddress: string
}

/** Options of {@link httpRequest}. */
export interface HttpOptions {
  method: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  signal?: AbortSignal
  timeoutMs?: number
}

/** Performs one request; rejects with PORTMAP_HTTP (or PORTMAP_TIMEOUT / PORTMAP_ABORTED). */
export function httpRequest(url: URL, options: HttpOptions): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const body = options.body === undefined ? undefined : Buffer.from(options.body, 'utf8')
    const headers = { ...options.headers, ...(body ? { 'content-length': String(body.length) } : {}) }
    const req = http.request(url, { method: options.method, headers, agent: false, signal: options.signal })
    req.setTimeout(options.timeoutMs ?? HTTP_TIMEOUT_MS, () =>
      req.destroy(PortmapError.timeout('upnp', `${options.method} ${url.pathname}`)),
    )
    req.on('error', (err) => reject(wrapError(err, options.signal)))
    req.on('response', (res) => {
      readBody(res)
        .then((text) =>
          resolve({ status: res.statusCode ?? 0, body: text, localAddress: req.socket?.localAddress ?? '' }),
        )
        .catch((err: unknown) => reject(wrapError(err, options.signal)))
    })
    req.end(body)
  })
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    res.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_HTTP_BODY) res.destroy(PortmapError.http(`response larger than ${MAX_HTTP_BODY} bytes`))
      else chunks.push(chunk)
    })
    res.on('error', reject)
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
  })
}

function wrapError(err: unknown, signal: AbortSignal | undefined): PortmapError {
  if (err instanceof PortmapError) return err
  if (signal?.aborted) return PortmapError.aborted('port mapping aborted')
  return PortmapError.http(err instanceof Error ? err.message : String(err), { cause: err })
}
