import { randomBytes } from 'node:crypto'
import { connect, createServer } from 'node:tls'
import { timeRepeated } from '../harness.js'

/** ECDHE with a pre-shared key: an authenticated key exchange without certificates, like a PAKE gives. */
const CIPHERS = 'ECDHE-PSK-CHACHA20-POLY1305'
const psk = randomBytes(32)

/**
 * The floor reference for pairing latency: a TCP connect plus a TLS 1.2 ECDHE-PSK handshake over
 * loopback (node:tls, OpenSSL), repeated `repetitions` times. A pairing does strictly more (a DHT
 * publish and lookup, Noise XX with CPace inside, two key confirmations, a store write on each side),
 * so this bounds from below what one round of authenticated key agreement costs on this machine.
 */
export async function tlsHandshakeDurations(repetitions: number): Promise<number[]> {
  const server = createServer({ pskCallback: () => psk, ciphers: CIPHERS, maxVersion: 'TLSv1.2' }, (socket) =>
    socket.end(),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  try {
    return await timeRepeated(repetitions, () => handshake(port))
  } finally {
    await new Promise((resolve) => server.close(resolve))
  }
}

function handshake(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(
      {
        host: '127.0.0.1',
        port,
        ciphers: CIPHERS,
        maxVersion: 'TLSv1.2',
        pskCallback: () => ({ psk, identity: 'bench' }),
        checkServerIdentity: () => undefined,
      },
      () => {
        socket.destroy()
        resolve()
      },
    )
    socket.once('error', reject)
  })
}
