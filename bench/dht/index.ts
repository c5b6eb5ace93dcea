/**
 * DHT benchmark (issue 4): pairctl's DHT side by side with bittorrent-dht and dht-rpc, N nodes each in
 * this process on 127.0.0.1, then pairctl alone for FIND_NODE service rate and a large in-memory
 * simulation. See `spec/dht.md` §12 for the targets.
 */
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { randomBytes } from '../../lib/crypto/index.js'
import { encodeAddress, nodeIdOf } from '../../lib/dht/address.js'
import { DhtCore } from '../../lib/dht/core.js'
import { compare, xor } from '../../lib/dht/lookup.js'
import { decodeMessage, encodeRequest, encodeResponse } from '../../lib/dht/messages.js'
import { MemoryNetwork } from '../../lib/dht/sim.js'
import { type Benchmark, type BenchOptions, type Metric, median, nowMs, quantile } from '../harness.js'
import { bittorrentSwarm, dhtRpcSwarm, pairctlSwarm, type Swarm, wire } from './swarms.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Nodes of each warm-up swarm before a heap measurement. */
const WARM_UP = 50

interface SwarmFigures {
  latency: number[]
  datagrams: number
  bytes: number
  largest: number
  recall: number
  churnLatency: number[]
  churnRecall: number
  heapPerNodeKb: number
  memoryPerNodeKb: number
  putGet: number
}

async function measureSwarm(
  make: (size: number) => Promise<Swarm>,
  size: number,
  lookups: number,
): Promise<SwarmFigures> {
  // Two swarms first, so module initialisation and the code V8 compiles for a swarm (once per process)
  // are not charged to the nodes: the figure is what one more node costs. After a single 10-node
  // warm-up, pairctl measured 31 KB per node at N=30; after these, 7 KB.
  for (const warmUp of [WARM_UP, WARM_UP]) await (await make(Math.min(warmUp, size))).close()
  const before = await settledMemory()
  const swarm = await make(size)
  const after = await settledMemory()
  const heapPerNodeKb = (after.heap - before.heap) / size / 1024
  const memoryPerNodeKb = (after.heap + after.arrayBuffers - before.heap - before.arrayBuffers) / size / 1024
  try {
    await runLookups(swarm, 5)
    wire.largest = 0
    const sent = { ...wire }
    const clean = await runLookups(swarm, lookups)
    const datagrams = (wire.datagrams - sent.datagrams) / lookups
    const bytes = (wire.bytes - sent.bytes) / lookups
    const largest = wire.largest
    let putGet = Number.NaN
    if (swarm.putGet !== undefined) putGet = await successRate(swarm, Math.min(10, lookups))
    for (let i = 1; i < size; i += 5) await swarm.kill(i)
    const churn = await runLookups(swarm, lookups)
    return {
      latency: clean.latency,
      datagrams,
      bytes,
      largest,
      recall: clean.recall,
      churnLatency: churn.latency,
      churnRecall: churn.recall,
      heapPerNodeKb,
      memoryPerNodeKb,
      putGet,
    }
  } finally {
    await swarm.close()
  }
}

async function successRate(swarm: Swarm, tries: number): Promise<number> {
  const live = swarm.ids().flatMap((id, index) => (id === null ? [] : [index]))
  let found = 0
  for (let i = 0; i < tries; i++)
    found += (await swarm.putGet!(live[i % live.length]!, live[(i * 7 + 3) % live.length]!)) ? 1 : 0
  return found / tries
}

async function runLookups(swarm: Swarm, count: number): Promise<{ latency: number[]; recall: number }> {
  const latency: number[] = []
  let recallSum = 0
  const live = swarm.ids().flatMap((id, index) => (id === null ? [] : [index]))
  for (let i = 0; i < count; i++) {
    const from = live[(i * 31 + 7) % live.length]!
    const target = randomBytes(swarm.idLength)
    const start = nowMs()
    const found = await swarm.lookup(from, target)
    latency.push(nowMs() - start)
    recallSum += recallOf(swarm, from, target, found)
  }
  return { latency, recall: recallSum / count }
}

function recallOf(swarm: Swarm, from: number, target: Uint8Array, found: Uint8Array[]): number {
  const own = swarm.ids()[from]
  const truth = swarm
    .ids()
    .filter((id): id is Uint8Array => id !== null && id !== own)
    .sort((a, b) => compare(xor(a, target), xor(b, target)))
    .slice(0, 20)
  const got = new Set(found.map((id) => Buffer.from(id).toString('hex')))
  return truth.filter((id) => got.has(Buffer.from(id).toString('hex'))).length / truth.length
}

/**
 * Heap in use, and ArrayBuffer memory (off the JS heap: socket buffers, and received datagrams that
 * contacts or records are views of), once timers of closed nodes have fired and garbage is collected.
 */
async function settledMemory(): Promise<{ heap: number; arrayBuffers: number }> {
  for (let i = 0; i < 3; i++) {
    await pause(300)
    gc()
  }
  const usage = process.memoryUsage()
  return { heap: usage.heapUsed, arrayBuffers: usage.arrayBuffers }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function swarmMetrics(size: number, figures: Record<string, SwarmFigures>): Metric[] {
  const anchors = (pick: (f: SwarmFigures) => number) => ({
    'bittorrent-dht': pick(figures['bittorrent-dht']!),
    'dht-rpc': pick(figures['dht-rpc']!),
  })
  const metric = (
    name: string,
    unit: string,
    better: Metric['better'],
    pick: (f: SwarmFigures) => number,
    note?: string,
  ) => ({
    name: `${name} N=${size}`,
    unit,
    better,
    pairctl: pick(figures.pairctl!),
    anchors: anchors(pick),
    ...(note === undefined ? {} : { note }),
  })
  return [
    metric('lookup latency median', 'ms', 'lower', (f) => median(f.latency)),
    metric('lookup latency p90', 'ms', 'lower', (f) => quantile(f.latency, 0.9)),
    metric(
      'datagrams per lookup',
      'datagrams',
      'lower',
      (f) => f.datagrams,
      'all traffic during the lookups, both directions',
    ),
    metric('bytes per lookup', 'bytes', 'lower', (f) => f.bytes),
    metric('largest datagram', 'bytes', 'lower', (f) => f.largest),
    metric('recall of the true 20 closest', 'fraction', 'higher', (f) => f.recall),
    metric('lookup latency after 20% silently die, median', 'ms', 'lower', (f) => median(f.churnLatency)),
    metric('lookup latency after 20% silently die, max', 'ms', 'lower', (f) => Math.max(...f.churnLatency)),
    metric('recall after 20% silently die', 'fraction', 'higher', (f) => f.churnRecall),
    metric(
      'heap per node',
      'KB',
      'lower',
      (f) => f.heapPerNodeKb,
      'all N nodes in one process, after two 50-node warm-up swarms (compiled code is per process, not per node); ' +
        'every pairctl node pays for its own state: no cache of per-peer state is shared between nodes (each keeps ' +
        'its contacts as one-byte strings and hashes ids it does not hold)',
    ),
    metric(
      'heap + ArrayBuffers per node',
      'KB',
      'lower',
      (f) => f.memoryPerNodeKb,
      'adds ArrayBuffer memory outside the JS heap: both anchors keep node ids as views of the datagrams they ' +
        'arrived in, which keeps those datagrams alive; pairctl copies what it keeps',
    ),
    {
      name: `PUT then GET from another node, success N=${size}`,
      unit: 'fraction',
      better: 'higher',
      pairctl: figures.pairctl!.putGet,
      anchors: { 'bittorrent-dht': figures['bittorrent-dht']!.putGet },
      note: 'pairctl: signed record, namespace pairing; bittorrent-dht: BEP 44 immutable put/get; dht-rpc has no store',
    },
  ]
}

/** FIND_NODE requests one core answers per second (sans-I/O: decode, verify id, closest 20, encode). */
function findNodeRate(quick: boolean): Metric {
  const now = 1_800_000_000_000
  const address = { host: '10.0.0.1', port: 4000 }
  const core = new DhtCore({
    family: 4,
    mode: 'server',
    address,
    now,
    limits: { requestsPerSecond: Number.POSITIVE_INFINITY },
  })
  for (let i = 0; i < 300; i++) fillTable(core, MemoryNetwork.addressOf(i + 1), now)
  const from = { host: '10.200.0.1', port: 5000 }
  const requests = Array.from({ length: 64 }, (_, t) =>
    encodeRequest({ t, c: 1, to: encodeAddress(address), id: nodeIdOf(from) }, { tg: randomBytes(32) }),
  )
  const count = quick ? 20_000 : 200_000
  const start = nowMs()
  for (let i = 0; i < count; i++) {
    core.receive(requests[i & 63]!, from, now + i)
    core.pollTransmit()
  }
  return {
    name: 'FIND_NODE requests served per second, one core',
    unit: 'req/s',
    better: 'higher',
    pairctl: Math.round(count / ((nowMs() - start) / 1000)),
    anchors: {},
    note: `table of ${core.contacts().length} nodes; no anchor exposes a comparable sans-I/O entry point`,
  }
}

/** Adds `peer` to `core`'s table the way the network does: it sends a request, then answers our PING. */
function fillTable(core: DhtCore, peer: { host: string; port: number }, now: number): void {
  const self = encodeAddress({ host: '10.0.0.1', port: 4000 })
  core.receive(encodeRequest({ t: 1, c: 0, to: self, id: nodeIdOf(peer) }, {}), peer, now)
  for (let out = core.pollTransmit(); out !== null; out = core.pollTransmit()) {
    const probe = decodeMessage(out.data)
    if (probe?.y !== 0) continue
    const reply = encodeResponse({ t: probe.t, c: probe.c, to: self, id: nodeIdOf(peer) }, {}, 1200)
    if (reply !== null) core.receive(reply, peer, now)
  }
}

/** Hops and success of lookups in a large in-memory network, before and after 20% churn. */
function simulation(size: number): Metric[] {
  const net = new MemoryNetwork({ seed: 9 })
  while (net.nodes.length < size) {
    const batch = Array.from({ length: Math.min(100, size - net.nodes.length) }, () =>
      net.addNode({ limits: { refreshMs: 3_600_000 } }),
    )
    net.runUntil(
      () => batch.every((node) => node.events.some((event) => event.type === 'bootstrapped')),
      60_000,
    )
  }
  net.runFor(30_000)
  const before = simLookups(net, 100)
  for (let i = 1; i < net.nodes.length; i += 5) net.kill(net.nodes[i]!)
  const after = simLookups(net, 100)
  const metric = (name: string, unit: string, better: Metric['better'], value: number): Metric => ({
    name: `${name}, ${size}-node simulation`,
    unit,
    better,
    pairctl: value,
    anchors: {},
    note: 'in-memory network, 5-25 ms links; success = all 20 true closest live nodes found',
  })
  return [
    metric('lookup requests', 'requests', 'lower', before.requests),
    metric('lookup success', 'fraction', 'higher', before.success),
    metric('lookup success at 20% churn', 'fraction', 'higher', after.success),
    metric('lookup time at 20% churn (virtual)', 'ms', 'lower', after.time),
  ]
}

function simLookups(net: MemoryNetwork, count: number): { requests: number; success: number; time: number } {
  let requests = 0
  let success = 0
  const times: number[] = []
  const live = net.nodes.filter((node) => node.alive)
  for (let i = 0; i < count; i++) {
    const node = live[(i * 7919) % live.length]!
    const target = randomBytes(32)
    const sentBefore = node.core.counters.datagramsOut
    const start = net.now
    const query = net.act(node, (core, now) => core.findNode(target, now))
    let closest: Uint8Array[] = []
    net.runUntil(() => {
      const done = node.events.find((event) => event.type === 'queryDone' && event.query === query)
      if (done?.type === 'queryDone') closest = done.closest.map((contact) => contact.id)
      return done !== undefined
    }, 60_000)
    times.push(net.now - start)
    requests += node.core.counters.datagramsOut - sentBefore
    const truth = live.filter((other) => other !== node).map((other) => other.core.id)
    truth.sort((a, b) => compare(xor(a, target), xor(b, target)))
    const got = new Set(closest.map((id) => Buffer.from(id).toString('hex')))
    success += truth.slice(0, 20).every((id) => got.has(Buffer.from(id).toString('hex'))) ? 1 : 0
  }
  return { requests: requests / count, success: success / count, time: median(times) }
}

const benchmark: Benchmark = {
  name: 'dht',
  async run({ quick }: BenchOptions): Promise<Metric[]> {
    const metrics: Metric[] = []
    for (const size of quick ? [30] : [100, 300]) {
      const lookups = quick ? 10 : 30
      const figures: Record<string, SwarmFigures> = {}
      for (const make of [pairctlSwarm, bittorrentSwarm, dhtRpcSwarm]) {
        const name =
          make === pairctlSwarm ? 'pairctl' : make === bittorrentSwarm ? 'bittorrent-dht' : 'dht-rpc'
        figures[name] = await measureSwarm(make, size, lookups)
      }
      metrics.push(...swarmMetrics(size, figures))
    }
    metrics.push(findNodeRate(quick))
    metrics.push(...simulation(quick ? 1_000 : 10_000))
    return metrics
  },
}

export default benchmark
