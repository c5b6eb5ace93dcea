import { createServer, type Server, type Socket } from 'node:net'
import { networkInterfaces } from 'node:os'
import createDebug from 'debug'
import type { AddressInfo } from '../control/protocol.js'

const debug = createDebug('pairctl:node')

/** The node's TCP listener (pairing and reconnects, `spec/presence.md` §4) and the sockets it accepted. */
export interface PairingListener {
  readonly server: Server
  readonly port: number
  close(): Promise<void>
}

/**
 * Listens for pairing and reconnect connections on `host`, on `preferredPort` when free (so UDP and TCP share one
 * number, which keeps a single port-mapping rule and firewall hole meaningful), else on any port.
 */
export async function listenTcp(host: string, preferredPort: number): Promise<PairingListener> {
  const server = createServer()
  const sockets = new Set<Socket>()
  server.on('connection', (socket) => {
    // A reset connection must never become an unhandled 'error' that kills the process.
    socket.on('error', (err) => debug('connection from %s: %s', socket.remoteAddress, err.message))
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  const port = await bind(server, host, preferredPort).catch(() => bind(server, host, 0))
  return {
    server,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  }
}

function bind(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(err)
    server.once('error', onError)
    server.listen({ host, port, exclusive: true }, () => {
      server.off('error', onError)
      resolve((server.address() as { port: number }).port)
    })
  })
}

/**
 * The addresses a bound socket is reachable at on this machine (`spec/control.md` §4.1, source
 * `socket`): the bound host itself, or for a wildcard bind every interface address, loopback last so
 * that a peer on another machine tries a routable one first.
 */
export function localAddresses(host: string, port: number, protocol: 'udp' | 'tcp'): AddressInfo[] {
  const hosts = isWildcard(host) ? interfaceHosts(host === '::') : [host]
  return hosts.map((address) => ({ host: address, port, protocol, source: 'socket' }))
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::'
}

function interfaceHosts(includeIpv6: boolean): string[] {
  const all = Object.values(networkInterfaces()).flatMap((list) => list ?? [])
  const usable = all.filter(
    (info) => (info.family === 'IPv4' || includeIpv6) && !info.address.startsWith('fe80'),
  )
  const sorted = [...usable.filter((info) => !info.internal), ...usable.filter((info) => info.internal)]
  return sorted.map((info) => info.address)
}
