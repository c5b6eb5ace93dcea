import { createHash } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import t from 'tap'
import { decodeClientMessage, dialRelay } from '../../lib/relay/index.js'

/** RFC 6455 §4.2.2: the `Sec-WebSocket-Accept` answer to a key. */
const acceptOf = (key: string) =>
  createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64')

/**
 * A bare TCP server that completes one WebSocket upgrade and resolves with the first frame the client
 * sends, as raw bytes (header, masking key, payload): what a relay receives, before any library reads it.
 */
function firstFrame(): Promise<{ port: number; frame: Promise<Buffer> }> {
  let got: (frame: Buffer) => void
  const frame = new Promise<Buffer>((resolve) => (got = resolve))
  const server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0)
    let upgraded = false
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk])
      if (!upgraded) {
        const end = buffered.indexOf('\r\n\r\n')
        if (end < 0) return
        const key = /sec-websocket-key: *(\S+)/i.exec(buffered.subarray(0, end).toString())?.[1] ?? ''
        socket.write(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
            `Sec-WebSocket-Accept: ${acceptOf(key)}\r\n\r\n`,
        )
        upgraded = true
        buffered = buffered.subarray(end + 4)
      }
      // A control message is < 126 bytes: 2 header bytes, 4 of masking key, then the payload.
      if (buffered.length >= 2 && buffered.length >= 6 + (buffered[1]! & 0x7f)) {
        got(buffered.subarray(0, 6 + (buffered[1]! & 0x7f)))
        socket.destroy()
        server.close()
      }
    })
  })
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ port: (server.address() as { port: number }).port, frame }),
    ),
  )
}

t.test('a client masks its frames with the zero key (spec/relay.md §3.1)', async (t) => {
  const { port, frame } = await firstFrame()
  const token = new Uint8Array(32).fill(9)
  const dialing = dialRelay({ host: '127.0.0.1', port }, token)
  dialing.catch(() => {})
  const bytes = await frame
  t.equal(bytes[0], 0x82, 'one final binary frame')
  t.equal(bytes[1]! & 0x80, 0x80, 'the mask bit is set, as RFC 6455 requires of a client')
  t.same([...bytes.subarray(2, 6)], [0, 0, 0, 0], 'the masking key is zero')
  t.match(
    decodeClientMessage(bytes.subarray(6)),
    { t: 'connect', tk: token },
    'so the payload is the control message as it is',
  )
  await t.rejects(dialing, { code: 'RELAY_UNREACHABLE' }, 'and the cut-off is reported')
})
