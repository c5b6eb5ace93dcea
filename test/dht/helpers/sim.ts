import type { Ed25519KeyPair } from '../../../lib/crypto/index.js'
import { sha256, toHex, utf8 } from '../../../lib/crypto/index.js'
import type { DhtCoreOptions } from '../../../lib/dht/core.js'
import type { DhtEvent } from '../../../lib/dht/events.js'
import { compare, xor } from '../../../lib/dht/lookup.js'
import type { DhtRecord } from '../../../lib/dht/record.js'
import type { Contact } from '../../../lib/dht/routing.js'
import { MemoryNetwork, type MemoryNetworkOptions, type SimNode } from '../../../lib/dht/sim.js'

/** A deterministic 32-byte value for test targets and keys. */
export function testId(label: string): Uint8Array {
  return sha256(utf8(label))
}

/** Builds an n-node network, joining nodes in batches so each finds a populated network. */
export function buildNetwork(
  n: number,
  options: MemoryNetworkOptions = {},
  core: Partial<DhtCoreOptions> = {},
  batch = 50,
): MemoryNetwork {
  const net = new MemoryNetwork({ seed: 42, ...options })
  while (net.nodes.length < n) {
    const joined: SimNode[] = []
    for (let i = 0; i < batch && net.nodes.length < n; i++) joined.push(net.addNode(core))
    net.runUntil(() => joined.every((node) => hasEvent(node, (e) => e.type === 'bootstrapped')), 60_000)
  }
  net.runFor(2_000)
  return net
}

function hasEvent(node: SimNode, predicate: (event: DhtEvent) => boolean): boolean {
  return node.events.some(predicate)
}

/** Runs a query until its final event; returns every event of that query. */
function runQuery(
  net: MemoryNetwork,
  node: SimNode,
  start: () => number,
  final: DhtEvent['type'],
): DhtEvent[] {
  const query = net.act(node, start)
  const mine = (event: DhtEvent) => 'query' in event && event.query === query
  net.runUntil(() => hasEvent(node, (e) => mine(e) && e.type === final), 120_000)
  return node.events.filter(mine)
}

/** FIND_NODE from `node`; the converged closest contacts. */
export function lookup(net: MemoryNetwork, node: SimNode, target: Uint8Array): Contact[] {
  const events = runQuery(net, node, () => node.core.findNode(target, net.now), 'queryDone')
  const done = events.find((event) => event.type === 'queryDone')
  return done?.type === 'queryDone' ? done.closest : []
}

/** GET from `node`: every verified record the lookup streamed. */
export function getRecords(
  net: MemoryNetwork,
  node: SimNode,
  namespace: string,
  key: Uint8Array,
): DhtRecord[] {
  const events = runQuery(net, node, () => node.core.get(namespace, key, net.now), 'queryDone')
  return events.flatMap((event) => (event.type === 'records' ? event.records : []))
}

/** PUT from `node`; how many nodes stored it. */
export function putRecord(
  net: MemoryNetwork,
  node: SimNode,
  record: { namespace: string; key: Uint8Array; value: Uint8Array; keyPair: Ed25519KeyPair; ttlMs: number },
): number {
  const { namespace, key, value, keyPair, ttlMs } = record
  const events = runQuery(
    net,
    node,
    () => node.core.put(namespace, key, value, { keyPair, ttlMs }, net.now),
    'putDone',
  )
  const done = events.find((event) => event.type === 'putDone')
  return done?.type === 'putDone' ? done.stored : -1
}

/** Fraction of the true k closest live server ids (other than the querier) that `found` contains. */
export function recall(
  net: MemoryNetwork,
  querier: SimNode,
  target: Uint8Array,
  found: Contact[],
  k = 20,
): number {
  const truth = net.nodes
    .filter((node) => node.alive && node !== querier)
    .map((node) => node.core.id)
    .sort((a, b) => compare(xor(a, target), xor(b, target)))
    .slice(0, k)
  const got = new Set(found.map((contact) => toHex(contact.id)))
  return truth.filter((id) => got.has(toHex(id))).length / truth.length
}
