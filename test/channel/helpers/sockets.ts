/** Test helpers: connected loopback TCP sockets and in-memory Duplex pairs. */
import { once } from 'node:events'
import { connect, createServer, type Socket } from 'node:net'
import { Duplex } from 'node:stream'

/** A connected TCP pair on 127.0.0.1: [client, server]. The listener is closed before returning. */
export async function tcpPair(): Promise<[Socket, Socket]> {
  const server = createServer()
  server.listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  const accepted = once(server, 'connection') as Promise<[Socket]>
  const client = connect(port, '127.0.0.1')
  const [[serverSide]] = await Promise.all([accepted, once(client, 'connect')])
  server.close()
  return [client, serverSide]
}

/** Two in-memory Duplexes wired back to back (for the relay case: any Duplex, no socket). */
export function duplexPair(): [Duplex, Duplex] {
  const make = (): Duplex & { peer?: Duplex } =>
    new Duplex({
      read() {},
      write(chunk, _encoding, callback) {
        ;(this as Duplex & { peer: Duplex }).peer.push(chunk)
        callback()
      },
      final(callback) {
        ;(this as Duplex & { peer: Duplex }).peer.push(null)
        callback()
      },
    })
  const a = make()
  const b = make()
  a.peer = b
  b.peer = a
  return [a, b]
}
