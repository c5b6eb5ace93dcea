import { randomBytes } from 'node:crypto'
import { connect, type Socket } from 'node:net'

/** A misbehaving WebSocket client on a raw socket: it does only what the test tells it to. */
export interface RawClient {
  socket: Socket
  /** Bytes received so far (the upgrade response included). */
  received(): number
  /** Resolves when the server closes the connection, with the ms since it was opened. */
  closed: Promise<number>
}

/**
 * Connects to a Unix socket path or a TCP port on 127.0.0.1 (from loopback address `from`, default
 * 127.0.0.1); nothing is written yet.
 */
export function rawConnect(to: string | number, from?: string): RawClient {
  const socket =
    typeof to === 'string' ? connect(to) : connect({ host: '127.0.0.1', port: to, localAddress: from })
  const opened = performance.now()
  let received = 0
  socket.on('data', (chunk: Buffer) => (received += chunk.length))
  socket.on('error', () => {})
  const closed = new Promise<number>((resolve) =>
    socket.once('close', () => resolve(performance.now() - opened)),
  )
  return { socket, received: () => received, closed }
}

/** The HTTP upgrade request of a WebSocket client for `path`, without its final empty line. */
export function upgradeHead(path: string): string {
  return (
    `GET ${path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
    `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n`
  )
}

/** Upgrades `client` to a WebSocket on `path`; resolves once the 101 response arrived. */
export async function upgrade(client: RawClient, path: string): Promise<void> {
  client.socket.write(`${upgradeHead(path)}\r\n`)
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      if (!chunk.toString('latin1').startsWith('HTTP/1.1 101')) reject(new Error('upgrade refused'))
      else resolve()
      client.socket.off('data', onData)
    }
    client.socket.on('data', onData)
  })
}

/** The first bytes of a masked text frame announcing 5 bytes of payload: half a frame, never finished. */
export const HALF_FRAME = Uint8Array.of(0x81, 0x85, 1, 2)
