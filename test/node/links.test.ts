import { createServer, type Server } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import type { SecureChannel } from '../../lib/channel/index.js'
import { randomBytes, toHex } from '../../lib/crypto/index.js'
import { Identity } from '../../lib/identity/index.js'
import { ContactBook } from '../../lib/node/contacts.js'
import { reconnectChannel } from '../../lib/node/dial.js'
import { DeviceLinks } from '../../lib/node/links.js'
import { routeConnections } from '../../lib/node/router.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import {
  decodeLinkMessage,
  encodeLinkMessage,
  epochKeys,
  epochOf,
  type PresenceDht,
  type PresenceDhtRecord,
  sealPresence,
} from '../../lib/presence/index.js'
import { tempDir } from './helpers/network.js'

/** A DHT holding the presence records the devices "published", as the real one would. */
class RecordsDht implements PresenceDht {
  readonly records = new Map<string, PresenceDhtRecord>()

  async *get(_namespace: string, key: Uint8Array) {
    const found = this.records.get(toHex(key))
    if (found !== undefined) yield found
  }

  publish(): never {
    throw new Error('not used')
  }

  /** Stores `publisher`'s record for `recipient` in the current epoch; returns its DHT key (hex). */
  publishFor(publisher: Identity, recipient: Identity, secret: Uint8Array, port: number): string {
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
    this.records.set(key, { publicKey: keys.signing.publicKey, seq: 1, value, deleted: false })
    return key
  }
}

/** A device: identity, store, contacts, listener routed to its links. */
async function device(t: Parameters<typeof tempDir>[0], dht: RecordsDht, dir: string) {
  const identity = Identity.generate()
  const store = await PairedDeviceStore.open(dir)
  const contacts = await ContactBook.open(dir)
  const links = new DeviceLinks({ identity, store, dial: { identity, dht, contacts } })
  const server: Server = createServer()
  routeConnections(server, {
    pairing: (socket) => socket.destroy(),
    reconnect: (socket, address) => links.accept(socket, address),
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  t.teardown(async () => {
    await links.close()
    await new Promise((resolve) => server.close(resolve))
  })
  return { identity, store, contacts, links, port, dir }
}

type Device = Awaited<ReturnType<typeof device>>

/** `a` holds `b` in its store, with the pair's presence secret and, if given, b's address. */
async function holds(a: Device, b: Device, secret: Uint8Array, withAddress = false): Promise<void> {
  await a.store.add({
    deviceId: b.identity.deviceId,
    identityKey: b.identity.publicKey,
    name: b.identity.deviceId,
    type: 'test',
    pairedAt: Date.now(),
    addresses: withAddress ? [{ host: '127.0.0.1', port: b.port, transport: 'tcp' }] : [],
    presenceSecret: secret,
  })
}

/**
 * Two devices on one records DHT, each having published its record for the other; each holds the other
 * in its store, except that `oneSided` leaves b without a (as after an unpair on b that a missed).
 */
async function pairedDevices(t: Parameters<typeof tempDir>[0], oneSided = false) {
  const dir = await tempDir(t)
  const dht = new RecordsDht()
  const a = await device(t, dht, join(dir, 'a'))
  const b = await device(t, dht, join(dir, 'b'))
  const secret = randomBytes(32)
  await holds(a, b, secret)
  if (!oneSided) await holds(b, a, secret)
  const keys = {
    a: dht.publishFor(a.identity, b.identity, secret, a.port),
    b: dht.publishFor(b.identity, a.identity, secret, b.port),
  }
  return { dht, a, b, keys, secret, dir }
}

/** Counts `links`' online and offline events. */
function flaps(links: DeviceLinks): { count: number } {
  const counter = { count: 0 }
  links.on('online', () => counter.count++)
  links.on('offline', () => counter.count++)
  return counter
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

t.test('two devices dialing each other at once keep one and the same link, and never flap', async (t) => {
  const { a, b } = await pairedDevices(t)
  const events = { a: flaps(a.links), b: flaps(b.links) }
  a.links.start()
  b.links.start()
  await Promise.all([online(a.links, b.identity.deviceId), online(b.links, a.identity.deviceId)])
  // Both dialed, so each normally sees a second link and settles it (counted). Rarely the higher ID's
  // own link reaches it only after the winning one: then one side counts both. The loser closes 2 s
  // after the tie-break, so the peer adopts the winner before it sees the loser close.
  const settled = () => a.links.counters.duplicates + b.links.counters.duplicates
  await until(() => settled() >= 2, 1000)
  t.ok(settled() >= 1, `the duplicate link was settled (${settled()} side(s) counted it)`)
  await new Promise((resolve) => setTimeout(resolve, 2_500))
  t.same(
    { a: events.a.count, b: events.b.count },
    { a: 1, b: 1 },
    'each side went online once and never offline, also once the loser closed',
  )
  // Each side sends on the link it kept: both arrive only if both kept the same one.
  const atB = received(b.links)
  const atA = received(a.links)
  await a.links.send(b.identity.deviceId, 'from a')
  await b.links.send(a.identity.deviceId, 'from b')
  t.equal(await atB, 'from a')
  t.equal(await atA, 'from b')
})

t.test('a link that drops is redialed after backoff', async (t) => {
  const { dht, a, b, keys } = await pairedDevices(t)
  a.links.start()
  await online(a.links, b.identity.deviceId)
  const failures = a.links.counters.dialFailures
  const record = dht.records.get(keys.b)!
  dht.records.set(keys.b, { ...record, seq: 2, value: new Uint8Array(0), deleted: true })
  const offline = new Promise((resolve) => a.links.once('offline', resolve))
  await b.links.close()
  await offline
  t.equal(a.links.isOnline(b.identity.deviceId), false)
  t.type(a.links.lastSeen(b.identity.deviceId), 'number')
  await until(() => a.links.counters.dialFailures !== failures, 3000)
  t.ok(
    a.links.counters.dialFailures > failures,
    'redialed within the first backoff delay; b no longer answers',
  )
})

t.test('a corrupt presence record is skipped: the device stays offline, nothing throws', async (t) => {
  const { dht, a, b, keys } = await pairedDevices(t)
  const record = dht.records.get(keys.b)!
  dht.records.set(keys.b, { ...record, value: Uint8Array.of(0xa1, 0x61, 0x76, 0x02) })
  a.links.start()
  await until(() => a.links.counters.dialFailures !== 0, 3000)
  t.equal(a.links.counters.badRecords, 1, 'counted as a bad record')
  t.equal(
    a.links.counters.dialFailures,
    1,
    'no record, no known static key: PRESENCE_NOT_FOUND, retried later',
  )
  t.equal(a.links.isOnline(b.identity.deviceId), false)
  t.equal(a.links.lastSeen(b.identity.deviceId), null, 'never seen')
})

t.test(
  "an IK initiator counts the link online only after the responder's first transport message",
  async (t) => {
    const dir = await tempDir(t)
    const dht = new RecordsDht()
    const a = await device(t, dht, join(dir, 'a'))
    const bob = Identity.generate()
    const secret = randomBytes(32)
    // A responder that completes IK and reads `hello`, then answers only when the test says so.
    const server = createServer()
    const reached = new Promise<{ channel: SecureChannel; first: unknown }>((resolve) =>
      routeConnections(server, {
        pairing: (socket) => socket.destroy(),
        reconnect: async (socket) => {
          const channel = await reconnectChannel(socket, bob, { role: 'responder' })
          const next = await channel.messages()[Symbol.asyncIterator]().next()
          resolve({ channel, first: decodeLinkMessage(next.value as Uint8Array) })
        },
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise((resolve) => server.close(resolve)))
    dht.publishFor(bob, a.identity, secret, (server.address() as { port: number }).port)
    await a.store.add({
      deviceId: bob.deviceId,
      identityKey: bob.publicKey,
      name: 'bob',
      type: 'test',
      pairedAt: Date.now(),
      addresses: [],
      presenceSecret: secret,
    })
    a.links.start()
    const { channel, first } = await reached
    t.same(first, { v: 2, type: 'hello' }, 'IK completed and the initiator sent its hello')
    t.equal(a.links.isOnline(bob.deviceId), false, 'yet the initiator does not count the link online')
    const isOnline = online(a.links, bob.deviceId)
    await channel.send(encodeLinkMessage({ v: 2, type: 'hello' }))
    await isOnline
    t.equal(a.links.isOnline(bob.deviceId), true, "online once the responder's hello arrived")
    channel.destroy()
  },
)

t.test('a device refused as not paired removes the pairing too and stops dialing', async (t) => {
  const { a, b } = await pairedDevices(t, true)
  const events = flaps(a.links)
  const removed = new Promise<string>((resolve) =>
    a.links.once('removed', (device) => resolve(device.deviceId)),
  )
  a.links.start()
  t.equal(await removed, b.identity.deviceId, 'a learns at this contact that b unpaired and removes b')
  t.equal(a.store.get(b.identity.deviceId), undefined)
  t.equal(b.links.counters.refused, 1)
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal(b.links.counters.refused, 1, 'a did not dial again (its first backoff delay is at most 1 s)')
  t.equal(events.count, 0, 'never online, so no online/offline events')
})

t.test('unpair tells the linked peer, which removes the pairing and does not redial', async (t) => {
  const { a, b } = await pairedDevices(t)
  a.links.start()
  await Promise.all([online(a.links, b.identity.deviceId), online(b.links, a.identity.deviceId)])
  const events = flaps(b.links)
  const removed = new Promise<string>((resolve) =>
    b.links.once('removed', (device) => resolve(device.deviceId)),
  )
  await a.store.remove(b.identity.deviceId)
  await a.links.unpair(b.identity.deviceId)
  t.equal(await removed, a.identity.deviceId)
  t.equal(b.store.get(a.identity.deviceId), undefined, 'b removed a')
  t.equal(b.contacts.get(a.identity.deviceId), undefined, "and forgot a's contact")
  await new Promise((resolve) => setTimeout(resolve, 3000))
  t.equal(a.links.counters.refused, 0, 'b never dialed a again')
  t.ok(events.count <= 1, `b saw ${events.count} online/offline event(s)`)
})

t.test('a device whose record cannot be found is reached at its last-known contact', async (t) => {
  const { a, b, dir } = await pairedDevices(t)
  a.links.start()
  await online(a.links, b.identity.deviceId)
  await a.contacts.flushed()
  await a.links.close()
  // A fresh start of a: contacts from disk, and a DHT where b's record cannot be found.
  const empty = new RecordsDht()
  const contacts = await ContactBook.open(join(dir, 'a'))
  const restarted = new DeviceLinks({
    identity: a.identity,
    store: a.store,
    dial: { identity: a.identity, dht: empty, contacts },
  })
  t.teardown(() => restarted.close())
  await contacts.learn('UNPAIRED-MEANWHILE', new Uint8Array(32).fill(1))
  restarted.start()
  await online(restarted, b.identity.deviceId)
  await contacts.flushed()
  const onDisk = await ContactBook.open(join(dir, 'a'))
  t.equal(onDisk.get('UNPAIRED-MEANWHILE'), undefined, 'the contact of a device no longer paired is dropped')
  t.ok(onDisk.get(b.identity.deviceId) !== undefined, "b's contact is kept")
  t.equal(restarted.counters.badRecords, 0)
  t.equal(restarted.isOnline(b.identity.deviceId), true, 'linked through the stored static key and address')
})
