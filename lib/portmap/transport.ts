import dgram from 'node:dgram'
import { PortmapError } from './errors.js'
import { type Peer, RequestTransaction } from './transaction.js'
import type { MappingMethod } from './types.js'

/**
 * The UDP adapter (spec/portmap.md §6): runs one {@link RequestTransaction} over a `node:dgram` socket
 * and the real clock. Unicast exchanges (NAT-PMP, PCP) use a connected socket so the kernel drops
 * datagrams from anyone but the gateway; multicast (SSDP) cannot, and filters in `decode` instead.
 */

/** One exchange. `build` gets the local address the socket will send from (PCP puts it in the header). */
export interface UdpExchange<T> {
  method: MappingMethod
  host: string
  port: number
  /** `false` for SSDP: replies come from the device's unicast address, not the multicast group. */
  connected?: boolean
  build: (localAddress: string) => Uint8Array[]
  decode: (bytes: Uint8Array, from: Peer) => T | null
  signal?: AbortSignal
}

/**
 * Resolves with the first accepted reply, or `null` on timeout. Rejects with PORTMAP_ABORTED, or
 * PORTMAP_UNREACHABLE when the gateway answers ICMP port unreachable (no server there: fail fast
 * instead of waiting out the retry schedule).
 */
export async function udpExchange<T>(exchange: UdpExchange<T>): Promise<T | null> {
  const socket = dgram.createSocket('udp4')
  try {
    const localAddress = await openSocket(socket, exchange)
    const tx = new RequestTransaction(exchange.build(localAddress), exchange.decode, Date.now())
    return await drive(socket, tx, exchange)
  } finally {
    socket.close()
  }
}

async function openSocket(socket: dgram.Socket, exchange: UdpExchange<unknown>): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.bind(0, () => resolve())
  })
  if (exchange.connected === false) return socket.address().address
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject)
    socket.connect(exchange.port, exchange.host, () => resolve())
  })
  return socket.address().address
}

function drive<T>(
  socket: dgram.Socket,
  tx: RequestTransaction<T>,
  exchange: UdpExchange<T>,
): Promise<T | null> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    const finish = (outcome: () => void): void => {
      clearTimeout(timer)
      exchange.signal?.removeEventListener('abort', onAbort)
      socket.removeAllListeners('message')
      outcome()
    }
    const step = (): void => {
      const now = Date.now()
      tx.handleTimeout(now)
      for (let out = tx.pollTransmit(now); out; out = tx.pollTransmit(now)) send(socket, out, exchange)
      const event = tx.nextEvent()
      if (event) {
        finish(() => resolve(event.type === 'response' ? event.value : null))
        return
      }
      clearTimeout(timer)
      timer = setTimeout(step, Math.max(0, (tx.pollTimeout() ?? now) - now))
    }
    const onAbort = (): void => finish(() => reject(PortmapError.aborted('port mapping aborted')))
    if (exchange.signal?.aborted) {
      onAbort()
      return
    }
    exchange.signal?.addEventListener('abort', onAbort)
    socket.on('message', (bytes, rinfo) => {
      tx.receive(new Uint8Array(bytes), { address: rinfo.address, port: rinfo.port }, Date.now())
      step()
    })
    // Only a connected socket learns of ICMP port unreachable; any other socket error is a lost datagram.
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNREFUSED') return
      finish(() => reject(PortmapError.unreachable(exchange.method, `${exchange.host}:${exchange.port}`)))
    })
    step()
  })
}

function send(socket: dgram.Socket, bytes: Uint8Array, exchange: UdpExchange<unknown>): void {
  const onSent = (): void => {}
  if (exchange.connected === false) socket.send(bytes, exchange.port, exchange.host, onSent)
  else socket.send(bytes, onSent)
}
