import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, sha256, toHex, utf8 } from '../../lib/crypto/index.js'
import { encodeAddress } from '../../lib/dht/address.js'
import { Command, WireError } from '../../lib/dht/constants.js'
import type { DhtEvent } from '../../lib/dht/events.js'
import { compare, xor } from '../../lib/dht/lookup.js'
import { decodeMessage, encodeRequest } from '../../lib/dht/messages.js'
import { type DhtRecord, signRecord, storageTarget } from '../../lib/dht/record.js'
import type { MemoryNetwork, SimNode } from '../../lib/dht/sim.js'
import {
  epochKeys,
  epochOf,
  openPresence,
  presenceConstants,
  SEALED_PRESENCE_BYTES,
  sealPresence,
} from '../../lib/presence/index.js'
import { buildNetwork, putRecord } from '../dht/helpers/sim.js'

// Attack tests of `spec/presence.md` §3.3 and §3.4 in a 60-node in-memory swarm: every node except the
// three devices is an outsider that records every datagram it receives. Source endpoints are left out of
// what an outsider may link by: an endpoint is what anyone who exchanges packets with a device learns.

const { PRESENCE_EPOCH_MS, PRESENCE_NAMESPACE } = presenceConstants
const TTL_MS = 20 * 60_000

interface Device {
  name: string
  node: SimNode
  identity: Ed25519KeyPair
}

/** Who publishes or looks up what: the ground truth an outsider is not told. */
interface Triple {
  publisher: string
  recipient: string
  epoch: number
}

/** What one outsider saw: per datagram, the triple it concerned and the record fields in it. */
type Seen = { triple: string; identifiers: string[] }[]

function setup() {
  const net = buildNetwork(60, { seed: 7 }, { limits: { refreshMs: 3_600_000 } })
  const devices = ['alice', 'bob', 'carol'].map((name, i) => ({
    name,
    node: net.nodes[10 + 17 * i]!,
    identity: Ed25519KeyPair.fromSeed(sha256(utf8(`identity ${name}`))),
  }))
  const deviceNodes = new Set(devices.map((device) => device.node))
  const identityKeys = devices.map((device) => Buffer.from(device.identity.publicKey))
  const seen = new Map<SimNode, Seen>()
  const sawIdentityKey = new Set<SimNode>()
  let current = ''
  for (const node of net.nodes) {
    if (deviceNodes.has(node)) continue
    seen.set(node, [])
    const receive = node.core.receive.bind(node.core)
    node.core.receive = (data, from, now) => {
      if (identityKeys.some((key) => Buffer.from(data).includes(key))) sawIdentityKey.add(node)
      const message = decodeMessage(data)
      if (message?.ns !== undefined)
        seen.get(node)!.push({ triple: current, identifiers: identifiersOf(message) })
      return receive(data, from, now)
    }
  }
  const during = <T>(triple: Triple, action: () => T): T => {
    current = `${triple.publisher}>${triple.recipient}@${triple.epoch}`
    try {
      return action()
    } finally {
      current = ''
    }
  }
  return { net, devices, seen, sawIdentityKey, during }
}

/** Every record-related byte string of a datagram, as hex: key, publisher filter, record fields. */
function identifiersOf(message: NonNullable<ReturnType<typeof decodeMessage>>): string[] {
  const records = [...(message.r ? [message.r] : []), ...(message.rs ?? [])]
  return [
    ...(message.k ? [toHex(message.k)] : []),
    ...(message.pk ? [toHex(message.pk)] : []),
    ...records.flatMap((record) => [toHex(record.p), toHex(record.g), toHex(record.v)]),
  ]
}

/** Outsiders that saw one identifier in datagrams of two triples that `related` pairs up. */
function linkers(seen: Map<SimNode, Seen>, related: (a: string, b: string) => boolean): number {
  let count = 0
  for (const observations of seen.values()) {
    const triplesOf = new Map<string, Set<string>>()
    for (const { triple, identifiers } of observations)
      for (const id of identifiers) triplesOf.set(id, (triplesOf.get(id) ?? new Set()).add(triple))
    const links = [...triplesOf.values()].some((triples) =>
      [...triples].some((a) => [...triples].some((b) => a !== b && related(a, b))),
    )
    if (links) count++
  }
  return count
}

const parse = (triple: string) => {
  const [pair, epoch] = triple.split('@')
  const [publisher, recipient] = pair!.split('>')
  return { publisher, recipient, epoch }
}
const acrossEpochs = (a: string, b: string) => {
  const [x, y] = [parse(a), parse(b)]
  return x.publisher === y.publisher && x.recipient === y.recipient && x.epoch !== y.epoch
}
const acrossPeers = (a: string, b: string) => {
  const [x, y] = [parse(a), parse(b)]
  return x.publisher === y.publisher && x.recipient !== y.recipient && x.epoch === y.epoch
}

/** A GET from `node` for (namespace, key) of publisher `publicKey`: the verified records it streamed. */
function getRecords(net: MemoryNetwork, node: SimNode, key: Uint8Array, publicKey: Uint8Array, ns: string) {
  const query = net.act(node, (core, now) => core.get(ns, key, now, publicKey))
  const mine = (event: DhtEvent) => 'query' in event && event.query === query
  net.runUntil(() => node.events.some((event) => mine(event) && event.type === 'queryDone'), 120_000)
  return node.events.filter(mine).flatMap((event) => (event.type === 'records' ? event.records : []))
}

const PAIRS: [string, string][] = [
  ['alice', 'bob'],
  ['alice', 'carol'],
  ['bob', 'alice'],
  ['carol', 'alice'],
]
const address = { host: '10.1.2.3', port: 4000, transport: 'tcp' as const }

t.test('v2: outsiders see no identity key and link no records across epochs or peers', async (t) => {
  const { net, devices, seen, sawIdentityKey, during } = setup()
  const byName = new Map(devices.map((device) => [device.name, device]))
  const secrets = new Map<string, Uint8Array>()
  const secretOf = (a: string, b: string) => {
    const name = [a, b].sort().join('+')
    if (!secrets.has(name)) secrets.set(name, sha256(utf8(`presence secret ${name}`)))
    return secrets.get(name)!
  }
  const lengths = new Set<number>()
  let opened = 0
  for (let round = 0; round < 2; round++) {
    const epoch = epochOf(net.now)
    for (const [publisherName, recipientName] of PAIRS) {
      const publisher = byName.get(publisherName)!
      const recipient = byName.get(recipientName)!
      const keys = epochKeys(secretOf(publisherName, recipientName), publisher.identity.publicKey, epoch)
      const context = {
        keys,
        publisherKey: publisher.identity.publicKey,
        recipientKey: recipient.identity.publicKey,
      }
      const value = sealPresence(
        { addresses: [address], staticKey: new Uint8Array(32).fill(round + 1) },
        { ...context, identity: publisher.identity },
      )
      lengths.add(value.length)
      const triple = { publisher: publisherName, recipient: recipientName, epoch }
      const stored = during(triple, () =>
        putRecord(net, publisher.node, {
          namespace: PRESENCE_NAMESPACE,
          key: keys.dhtKey,
          value,
          keyPair: keys.signing,
          ttlMs: TTL_MS,
        }),
      )
      t.ok(stored >= 15, `${publisherName}'s record for ${recipientName} stored on ${stored} nodes`)
      const found = during(triple, () =>
        getRecords(net, recipient.node, keys.dhtKey, keys.signing.publicKey, PRESENCE_NAMESPACE),
      )
      if (found.length > 0 && openPresence(found[0]!.value, context).addresses[0]?.port === 4000) opened++
    }
    net.runFor(PRESENCE_EPOCH_MS)
  }
  t.equal(opened, 8, 'every recipient found and opened its record, in both epochs')
  t.same([...lengths], [SEALED_PRESENCE_BYTES], 'every value has the same size')
  t.equal(seen.size, 57, '57 outsiders recorded what they received')
  t.equal(sawIdentityKey.size, 0, 'no outsider received any identity key')
  t.equal(linkers(seen, acrossEpochs), 0, "no outsider links a pair's records of two epochs")
  t.equal(linkers(seen, acrossPeers), 0, "no outsider links a device's records for two peers")
})

t.test('control, v1 records (under the identity key): the same observers do link them', async (t) => {
  // The v1 scheme, replayed in the `pairing` namespace (presence keys are owned now): one plaintext record
  // per device at SHA-256("pairctl/presence/v1" || identity key), signed by the identity key.
  const { net, devices, seen, sawIdentityKey, during } = setup()
  const byName = new Map(devices.map((device) => [device.name, device]))
  for (let round = 0; round < 2; round++) {
    const epoch = epochOf(net.now)
    for (const [publisherName, recipientName] of PAIRS) {
      const publisher = byName.get(publisherName)!
      const key = sha256(utf8('pairctl/presence/v1'), publisher.identity.publicKey)
      const value = encodeCbor({ v: 1, addrs: [address], noise: new Uint8Array(32).fill(1) })
      const triple = { publisher: publisherName, recipient: recipientName, epoch }
      during(triple, () =>
        putRecord(net, publisher.node, {
          namespace: 'pairing',
          key,
          value,
          keyPair: publisher.identity,
          ttlMs: 10 * 60_000,
        }),
      )
      const recipient = byName.get(recipientName)!
      during(triple, () => getRecords(net, recipient.node, key, publisher.identity.publicKey, 'pairing'))
    }
    net.runFor(PRESENCE_EPOCH_MS)
  }
  t.ok(sawIdentityKey.size >= 20, `${sawIdentityKey.size} outsiders received an identity key`)
  t.ok(linkers(seen, acrossEpochs) >= 15, `${linkers(seen, acrossEpochs)} outsiders link records over time`)
  t.ok(linkers(seen, acrossPeers) >= 15, `${linkers(seen, acrossPeers)} outsiders link a device's two peers`)
})

/**
 * A squatter with its own client, which skips every local check: for each of the 20 nodes closest to the
 * record's storage target, it fetches a write token with a GET and PUTs its own signed record. Returns how
 * many of them stored it.
 */
function squat(
  net: MemoryNetwork,
  from: SimNode,
  namespace: string,
  key: Uint8Array,
  keyPair: Ed25519KeyPair,
) {
  const target = storageTarget(namespace, key)
  const storers = net.nodes
    .filter((node) => node !== from)
    .sort((a, b) => compare(xor(a.core.id, target), xor(b.core.id, target)))
    .slice(0, 20)
  const now = Math.floor(net.now)
  const fields = { seq: now, expiresAt: now + 10 * 60_000, value: utf8('junk') }
  const record = signRecord(namespace, key, fields, keyPair)
  let stored = 0
  for (const storer of storers) {
    const to = encodeAddress(storer.address)
    const get = encodeRequest({ t: 1, c: Command.GET, to }, { ns: namespace, k: key })
    const token = ask(storer, from, get, net.now)?.tk
    const put = encodeRequest({ t: 2, c: Command.PUT, to }, { ns: namespace, k: key, tk: token, r: record })
    const reply = ask(storer, from, put, net.now)
    if (reply !== null && (reply.e ?? WireError.OK) === WireError.OK) stored++
  }
  return stored
}

/** Delivers a request to `storer` as if from `from`; its response (by transaction id), or null. */
function ask(storer: SimNode, from: SimNode, request: Uint8Array, now: number) {
  const t = decodeMessage(request)!.t
  storer.core.receive(request, from.address, now)
  for (let out = storer.core.pollTransmit(now); out !== null; out = storer.core.pollTransmit(now)) {
    const message = decodeMessage(out.data)
    if (message?.y === 1 && message.t === t) return message
  }
  return null
}

t.test('squatting: junk publishers cannot fill a presence key; the owner is stored and found', async (t) => {
  const { net, devices } = setup()
  const [alice, bob] = devices as [Device, Device]
  const secret = sha256(utf8('presence secret alice+bob'))
  const keys = epochKeys(secret, alice.identity.publicKey, epochOf(net.now))
  const junk = Array.from({ length: 10 }, (_, i) => Ed25519KeyPair.fromSeed(sha256(utf8(`junk ${i}`))))
  const squatAll = (namespace: string, key: Uint8Array) =>
    junk.map((keyPair, i) => squat(net, net.nodes[40 + i]!, namespace, key, keyPair))
  t.same(squatAll(PRESENCE_NAMESPACE, keys.dhtKey), Array(10).fill(0), 'no storing node took any junk record')
  t.throws(
    () =>
      net.act(net.nodes[40]!, (core, now) =>
        core.put(PRESENCE_NAMESPACE, keys.dhtKey, utf8('junk'), { keyPair: junk[0]!, ttlMs: TTL_MS }, now),
      ),
    { code: 'DHT_BAD_ARGUMENT' },
    'our own client refuses to publish at a key it does not own',
  )
  const context = { keys, publisherKey: alice.identity.publicKey, recipientKey: bob.identity.publicKey }
  const value = sealPresence(
    { addresses: [address], staticKey: new Uint8Array(32) },
    { ...context, identity: alice.identity },
  )
  const stored = putRecord(net, alice.node, {
    namespace: PRESENCE_NAMESPACE,
    key: keys.dhtKey,
    value,
    keyPair: keys.signing,
    ttlMs: TTL_MS,
  })
  t.ok(stored >= 15, `the owner's record is stored on ${stored} nodes`)
  const found: DhtRecord[] = getRecords(
    net,
    bob.node,
    keys.dhtKey,
    keys.signing.publicKey,
    PRESENCE_NAMESPACE,
  )
  t.same(openPresence(found[0]!.value, context).addresses, [address], 'and found and opened by the peer')

  // Control: where keys are not owned (the v1 rule), 8 junk publishers fill a key on every storing node.
  const open = sha256(utf8('an unowned key'))
  const junkStored = squatAll('pairing', open)
  t.same(junkStored.slice(0, 8), Array(8).fill(20), 'eight junk records stored on all 20 storing nodes')
  const owner = putRecord(net, alice.node, {
    namespace: 'pairing',
    key: open,
    value: utf8('real'),
    keyPair: alice.identity,
    ttlMs: 10 * 60_000,
  })
  t.equal(owner, 0, 'then the real publisher is stored nowhere (STORE_FULL)')
})
