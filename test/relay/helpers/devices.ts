import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AddressManager } from '../../../lib/addresses/index.js'
import { DhtNode } from '../../../lib/dht/node.js'
import { Identity } from '../../../lib/identity/index.js'
import { ContactBook } from '../../../lib/node/contacts.js'
import { adapt } from '../../../lib/node/dht.js'
import { preambleConnector } from '../../../lib/node/dial.js'
import { DeviceLinks } from '../../../lib/node/links.js'
import { NodeRelay, pairingConnector } from '../../../lib/node/relay.js'
import { connectionRouter } from '../../../lib/node/router.js'
import {
  generatePairing,
  joinPairing,
  openPairingChannel,
  PairedDeviceStore,
  PairingDispatcher,
  type PairingEvent,
} from '../../../lib/pairing/index.js'
import { PresencePublisher } from '../../../lib/presence/index.js'
import type { RelayAddress } from '../../../lib/relay/index.js'

type Teardown = { teardown(fn: () => unknown): void }

/**
 * A device built from the node's own parts (DHT, pairing dispatcher, preamble router, device links,
 * presence, `NodeRelay`) whose only address is the relay: no TCP listener at all, as behind a NAT that
 * allows only outbound connections. Pairing, presence and reconnects must go through the relay.
 */
export interface RelayOnlyDevice {
  name: string
  identity: Identity
  store: PairedDeviceStore
  links: DeviceLinks
  relay: NodeRelay
  dht: ReturnType<typeof adapt>
  dispatcher: PairingDispatcher
  /** Every pairing event of this device, in order. */
  events: PairingEvent[]
}

/** A loopback DHT seed; closed at teardown. */
export async function dhtSeed(t: Teardown): Promise<string[]> {
  const seed = await DhtNode.create({ host: '127.0.0.1' })
  t.teardown(() => seed.close())
  return [`127.0.0.1:${seed.address().port}`]
}

/** Starts a {@link RelayOnlyDevice} using `relays` (none: it looks in the DHT); closed at teardown. */
export async function relayOnlyDevice(
  t: Teardown,
  name: string,
  bootstrap: string[],
  relays: RelayAddress[],
): Promise<RelayOnlyDevice> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-relay-'))
  const identity = Identity.generate()
  const store = await PairedDeviceStore.open(dir)
  const dht = adapt(await DhtNode.create({ host: '127.0.0.1', bootstrap }))
  await dht.raw.ready().catch(() => {})
  const presence = new PresencePublisher({
    dht,
    keyPair: identity.keyPair,
    staticKey: identity.noiseKeyPair.publicKey,
  })
  const peers = () =>
    store
      .list()
      .flatMap(({ identityKey, presenceSecret }) => (presenceSecret ? [{ identityKey, presenceSecret }] : []))
  const links = new DeviceLinks({
    identity,
    store,
    dial: { identity, dht, contacts: await ContactBook.open(dir) },
    peersChanged: () => {
      void presence.setPeers(peers())
      relay.refresh()
    },
  })
  const dispatcher = new PairingDispatcher(openPairingChannel)
  const route = connectionRouter({
    pairing: (socket, address) => dispatcher.handleSocket(socket, address),
    reconnect: (socket, address) => links.accept(socket, address),
  })
  // An address book with no interface: the device has no address of its own to publish.
  const addresses = new AddressManager({ ports: { tcp: 1, udp: 1 }, networkInterfaces: () => ({}) })
  const relay = new NodeRelay({
    identityKey: identity.publicKey,
    devices: () => store.list(),
    configured: relays,
    dht,
    addresses,
    onCircuit: route,
  }).start()
  const publish = () => {
    const published = relay.presenceAddresses()
    if (published.length > 0) void presence.update(published)
  }
  relay.on('change', publish)
  links.start()
  t.teardown(async () => {
    relay.close()
    await links.close()
    await presence.close()
    await dht.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { name, identity, store, links, relay, dht, dispatcher, events: [] }
}

/**
 * Pairs `a` (advertising only its relay address, as `generate` does) with `b` (joining with the node's
 * connector), then lets both link, as a node does after pairing. Resolves with both sides' events.
 */
export async function pairThroughRelay(a: RelayOnlyDevice, b: RelayOnlyDevice): Promise<void> {
  const { address, release } = await a.relay.pairingAddress()
  if (address === null) throw new Error(`${a.name} got no relay reservation`)
  try {
    const advertiser = await generatePairing({
      ...common(a),
      listener: a.dispatcher,
      addresses: [address],
    })
    const joiner = joinPairing({
      ...common(b),
      code: advertiser.code,
      connect: preambleConnector('pairing', pairingConnector),
    })
    const [, , ofA, ofB] = await Promise.all([
      advertiser.result,
      joiner.result,
      collect(advertiser.events),
      collect(joiner.events),
    ])
    a.events.push(...ofA)
    b.events.push(...ofB)
  } finally {
    release()
  }
  b.relay.refresh()
  a.links.watch(b.identity.deviceId)
  b.links.watch(a.identity.deviceId)
}

function common(device: RelayOnlyDevice) {
  return {
    identity: device.identity,
    dht: device.dht,
    store: device.store,
    deviceInfo: { name: device.name, type: 'laptop' },
  }
}

async function collect(events: AsyncIterable<PairingEvent>): Promise<PairingEvent[]> {
  const all: PairingEvent[] = []
  for await (const event of events) all.push(event)
  return all
}
