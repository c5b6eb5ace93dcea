/**
 * The three DHTs of the benchmark behind one interface, each on 127.0.0.1 with a local first node
 * (no public bootstrap node is ever contacted), plus wire counters for datagrams, bytes and the
 * largest datagram of each.
 */
import dgram from 'node:dgram'
import { Ed25519KeyPair, randomBytes } from '../../lib/crypto/index.js'
import { DhtNode } from '../../lib/dht/node.js'

/** Wire traffic counted by patching each system's send function. */
export const wire = { datagrams: 0, bytes: 0, largest: 0 }

function count(length: number): void {
  wire.datagrams++
  wire.bytes += length
  wire.largest = Math.max(wire.largest, length)
}

function sizeOf(data: unknown): number {
  if (Array.isArray(data)) return data.reduce((sum: number, part: Uint8Array) => sum + part.length, 0)
  return (data as Uint8Array).length
}

const originalSend = dgram.Socket.prototype.send
dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: unknown[]) {
  count(sizeOf(args[0]))
  return (originalSend as (...a: unknown[]) => void).apply(this, args)
} as typeof dgram.Socket.prototype.send

/** One DHT implementation running `size` nodes in this process. */
export interface Swarm {
  name: string
  idLength: number
  /** Ids of the live nodes, by index (null once killed). */
  ids(): (Uint8Array | null)[]
  /** The closest node ids a lookup from node `from` returns. */
  lookup(from: number, target: Uint8Array): Promise<Uint8Array[]>
  /** Stores a value from node `from` and reads it back from node `to`; true when found. */
  putGet?(from: number, to: number): Promise<boolean>
  kill(index: number): Promise<void>
  close(): Promise<void>
}

/** pairctl: DhtNode on 127.0.0.1, server mode, endpoint grouping (loopback). */
export async function pairctlSwarm(size: number): Promise<Swarm> {
  const limits = { requestsPerSecond: Number.POSITIVE_INFINITY }
  const first = await DhtNode.create({ host: '127.0.0.1', limits })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const nodes: (DhtNode | null)[] = [first]
  for (let i = 1; i < size; i++) {
    const node = await DhtNode.create({ host: '127.0.0.1', bootstrap, limits })
    await node.ready()
    nodes.push(node)
  }
  const keyPair = Ed25519KeyPair.generate()
  return {
    name: 'pairctl',
    idLength: 32,
    ids: () => nodes.map((node) => node?.id ?? null),
    async lookup(from, target) {
      const out: Uint8Array[] = []
      for await (const contact of nodes[from]!.findNode(target)) out.push(contact.id)
      return out
    },
    async putGet(from, to) {
      const key = randomBytes(32)
      await nodes[from]!.put('pairing', key, randomBytes(200), { keyPair, ttlMs: 600_000 })
      for await (const _record of nodes[to]!.get('pairing', key)) return true
      return false
    },
    async kill(index) {
      await nodes[index]?.close()
      nodes[index] = null
    },
    async close() {
      await Promise.all(nodes.map((node) => node?.close()))
    },
  }
}

interface BtDht {
  nodeId: Uint8Array
  listen(port: number, host: string, cb: () => void): void
  address(): { port: number }
  lookup(target: Uint8Array, cb: (error: Error | null) => void): void
  put(options: { v: Uint8Array }, cb: (error: Error | null, hash: Uint8Array) => void): void
  get(hash: Uint8Array, cb: (error: Error | null, result: { v: Uint8Array } | null) => void): void
  destroy(cb: () => void): void
  once(event: string, cb: () => void): void
  _tables: Map<string, { closest(id: Uint8Array, n: number): { id: Uint8Array }[] }>
}

/** bittorrent-dht (BEP 5): a get_peers lookup, the nodes that replied with a token, BEP 44 put/get. */
export async function bittorrentSwarm(size: number): Promise<Swarm> {
  const DHT = (await import('bittorrent-dht' as string)).default as new (options: object) => BtDht
  const make = async (bootstrap: string[]) => {
    const dht = new DHT({ bootstrap, host: '127.0.0.1', verify: null })
    await new Promise<void>((resolve) => dht.listen(0, '127.0.0.1', resolve))
    if (bootstrap.length > 0) await new Promise<void>((resolve) => dht.once('ready', resolve))
    return dht
  }
  const first = await make([])
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const nodes: (BtDht | null)[] = [first]
  for (let i = 1; i < size; i++) nodes.push(await make(bootstrap))
  return {
    name: 'bittorrent-dht',
    idLength: 20,
    ids: () => nodes.map((node) => node?.nodeId ?? null),
    lookup: (from, target) =>
      new Promise((resolve, reject) => {
        const node = nodes[from]!
        node.lookup(target, (error) => {
          if (error) return reject(error)
          const table = node._tables.get(Buffer.from(target).toString('hex'))
          resolve((table?.closest(target, 20) ?? []).map((contact) => contact.id))
        })
      }),
    putGet: (from, to) =>
      new Promise((resolve) => {
        nodes[from]!.put({ v: randomBytes(200) }, (error, hash) => {
          if (error) return resolve(false)
          nodes[to]!.get(hash, (getError, result) => resolve(!getError && result !== null))
        })
      }),
    async kill(index) {
      await new Promise<void>((resolve) => nodes[index]?.destroy(resolve))
      nodes[index] = null
    },
    async close() {
      await Promise.all(nodes.map((node) => node && new Promise<void>((resolve) => node.destroy(resolve))))
    },
  }
}

interface RpcDht {
  id: Uint8Array | null
  address(): { port: number }
  fullyBootstrapped(): Promise<void>
  findNode(target: Uint8Array): { finished(): Promise<void>; closestReplies: { from: { id: Uint8Array } }[] }
  destroy(): Promise<void>
}

/** dht-rpc (hyperdht's routing layer): FIND_NODE queries; it has no record store of its own. */
export async function dhtRpcSwarm(size: number): Promise<Swarm> {
  await patchUdx()
  const DHT = (await import('dht-rpc' as string)).default as {
    new (options: object): RpcDht
    bootstrapper(port: number, host: string, options?: object): RpcDht
  }
  const port = 20000 + Math.floor(Math.random() * 20000)
  const first = DHT.bootstrapper(port, '127.0.0.1', { host: '127.0.0.1' })
  await first.fullyBootstrapped()
  const bootstrap = [`127.0.0.1:${port}`]
  const nodes: (RpcDht | null)[] = [first]
  for (let i = 1; i < size; i++) {
    const node = new DHT({ bootstrap, ephemeral: false, host: '127.0.0.1', firewalled: false })
    await node.fullyBootstrapped()
    nodes.push(node)
  }
  return {
    name: 'dht-rpc',
    idLength: 32,
    ids: () => nodes.map((node) => node?.id ?? null),
    async lookup(from, target) {
      const query = nodes[from]!.findNode(target)
      await query.finished()
      return query.closestReplies.map((reply) => reply.from.id)
    },
    async kill(index) {
      await nodes[index]?.destroy()
      nodes[index] = null
    },
    async close() {
      await Promise.all(nodes.map((node) => node?.destroy()))
    },
  }
}

let udxPatched = false

/** dht-rpc sends through udx-native, not dgram: count at its socket's send functions. */
async function patchUdx(): Promise<void> {
  if (udxPatched) return
  udxPatched = true
  const UDX = (await import('udx-native' as string)).default as new () => { createSocket(): object }
  const proto = Object.getPrototypeOf(new UDX().createSocket()) as Record<string, unknown>
  for (const name of ['send', 'trySend']) {
    const original = proto[name] as ((...args: unknown[]) => unknown) | undefined
    if (typeof original !== 'function') continue
    proto[name] = function (this: unknown, ...args: unknown[]) {
      count(sizeOf(args[0]))
      return original.apply(this, args)
    }
  }
}
