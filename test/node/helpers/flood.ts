import { connect, type Socket } from 'node:net'
import { type ConnectionPurpose, encodePreamble } from '../../../lib/presence/index.js'

/** Sockets of a handshake flood, as the flooder sees them. */
export interface HandshakeFlood {
  /** Sockets the node has not closed. */
  open(): number
  /** Milliseconds from connect to the node closing it, for each closed socket, in closing order. */
  closedAfterMs(): number[]
  /** Writes one more byte on every open socket (a slow handshake that never completes). */
  trickle(): void
  destroy(): void
}

/**
 * Opens `count` TCP connections from 127.0.0.1 to `port`, each sending the preamble of `purpose` and
 * then half a Noise frame (a length prefix announcing 48 bytes, and 8 of them): handshakes that start
 * and never complete. Resolves once every socket is connected or already closed by the node.
 */
export async function floodHandshakes(
  port: number,
  count: number,
  purpose: ConnectionPurpose,
): Promise<HandshakeFlood> {
  const sockets: Socket[] = []
  const closed: number[] = []
  const halfFrame = Uint8Array.of(0, 48, ...new Uint8Array(8))
  await Promise.all(
    Array.from({ length: count }, async () => {
      const socket = connect({ host: '127.0.0.1', port })
      sockets.push(socket)
      socket.on('error', () => {})
      socket.on('data', () => {})
      let connectedAt = 0
      socket.once('close', () => closed.push(performance.now() - connectedAt))
      await new Promise<void>((resolve) => {
        socket.once('connect', () => {
          connectedAt = performance.now()
          socket.write(encodePreamble(purpose))
          socket.write(halfFrame)
          resolve()
        })
        socket.once('close', () => resolve())
      })
    }),
  )
  return {
    open: () => sockets.length - closed.length,
    closedAfterMs: () => [...closed],
    trickle: () => {
      for (const socket of sockets) if (!socket.destroyed) socket.write(Uint8Array.of(0))
    },
    destroy: () => {
      for (const socket of sockets) socket.destroy()
    },
  }
}

/** Resolves once `predicate` holds, checking every 20 ms; rejects after `ms`. */
export async function until(predicate: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = performance.now() + ms
  while (!predicate()) {
    if (performance.now() > deadline) throw new Error(`not within ${ms} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}
