import { chmod } from 'node:fs/promises'
import { join } from 'node:path'
import createDebug from 'debug'
import { CONTROL_PROTOCOL_VERSION, CONTROL_SOCKET_FILE } from '../control/constants.js'
import type { MethodHandlers } from '../control/protocol.js'
import { ControlServer } from '../control/server.js'
import type { PairctlNode } from './node.js'
import { PairingSessions } from './sessions.js'

const debug = createDebug('pairctl:daemon')

/** A node served over its control socket. */
export interface Daemon {
  readonly socketPath: string
  /** Resolves when a client called `daemon.stop`. */
  readonly stopRequested: Promise<void>
  /** Stops serving: cancels pairings in progress, disconnects clients, removes the socket. */
  close(): Promise<void>
}

/**
 * Serves `node` on `<instance dir>/control.sock` (`spec/control.md` §2). The node holds the instance
 * lock, so no other daemon can be serving this directory; node events are broadcast to every client.
 */
export async function startDaemon(node: PairctlNode, version: string): Promise<Daemon> {
  const socketPath = join(node.dir, CONTROL_SOCKET_FILE)
  // The directory is the socket's first fence (§7): owner-only even if someone loosened it.
  await chmod(node.dir, 0o700)
  let requestStop = () => {}
  const stopRequested = new Promise<void>((resolve) => (requestStop = resolve))
  const sessions = new PairingSessions(node)
  const server = await ControlServer.listen({
    socketPath,
    handlers: handlers(node, version, sessions, () => requestStop()),
    hello: {
      protocol: CONTROL_PROTOCOL_VERSION,
      version,
      instance: node.instance,
      deviceId: node.deviceId,
      pid: process.pid,
    },
  })
  const forward = forwardEvents(node, server)
  debug('serving %s on %s', node.deviceId, socketPath)
  return {
    socketPath,
    stopRequested,
    async close() {
      forward()
      await sessions.cancelAll()
      await server.close()
    },
  }
}

function handlers(
  node: PairctlNode,
  version: string,
  sessions: PairingSessions,
  stop: () => void,
): MethodHandlers {
  return {
    status: async () => node.status(version),
    'devices.list': async () => ({ devices: node.devices() }),
    'devices.remove': async ({ device }) => ({ removed: await node.unpair(device) }),
    'pairing.generate': async (params) => ({ sessionId: sessions.generate(params) }),
    'pairing.join': async ({ code, ...params }) => ({ sessionId: sessions.join(code, params) }),
    'messages.send': async ({ device, text }) => ({ to: await node.send(device, text) }),
    'transfers.send': async ({ device, files }) => ({ transfer: await node.offerFiles(device, files) }),
    'transfers.list': async () => ({ transfers: node.transfers() }),
    'transfers.accept': async ({ id }) => ({ transfer: await node.acceptTransfer(id) }),
    'transfers.reject': async ({ id }) => ({ transfer: await node.rejectTransfer(id) }),
    'transfers.cancel': async ({ id }) => ({ transfer: await node.cancelTransfer(id) }),
    'pairing.confirm': async ({ sessionId, accept }) => {
      sessions.confirm(sessionId, accept)
      return {}
    },
    'pairing.cancel': async ({ sessionId }) => {
      sessions.cancel(sessionId)
      return {}
    },
    'daemon.stop': async () => {
      setImmediate(stop)
      return {}
    },
  }
}

/** Relays node events to control clients; returns the function that stops relaying. */
function forwardEvents(node: PairctlNode, server: ControlServer): () => void {
  const onPairing = (data: unknown) => server.broadcast('pairing', data)
  const onAdded = (device: unknown) => server.broadcast('devices.added', device)
  const onRemoved = (device: unknown) => server.broadcast('devices.removed', device)
  const onOnline = (peer: unknown) => server.broadcast('devices.online', peer)
  const onOffline = (peer: unknown) => server.broadcast('devices.offline', peer)
  const onMessage = (message: unknown) => server.broadcast('messages.received', message)
  const onTransfer = (transfer: unknown) => server.broadcast('transfers.changed', transfer)
  const onIncoming = (transfer: unknown) => server.broadcast('transfers.incoming', transfer)
  node.on('pairing', onPairing).on('device-added', onAdded).on('device-removed', onRemoved)
  node.on('device-online', onOnline).on('device-offline', onOffline).on('message', onMessage)
  node.on('transfer', onTransfer).on('incoming-transfer', onIncoming)
  return () => {
    node.off('pairing', onPairing).off('device-added', onAdded).off('device-removed', onRemoved)
    node.off('device-online', onOnline).off('device-offline', onOffline).off('message', onMessage)
    node.off('transfer', onTransfer).off('incoming-transfer', onIncoming)
  }
}
