import { connect, type Socket } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { isOwnAddress } from '../addresses/local.js'
import { stunBinding } from '../stun/index.js'
import { MAPPING_STUN_SCHEDULE } from './constants.js'
import type { LocalMapping } from './core.js'
import { HolepunchError } from './errors.js'
import type { Endpoint } from './messages.js'

/**
 * The thin socket adapter of hole punching (`spec/holepunch.md` §5.1, §5.2): learning a local port's
 * mapping through STUN, and the TCP simultaneous open.
 * @module
 */

/** A refused SYN (an RST from a host, not a NAT that drops) is retried this often within the window. */
const REFUSED_RETRY_MS = 200

/**
 * Learns where the NAT maps a fresh local port: a STUN Binding from an ephemeral UDP port P. STUN is UDP
 * and the punch is TCP; a port-preserving NAT (Linux masquerade, most home routers) maps TCP port P to the
 * same external port as UDP port P when it is free, so `mapped.port === P` says the TCP mapping is
 * `{ mapped.host, P }`. Any other port means the NAT picks ports per destination (symmetric): `changing`.
 */
export async function learnMapping(
  stunServer: Endpoint,
  options: { signal?: AbortSignal; localAddress?: string } = {},
): Promise<LocalMapping> {
  const result = await stunBinding(stunServer, {
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    ...MAPPING_STUN_SCHEDULE,
  })
  const localPort = result.local.port
  const mapped = { host: result.mapped.host, port: localPort }
  if (isOwnAddress(result.mapped.host)) return { localPort, mapped, nat: 'none' }
  if (result.mapped.port !== localPort)
    return { localPort, mapped: { host: result.mapped.host, port: result.mapped.port }, nat: 'changing' }
  return { localPort, mapped, nat: 'preserving' }
}

/**
 * A TCP simultaneous open: connects from `localPort` to `remote` while the peer does the same the other
 * way; the NATs on both sides see each SYN as part of a flow their own host opened. Resolves with the
 * connected socket; rejects with `HOLEPUNCH_NO_PATH` after `timeoutMs` or on `signal`.
 */
export async function simultaneousOpen(
  localPort: number,
  remote: Endpoint,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Socket> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const left = deadline - Date.now()
    if (left <= 0 || signal?.aborted) throw HolepunchError.noPath(`no TCP connection to ${format(remote)}`)
    try {
      return await connectOnce(localPort, remote, left, signal)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED')
        throw HolepunchError.noPath(`no TCP connection to ${format(remote)}`, err)
      await sleep(REFUSED_RETRY_MS, undefined, { ref: false })
    }
  }
}

function connectOnce(localPort: number, remote: Endpoint, timeoutMs: number, signal?: AbortSignal) {
  return new Promise<Socket>((resolve, reject) => {
    const socket = connect({ host: remote.host, port: remote.port, localPort })
    const fail = (err: Error) => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      reject(err)
    }
    const onAbort = () => fail(new Error('aborted'))
    const timer = setTimeout(
      () => fail(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })),
      timeoutMs,
    )
    signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', fail)
    socket.once('connect', () => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      socket.off('error', fail)
      resolve(socket)
    })
  })
}

function format(endpoint: Endpoint): string {
  return `${endpoint.host}:${endpoint.port}`
}
