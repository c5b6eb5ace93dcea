import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { toHex } from '../../../lib/crypto/index.js'
import { Identity } from '../../../lib/identity/index.js'
import { ContactBook } from '../../../lib/node/contacts.js'
import { DeviceLinks } from '../../../lib/node/links.js'
import { routeConnections } from '../../../lib/node/router.js'
import { PairedDeviceStore } from '../../../lib/pairing/store.js'
import {
  epochKeys,
  epochOf,
  type PresenceDht,
  type PresenceDhtRecord,
  sealPresence,
} from '../../../lib/presence/index.js'
import {
  type DeliveredMessage,
  DeviceStreams,
  Messages,
  type ReceivePolicy,
  Transfers,
} from '../../../lib/transfer/index.js'

type Teardown = { teardown(fn: () => Promise<void> | void): void }

/** A temporary directory removed at teardown. */
export async function tempDir(t: Teardown, prefix = 'pairctl-transfer-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A DHT holding the presence records the devices "published", as the real one would. */
export class RecordsDht implements PresenceDht {
  readonly records = new Map<string, PresenceDhtRecord>()

  async *get(_namespace: string, key: Uint8Array) {
    const found = this.records.get(toHex(key))
    if (found !== undefined) yield found
  }

  publish(): never {
    throw new Error('not used')
  }

  /** Stores `publisher`'s record for `recipient` in the current epoch (a newer one replaces it). */
  publishFor(publisher: Identity, recipient: Identity, secret: Uint8Array, port: number): void {
    const keys = epochKeys(secret, publisher.publicKey, epochOf(Date.now()))
    const value = sealPresence(
      {
        addresses: [{ host: '127.0.0.1', port, transport: 'tcp' }],
        staticKey: publisher.noiseKeyPair.publicKey,
      },
      {
        keys,
        publisherKey: publisher.publicKey,
        recipientKey: recipient.publicKey,
        identity: publisher.keyPair,
      },
    )
    const key = toHex(keys.dhtKey)
    const seq = (this.records.get(key)?.seq ?? 0) + 1
    this.records.set(key, { publicKey: keys.signing.publicKey, seq, value, deleted: false })
  }
}

/** A paired peer a device publishes its presence record for. */
export interface Peer {
  identity: Identity
  secret: Uint8Array
}

/** One running device: links, streams, messages and transfers over a loopback listener. */
export interface Device {
  identity: Identity
  dir: string
  /** The TCP port its listener is on. */
  port: number
  links: DeviceLinks
  streams: DeviceStreams
  transfers: Transfers
  messages: Messages
  received: DeliveredMessage[]
  /** Closes everything (as a clean shutdown would). */
  stop(): Promise<void>
}

/** Options of one device. */
export interface DeviceOptions {
  policy?: ReceivePolicy
  downloads?: string
  keepFinished?: number
}

/** Starts a device on `dir` with `identity`, publishing its address in `dht`. */
export async function startDevice(
  dht: RecordsDht,
  identity: Identity,
  dir: string,
  options: DeviceOptions = {},
  peers: Peer[] = [],
): Promise<Device> {
  const store = await PairedDeviceStore.open(dir)
  const contacts = await ContactBook.open(dir)
  const links = new DeviceLinks({ identity, store, dial: { identity, dht, contacts } })
  const streams = new DeviceStreams()
  links.carry(streams.tenants)
  const received: DeliveredMessage[] = []
  const messages = new Messages(streams)
  messages.on('message', (message) => received.push(message))
  const transfers = new Transfers({ dir, streams, ...options })
  await transfers.load()
  const server: Server = createServer()
  routeConnections(server, {
    pairing: (socket) => socket.destroy(),
    reconnect: (socket, address) => links.accept(socket, address),
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  for (const peer of peers) dht.publishFor(identity, peer.identity, peer.secret, port)
  let stopped: Promise<void> | null = null
  const stop = () => {
    stopped ??= (async () => {
      await links.close()
      await transfers.close()
      await new Promise((resolve) => server.close(resolve))
    })()
    return stopped
  }
  return { identity, dir, port, links, streams, transfers, messages, received, stop }
}

/** Two paired devices `a` and `b` in temporary directories, linked once `start()`ed. */
export async function pairedDevices(t: Teardown, options: { a?: DeviceOptions; b?: DeviceOptions } = {}) {
  // Removed after the devices stopped, so no state write races the removal.
  const root = await mkdtemp(join(tmpdir(), 'pairctl-transfer-'))
  const dht = new RecordsDht()
  const ids = { a: Identity.generate(), b: Identity.generate() }
  const secret = randomBytes(32)
  const dirs = { a: join(root, 'a'), b: join(root, 'b') }
  for (const [self, peer] of [
    ['a', 'b'],
    ['b', 'a'],
  ] as const) {
    const store = await PairedDeviceStore.open(dirs[self])
    await store.add({
      deviceId: ids[peer].deviceId,
      identityKey: ids[peer].publicKey,
      name: peer,
      type: 'test',
      pairedAt: Date.now(),
      addresses: [],
      presenceSecret: secret,
    })
  }
  const running = new Set<Device>()
  const start = async (name: 'a' | 'b', override?: DeviceOptions) => {
    const peer = { identity: ids[name === 'a' ? 'b' : 'a'], secret }
    const device = await startDevice(dht, ids[name], dirs[name], override ?? options[name], [peer])
    running.add(device)
    device.links.start()
    return device
  }
  t.teardown(async () => {
    for (const device of running) await device.stop()
    await rm(root, { recursive: true, force: true })
  })
  return { root, dht, ids, dirs, secret, start }
}

/** Resolves once `links` has a link to `deviceId`. */
export function online(links: DeviceLinks, deviceId: string): Promise<void> {
  if (links.isOnline(deviceId)) return Promise.resolve()
  return new Promise((resolve) => {
    const on = (id: string) => {
      if (id !== deviceId) return
      links.off('online', on)
      resolve()
    }
    links.on('online', on)
  })
}
