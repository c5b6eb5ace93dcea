import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { toHex } from '../../lib/crypto/index.js'
import { Identity } from '../../lib/identity/index.js'
import { DeviceLinks } from '../../lib/node/links.js'
import { routeConnections } from '../../lib/node/router.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import { encodePresence, type PresenceDht, type PresenceDhtRecord } from '../../lib/presence/index.js'
import { tempDir } from './helpers/network.js'

/** A DHT holding one presence record per identity, as the real one would after each node published. */
class RecordsDht implements PresenceDht {
  readonly records = new Map<string, PresenceDhtRecord>()

  async *get(_namespace: string, _key: Uint8Array, options: { publicKey?: Uint8Array }) {
    const found = this.records.get(toHex(options.publicKey!))
    if (found !== undefined) yield found
  }

  publish(): never {
    throw new Error('not used')
  }
}

/** A device: identity, store, listener routed to its links. */
async function device(t: Parameters<typeof tempDir>[0], dht: RecordsDht, dir: string) {
  const identity = Identity.generate()
  const store = await PairedDeviceStore.open(dir)
  const links = new DeviceLinks({ identity, store, dial: { identity, dht } })
  const server: Server = createServer()
  routeConnections(server, {
    pairing: (socket) => socket.destroy(),
    reconnect: (socket, address) => links.accept(socket, address),
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  const value = encodePresence({
    addresses: [{ host: '127.0.0.1', port, transport: 'tcp' }],
    staticKey: identity.noiseKeyPair.publicKey,
  })
  dht.records.set(toHex(identity.publicKey), { publicKey: identity.publicKey, seq: 1, value, deleted: false })
  t.teardown(async () => {
    await links.close()
    await new Promise((resolve) => server.close(resolve))
  })
  return { identity, store, links }
}

type Device = Awaited<ReturnType<typeof device>>

async function pairStores(a: Device, b: Device): Promise<void> {
  const entry = (peer: Device) => ({
    deviceId: peer.identity.deviceId,
    identityKey: peer.identity.publicKey,
    name: peer.identity.deviceId,
    type: 'test',
    pairedAt: Date.now(),
    addresses: [],
  })
  await a.store.add(entry(b))
  await b.store.add(entry(a))
}

/** Two devices on one records DHT, each holding the other in its paired-device store. */
async function pairedDevices(t: Parameters<typeof tempDir>[0]) {
  const dir = await tempDir(t)
  const dht = new RecordsDht()
  const a = await device(t, dht, join(dir, 'a'))
  const b = await device(t, dht, join(dir, 'b'))
  await pairStores(a, b)
  return { dht, a, b }
}

/** Polls `done` every 50 ms for at most `ms`. */
async function until(done: () => boolean, ms: number): Promise<void> {
  for (let waited = 0; !done() && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50))
}

function online(links: DeviceLinks, deviceId: string): Promise<void> {
  if (links.isOnline(deviceId)) return Promise.resolve()
  return new Promise((resolve) => links.on('online', (id) => id === deviceId && resolve()))
}

function received(links: DeviceLinks): Promise<string> {
  return new Promise((resolve) => links.once('message', (message) => resolve(message.text)))
}

t.test('two devices dialing each other at once keep one and the same link', async (t) => {
  const { a, b } = await pairedDevices(t)
  a.links.start()
  b.links.start()
  await Promise.all([online(a.links, b.identity.deviceId), online(b.links, a.identity.deviceId)])
  // Both dialed, so each normally sees a second link and settles it (counted). Rarely the higher ID's
  // own link is closed by the peer before the winning one reaches it: it then counts nothing and goes
  // offline for a moment. Either way, after the dust settles, both are online over one shared link.
  const settled = () => a.links.counters.duplicates + b.links.counters.duplicates
  await until(() => settled() >= 2, 1000)
  t.ok(settled() >= 1, `the duplicate link was settled (${settled()} side(s) counted it)`)
  await Promise.all([online(a.links, b.identity.deviceId), online(b.links, a.identity.deviceId)])
  // Each side sends on the link it kept: both arrive only if both kept the same one.
  const atB = received(b.links)
  const atA = received(a.links)
  await a.links.send(b.identity.deviceId, 'from a')
  await b.links.send(a.identity.deviceId, 'from b')
  t.equal(await atB, 'from a')
  t.equal(await atA, 'from b')
})

t.test('a link that drops is redialed after backoff; a withdrawn record means not found', async (t) => {
  const { dht, a, b } = await pairedDevices(t)
  a.links.start()
  await online(a.links, b.identity.deviceId)
  const failures = a.links.counters.dialFailures
  const record = dht.records.get(toHex(b.identity.publicKey))!
  dht.records.set(toHex(b.identity.publicKey), { ...record, seq: 2, value: new Uint8Array(0), deleted: true })
  const offline = new Promise((resolve) => a.links.once('offline', resolve))
  await b.links.close()
  await offline
  t.equal(a.links.isOnline(b.identity.deviceId), false)
  t.type(a.links.lastSeen(b.identity.deviceId), 'number')
  await until(() => a.links.counters.dialFailures !== failures, 3000)
  t.ok(a.links.counters.dialFailures > failures, 'redialed within the first backoff delay and found nothing')
})

t.test('a corrupt presence record is skipped: the device stays offline, nothing throws', async (t) => {
  const { dht, a, b } = await pairedDevices(t)
  const record = dht.records.get(toHex(b.identity.publicKey))!
  dht.records.set(toHex(b.identity.publicKey), { ...record, value: Uint8Array.of(0xa1, 0x61, 0x76, 0x02) })
  a.links.start()
  await until(() => a.links.counters.dialFailures !== 0, 3000)
  t.equal(a.links.counters.badRecords, 1, 'counted as a bad record')
  t.equal(a.links.counters.dialFailures, 1, 'the attempt failed (PRESENCE_NOT_FOUND) and will be retried')
  t.equal(a.links.isOnline(b.identity.deviceId), false)
  t.equal(a.links.lastSeen(b.identity.deviceId), null, 'never seen')
})
