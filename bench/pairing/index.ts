/**
 * Pairing latency on loopback: from `alice.generate()` to both devices holding the other's key, through a
 * DHT of 100 nodes (quick: 20), each pairing a fresh code (publish, lookup, TCP connect, Noise XX with
 * CPace inside, key confirmation, store writes). Target: median <= 300 ms.
 *
 * Anchor: a TCP connect plus a TLS 1.2 ECDHE-PSK handshake on loopback (node:tls) — the floor of one
 * authenticated key exchange on this machine; pairing adds a DHT publish and lookup and two more round
 * trips, so the ratio says how many "TLS handshakes" a pairing costs. No system pairs through a DHT on
 * loopback with an equivalent measurement to compare against directly.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PairingProgress } from '../../lib/control/protocol.js'
import { DhtNode } from '../../lib/dht/node.js'
import { createNode, type PairctlNode } from '../../lib/node/index.js'
import { type Benchmark, median, nowMs, quantile } from '../harness.js'
import { tlsHandshakeDurations } from './tls-anchor.js'

const ANCHOR = 'TCP + TLS 1.2 ECDHE-PSK handshake (node:tls)'

async function startDht(size: number): Promise<{ nodes: DhtNode[]; bootstrap: string[] }> {
  const first = await DhtNode.create({ host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${first.address().port}`]
  const nodes = [first]
  for (let i = 1; i < size; i++) nodes.push(await DhtNode.create({ host: '127.0.0.1', bootstrap }))
  await Promise.all(nodes.map((node) => node.ready()))
  return { nodes, bootstrap }
}

async function codeOf(run: AsyncIterable<PairingProgress>): Promise<string> {
  for await (const step of run) {
    if (step.type === 'code') return step.code
    if (step.type === 'failed') throw new Error(`${step.code}: ${step.message}`)
  }
  throw new Error('generate ended without a code')
}

async function pairOnce(alice: PairctlNode, bob: PairctlNode): Promise<number> {
  const start = nowMs()
  const generating = alice.generate()
  const joining = bob.join(await codeOf(generating))
  await Promise.all([generating.result, joining.result])
  return nowMs() - start
}

async function measure(size: number, pairings: number): Promise<number[]> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-bench-'))
  const { nodes, bootstrap } = await startDht(size)
  const make = (name: string) =>
    createNode({ dir: join(dir, name), host: '127.0.0.1', bootstrap, deviceInfo: { name, type: 'bench' } })
  const [alice, bob] = [await make('alice'), await make('bob')]
  try {
    await pairOnce(alice, bob) // warm-up: JIT, routing tables
    const durations: number[] = []
    for (let i = 0; i < pairings; i++) durations.push(await pairOnce(alice, bob))
    return durations
  } finally {
    await Promise.all([alice.close(), bob.close()])
    await Promise.all(nodes.map((node) => node.close()))
    await rm(dir, { recursive: true, force: true })
  }
}

const benchmark: Benchmark = {
  name: 'pairing',
  async run({ quick }) {
    const size = quick ? 20 : 100
    const pairings = quick ? 3 : 20
    const durations = await measure(size, pairings)
    const anchor = await tlsHandshakeDurations(quick ? 10 : 50)
    const note = `${pairings} pairings after one warm-up, ${size}-node DHT, all on 127.0.0.1; target median <= 300 ms`
    return [
      {
        name: `generate→paired latency, median (${size}-node DHT)`,
        unit: 'ms',
        better: 'lower',
        pairctl: median(durations),
        anchors: { [ANCHOR]: median(anchor) },
        note,
      },
      {
        name: `generate→paired latency, p90 (${size}-node DHT)`,
        unit: 'ms',
        better: 'lower',
        pairctl: quantile(durations, 0.9),
        anchors: { [ANCHOR]: quantile(anchor, 0.9) },
        note,
      },
    ]
  },
}

export default benchmark
