import type { Server, Socket } from 'node:net'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import { MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_SOURCE, PREAMBLE_TIMEOUT_MS } from '../pairing/constants.js'
import { PendingConnections, sourceOf } from '../pairing/pending.js'
import { type ConnectionPurpose, parsePreamble, presenceConstants } from '../presence/index.js'

const debug = createDebug('pairctl:node')

/** Takes a connection whose preamble named its purpose; the preamble is consumed, the rest unread. */
export type ConnectionHandler = (socket: Duplex, address: string) => void

/**
 * Routes every connection accepted by `server` by its preamble (`spec/presence.md` §4): pairing
 * connections to the pairing dispatcher (Noise XX), reconnects to the device links (Noise IK). A
 * connection whose first 8 bytes are no preamble is closed at once; one that sends none within
 * {@link PREAMBLE_TIMEOUT_MS} is closed then. At most 64 connections wait for their preamble, at most 4
 * from one source address; a newcomer evicts the oldest (`spec/pairing.md` §4.1), so silent sockets
 * cannot lock a legitimate peer out. Returns the router, for connections that come from elsewhere.
 */
export function routeConnections(
  server: Server,
  handlers: Record<ConnectionPurpose, ConnectionHandler>,
): ConnectionHandler {
  const route = connectionRouter(handlers)
  server.on('connection', (socket) => route(socket, `${socket.remoteAddress}:${socket.remotePort}`))
  return route
}

/**
 * The router of {@link routeConnections}, also for relay circuits (`spec/relay.md` §8): the same preamble
 * rules and the same bounds; a circuit's source is the relay it came through (its `address`).
 */
export function connectionRouter(handlers: Record<ConnectionPurpose, ConnectionHandler>): ConnectionHandler {
  const pending = new PendingConnections<Duplex>(MAX_PENDING_CONNECTIONS, MAX_PENDING_PER_SOURCE)
  return (socket, address) => {
    pending.admit(socket, sourceOf(socket, address))
    readPreamble(socket, address).then((purpose) => {
      pending.settle(socket)
      if (purpose === null) return void socket.destroy()
      handlers[purpose](socket, address)
      // The handler attached its reader; what arrived after the preamble now flows to it.
      socket.resume()
    })
  }
}

/**
 * Routes one connection by its preamble: an accepted one, or one made by a TCP simultaneous open where
 * this side acts as the responder (`spec/holepunch.md` §5.3). Resolves once handed over or closed.
 */
export async function routeSocket(
  socket: Socket,
  handlers: Record<ConnectionPurpose, ConnectionHandler>,
  onPreamble?: () => void,
): Promise<void> {
  const address = `${socket.remoteAddress}:${socket.remotePort}`
  const purpose = await readPreamble(socket, address)
  onPreamble?.()
  if (purpose === null) return void socket.destroy()
  handlers[purpose](socket, address)
  // The handler attached its reader; what arrived after the preamble now flows to it.
  socket.resume()
}

/** The purpose named by the socket's first bytes; what follows them is pushed back, unread. */
function readPreamble(socket: Duplex, address: string): Promise<ConnectionPurpose | null> {
  const { PREAMBLE_LENGTH } = presenceConstants
  return new Promise((resolve) => {
    let received = Buffer.alloc(0)
    const finish = (purpose: ConnectionPurpose | null) => {
      clearTimeout(timer)
      socket.off('data', onData).off('close', onClose)
      resolve(purpose)
    }
    const onData = (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < PREAMBLE_LENGTH) return
      socket.pause()
      if (received.length > PREAMBLE_LENGTH) socket.unshift(received.subarray(PREAMBLE_LENGTH))
      const purpose = parsePreamble(received.subarray(0, PREAMBLE_LENGTH))
      if (purpose === null) debug('connection from %s without a preamble', address)
      finish(purpose)
    }
    const onClose = () => finish(null)
    const timer = setTimeout(() => finish(null), PREAMBLE_TIMEOUT_MS)
    socket.on('data', onData).on('close', onClose)
  })
}
