import { DhtNode } from '../dht/node.js'
import type { DhtOpener, NetworkDht } from './network.js'

/**
 * Opens the node's `lib/dht` node (`spec/dht.md` §11) and waits for its join lookup, so that the first
 * pairing already finds peers. A node without bootstrap entries is the first node of its own network.
 */
export const openDht: DhtOpener = async ({ host, port, bootstrap }) => {
  const node = await DhtNode.create({ host, port, bootstrap })
  try {
    await node.ready()
  } catch (err) {
    await node.close()
    throw err
  }
  return adapt(node)
}

/** The DHT node as {@link NetworkDht}; `raw` keeps the node for STUN sharing its port (bootstrap mode). */
export function adapt(node: DhtNode): NetworkDht & { raw: DhtNode } {
  return {
    raw: node,
    get: (namespace, key, options) => node.get(namespace, key, options),
    publish: (namespace, key, value, options) => node.publish(namespace, key, value, options),
    address: () => node.address(),
    routingTableSize: () => node.stats().tableSize,
    externalAddress: () => node.externalAddress(),
    close: () => node.close(),
  }
}
