import { createServer } from 'node:net'
import { join } from 'node:path'
import t from 'tap'
import { randomBytes, toHex } from '../../lib/crypto/index.js'
import { Identity } from '../../lib/identity/index.js'
import { ContactBook } from '../../lib/node/contacts.js'
import { preambleConnector } from '../../lib/node/dial.js'
import { DeviceLinks } from '../../lib/node/links.js'
import { RELAYED_PREFIX } from '../../lib/node/relay.js'
import { routeConnections } from '../../lib/node/router.js'
import type { AdvertAddress } from '../../lib/pairing/advert.js'
import { type Connector, tcpConnect } from '../../lib/pairing/connect.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import {
  epochKeys,
  epochOf,
  type PresenceDht,
  type PresenceDhtRecord,
  sealPresence,
} from '../../lib/presence/index.js'
import { tempDir } from './helpers/network.js'

// A relayed link moves to a direct path once one works (spec/relay.md §8.3). Alice reaches Bob through
// "the relay" (a connector standing in for it, marking the link relayed as a real relay address does)
// while Bob's direct address is blocked; then the direct path opens.

/** A DHT holding Bob's presence record for Alice. */
class OneRecordDht implements PresenceDht {
  record: { key: string; value: PresenceDhtRecord } | null = null
  async *get(_namespace: string, key: Uint8Array) {
    if (this.record?.key === toHex(key)) yield this.record.value
  }
  publish(): never {
    throw new Error('not used')
  }
}

async function device(t: Parameters<typeof tempDir>[0], dir: string, dht: PresenceDht, connect?: Connector) {
  const identity = Identity.generate()
  const store = await PairedDeviceStore.open(dir)
  const contacts = await ContactBook.open(dir)
  const links = new DeviceLinks({
    identity,
    store,
    dial: { identity, dht, contacts, ...(connect === undefined ? {} : { connect }) },
    upgradeIntervalMs: 200,
  })
  // Two listeners: the direct one, and one standing in for circuits from the relay, which the node
  // routes with a relayed address (lib/node/relay.ts), so this side too knows the link is relayed.
  const listen = async (relayed: boolean) => {
    const server = createServer()
    routeConnections(server, {
      pairing: (socket) => socket.destroy(),
      reconnect: (socket, address) => links.accept(socket, relayed ? `${RELAYED_PREFIX}${address}` : address),
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())))
    return (server.address() as { port: number }).port
  }
  const port = await listen(false)
  const relayPort = await listen(true)
  t.teardown(() => links.close())
  return { identity, store, links, port, relayPort }
}

async function until(done: () => boolean, ms: number): Promise<boolean> {
  for (let waited = 0; !done() && waited < ms; waited += 50) await new Promise((r) => setTimeout(r, 50))
  return done()
}

t.test('a relayed link moves to the direct path once it opens, with no offline in between', async (t) => {
  const dir = await tempDir(t)
  const dht = new OneRecordDht()
  let directOpen = false
  let bobRelayPort = 0
  const throughRelayOrDirect: Connector = async (address, signal) => {
    if (address.transport === 'relay')
      return tcpConnect({ host: '127.0.0.1', port: bobRelayPort, transport: 'tcp' }, signal)
    if (!directOpen) throw new Error('no route to the direct address yet')
    return tcpConnect(address, signal)
  }
  const alice = await device(t, join(dir, 'alice'), dht, preambleConnector('reconnect', throughRelayOrDirect))
  const bob = await device(t, join(dir, 'bob'), dht)
  bobRelayPort = bob.relayPort
  const secret = randomBytes(32)
  for (const [holder, held] of [
    [alice, bob],
    [bob, alice],
  ] as const)
    await holder.store.add({
      deviceId: held.identity.deviceId,
      identityKey: held.identity.publicKey,
      name: 'peer',
      type: 'test',
      pairedAt: Date.now(),
      addresses: [],
      presenceSecret: secret,
    })
  const addresses: AdvertAddress[] = [
    { host: '127.0.0.1', port: bob.port, transport: 'tcp' },
    { host: '198.51.100.7', port: 4433, transport: 'relay' },
  ]
  const keys = epochKeys(secret, bob.identity.publicKey, epochOf(Date.now()))
  const value = sealPresence(
    { addresses, staticKey: bob.identity.noiseKeyPair.publicKey },
    {
      keys,
      publisherKey: bob.identity.publicKey,
      recipientKey: alice.identity.publicKey,
      identity: bob.identity.keyPair,
    },
  )
  dht.record = {
    key: toHex(keys.dhtKey),
    value: { publicKey: keys.signing.publicKey, seq: 1, value, deleted: false },
  }

  const events: string[] = []
  alice.links.on('online', () => events.push('online'))
  alice.links.on('offline', () => events.push('offline'))
  alice.links.start()
  t.ok(await until(() => alice.links.isOnline(bob.identity.deviceId), 10_000), 'linked')
  t.equal(alice.links.isRelayed(bob.identity.deviceId), true, 'through the relay')
  t.equal(bob.links.pathOf(alice.identity.deviceId), 'relay', 'bob, reached through the relay, knows it')
  await new Promise((resolve) => setTimeout(resolve, 700))
  t.equal(alice.links.isRelayed(bob.identity.deviceId), true, 'still relayed while no direct path works')

  directOpen = true
  t.ok(await until(() => !alice.links.isRelayed(bob.identity.deviceId), 10_000), 'moved to the direct path')
  t.equal(alice.links.counters.upgrades, 1)
  t.same(events, ['online'], 'no offline and no second online on the way')
  t.ok(bob.links.isOnline(alice.identity.deviceId))
  t.equal(bob.links.isRelayed(alice.identity.deviceId), false, 'both ends keep the direct link')
  t.equal(alice.links.pathOf(bob.identity.deviceId), 'direct', 'a loopback address is a direct path')

  const received = new Promise<string>((resolve) => bob.links.once('message', (m) => resolve(m.text)))
  await alice.links.send(bob.identity.deviceId, 'over the direct path')
  t.equal(await received, 'over the direct path')
  await new Promise((resolve) => setTimeout(resolve, 700))
  t.equal(alice.links.counters.upgrades, 1, 'a direct link tries nothing more')
  t.equal(alice.links.isRelayed(bob.identity.deviceId), false)
  t.same(events, ['online'], 'the relayed link closed without taking the device offline')
})
