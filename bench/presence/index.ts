/**
 * Presence lookup latency in one in-memory DHT swarm (`lib/dht/sim.ts`: virtual clock, 5-25 ms one-way
 * links, 300 nodes; quick: 60): a paired device finding its peer's record. pairctl is presence v2
 * (`spec/presence.md` §3.2: two epochs' derived keys looked up at once, then the record is opened and its
 * identity signature checked); the anchor is v1's lookup by identity key (one GET at
 * SHA-256("pairctl/presence/v1" || identity key) of that publisher, plaintext record), replayed in the
 * `pairing` namespace since presence keys are owned now. Same swarm, same run, alternating lookups.
 * Target: v2 latency within 1.2x of v1.
 */
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, sha256, utf8 } from '../../lib/crypto/index.js'
import type { DhtEvent } from '../../lib/dht/events.js'
import type { MemoryNetwork, SimNode } from '../../lib/dht/sim.js'
import {
  epochKeys,
  epochOf,
  lookupPresence,
  type PresenceDht,
  type PresenceDhtRecord,
  sealPresence,
} from '../../lib/presence/index.js'
import { buildNetwork, putRecord } from '../../test/dht/helpers/sim.js'
import { type Benchmark, median } from '../harness.js'

const ANCHOR = 'v1 lookup by identity key'
const TTL_MS = 10 * 60_000
const address = { host: '192.0.2.1', port: 4000, transport: 'tcp' as const }
const V1Record = z.object({ v: z.literal(1), addrs: z.array(z.unknown()), noise: z.instanceof(Uint8Array) })

/**
 * The sim as a {@link PresenceDht} for one asking node: each `get` starts its query at once and yields
 * when {@link drive} has run the network until every started query is done, so concurrent gets overlap
 * in virtual time as they would on a network.
 */
class SimDht implements PresenceDht {
  #waiting = new Map<number, () => void>()

  constructor(
    readonly net: MemoryNetwork,
    readonly node: SimNode,
  ) {}

  async *get(namespace: string, key: Uint8Array, options: { publicKey?: Uint8Array }) {
    const query = this.net.act(this.node, (core, now) => core.get(namespace, key, now, options.publicKey))
    await new Promise<void>((resolve) => this.#waiting.set(query, resolve))
    const mine = (event: DhtEvent) => 'query' in event && event.query === query
    for (const event of this.node.events.filter(mine))
      if (event.type === 'records') yield* event.records.map((record) => ({ ...record }))
  }

  publish(): never {
    throw new Error('lookups only')
  }

  /** Runs the network until every started query is done; returns the virtual ms it took. */
  drive(): number {
    const start = this.net.now
    const done = (query: number) =>
      this.node.events.some((event) => event.type === 'queryDone' && event.query === query)
    this.net.runUntil(() => [...this.#waiting.keys()].every(done), 120_000)
    for (const resolve of this.#waiting.values()) resolve()
    this.#waiting.clear()
    return this.net.now - start
  }
}

/** Starts `lookup` on `dht`, lets its gets start, drives the network; virtual ms and the result. */
async function timed<T>(dht: SimDht, lookup: () => Promise<T>): Promise<{ ms: number; result: T }> {
  const pending = lookup()
  await new Promise((resolve) => setImmediate(resolve))
  const ms = dht.drive()
  return { ms, result: await pending }
}

async function v1Lookup(dht: PresenceDht, identityKey: Uint8Array): Promise<unknown> {
  const key = sha256(utf8('pairctl/presence/v1'), identityKey)
  let best: PresenceDhtRecord | null = null
  for await (const record of dht.get('pairing', key, { publicKey: identityKey }))
    if (best === null || record.seq > best.seq) best = record
  return best === null ? null : decodeCbor(V1Record, best.value)
}

export default {
  name: 'presence',
  async run({ quick }) {
    const size = quick ? 60 : 300
    const count = quick ? 5 : 30
    const net = buildNetwork(size, { seed: 11 }, { limits: { refreshMs: 3_600_000 } })
    const asker = Ed25519KeyPair.fromSeed(sha256(utf8('asker')))
    const epoch = epochOf(net.now)
    const publishers = Array.from({ length: count }, (_, i) => {
      const identity = Ed25519KeyPair.fromSeed(sha256(utf8(`publisher ${i}`)))
      const secret = sha256(utf8(`secret ${i}`))
      const node = net.nodes[(i * 13 + 5) % size]!
      const keys = epochKeys(secret, identity.publicKey, epoch)
      const context = { keys, publisherKey: identity.publicKey, recipientKey: asker.publicKey, identity }
      const staticKey = new Uint8Array(32).fill(i)
      const sealed = sealPresence({ addresses: [address], staticKey }, context)
      putRecord(net, node, {
        namespace: 'presence',
        key: keys.dhtKey,
        value: sealed,
        keyPair: keys.signing,
        ttlMs: TTL_MS,
      })
      const plain = encodeCbor({ v: 1, addrs: [address], noise: staticKey })
      const v1Key = sha256(utf8('pairctl/presence/v1'), identity.publicKey)
      putRecord(net, node, {
        namespace: 'pairing',
        key: v1Key,
        value: plain,
        keyPair: identity,
        ttlMs: TTL_MS,
      })
      return { identity, secret }
    })
    const v1: number[] = []
    const v2: number[] = []
    const datagrams = { v1: 0, v2: 0 }
    let found = 0
    for (const [i, publisher] of publishers.entries()) {
      const dht = new SimDht(net, net.nodes[(i * 29 + 17) % size]!)
      const { counters } = dht.node.core
      const traffic = () => counters.datagramsIn + counters.datagramsOut
      const before = traffic()
      const old = await timed(dht, () => v1Lookup(dht, publisher.identity.publicKey))
      const middle = traffic()
      const peer = { identityKey: publisher.identity.publicKey, presenceSecret: publisher.secret }
      const now = net.now
      const current = await timed(dht, () => lookupPresence(dht, asker.publicKey, peer, { now }))
      datagrams.v1 += middle - before
      datagrams.v2 += traffic() - middle
      if (old.result !== null && current.result.record !== null) found++
      v1.push(old.ms)
      v2.push(current.ms)
    }
    if (found !== count) throw new Error(`only ${found} of ${count} lookups found both records`)
    const note = `${size}-node sim, ${count} lookups each, 5-25 ms links; v2 runs 2 GET lookups at once`
    return [
      {
        name: 'presence lookup latency',
        unit: 'ms (virtual)',
        better: 'lower',
        pairctl: median(v2),
        anchors: { [ANCHOR]: median(v1) },
        note,
      },
      {
        name: 'presence lookup datagrams',
        unit: 'datagrams',
        better: 'lower',
        pairctl: datagrams.v2 / count,
        anchors: { [ANCHOR]: datagrams.v1 / count },
        note: 'mean per lookup, sent and received by the asking node: v2 asks for two epochs',
      },
    ]
  },
} satisfies Benchmark
