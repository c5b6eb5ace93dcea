import { createServer, type Server } from 'node:net'
import { type Ed25519KeyPair, toHex } from '../../../lib/crypto/index.js'
import { Identity } from '../../../lib/identity/index.js'
import {
  generatePairing,
  type PairingDht,
  type PairingDhtRecord,
  parseCode,
} from '../../../lib/pairing/index.js'

/**
 * An in-memory DHT with the `PairingDht` shape: one shared table, records per (key, publisher),
 * withdrawals as tombstones, like `lib/dht`. `stored` exposes what a storing node would see.
 */
export class MemoryDht implements PairingDht {
  readonly stored = new Map<string, Map<string, PairingDhtRecord & { expiresAt: number }>>()
  gets = 0

  async *get(_namespace: string, key: Uint8Array): AsyncIterable<PairingDhtRecord> {
    this.gets++
    await Promise.resolve()
    for (const record of this.stored.get(toHex(key))?.values() ?? [])
      if (record.expiresAt > Date.now()) yield record
  }

  async publish(
    _namespace: string,
    key: Uint8Array,
    value: Uint8Array,
    options: { keyPair: Ed25519KeyPair; ttlMs: number },
  ): Promise<{ withdraw(): Promise<void> }> {
    const slot = this.stored.get(toHex(key)) ?? new Map()
    this.stored.set(toHex(key), slot)
    const publicKey = options.keyPair.publicKey
    slot.set(toHex(publicKey), { publicKey, value, deleted: false, expiresAt: Date.now() + options.ttlMs })
    return {
      withdraw: async () => {
        slot.set(toHex(publicKey), {
          publicKey,
          value: new Uint8Array(0),
          deleted: true,
          expiresAt: Date.now() + 60_000,
        })
      },
    }
  }

  /** Live (non-withdrawn) records. */
  live(): PairingDhtRecord[] {
    return [...this.stored.values()].flatMap((slot) => [...slot.values()]).filter((r) => !r.deleted)
  }
}

/** A TCP server on 127.0.0.1 with an ephemeral port; closed at test end. */
export async function listen(t: {
  teardown(fn: () => unknown): void
}): Promise<{ server: Server; port: number }> {
  const server = createServer()
  const sockets = new Set<import('node:net').Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resolve())
      }),
  )
  const address = server.address()
  if (address === null || typeof address === 'string') throw new Error('no port')
  return { server, port: address.port }
}

/** A fresh identity. */
export function identity(): Identity {
  return Identity.generate()
}

/**
 * Starts an advertiser ("alice-laptop") on a loopback listener and an in-memory DHT; `extra` overrides
 * any option of `generatePairing`. Cancelled at teardown of `t`.
 */
export async function startAdvertiser(
  t: { teardown(fn: () => unknown): void },
  extra: Record<string, unknown> = {},
) {
  const dht = new MemoryDht()
  const { server, port } = await listen(t)
  const alice = identity()
  const advertiser = await generatePairing({
    identity: alice,
    dht,
    listener: server,
    addresses: [{ host: '127.0.0.1', port }],
    deviceInfo: { name: 'alice-laptop', type: 'desktop' },
    ...extra,
  })
  t.teardown(() => advertiser.cancel())
  return { dht, server, port, alice, advertiser }
}

/** `code` with its last secret word changed: the right rendezvous, the wrong secret. */
export function wrongSecret(code: string): string {
  const words = parseCode(code)
  const last = words.secret.at(-1) === 'zoo' ? 'zone' : 'zoo'
  return [...words.rendezvous, ...words.secret.slice(0, -1), last].join(' ')
}
