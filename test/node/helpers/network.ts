import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { PairingProgress } from '../../../lib/control/protocol.js'
import { createNode, type NodeEventMap, type PairctlNode } from '../../../lib/node/index.js'

type Teardown = { teardown(fn: () => Promise<void> | void): void }

/** A temporary directory removed at teardown. */
export async function tempDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-node-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A loopback DHT seed node and a factory of devices bootstrapping from it (closed at teardown). */
export async function network(t: Teardown) {
  const dir = await tempDir(t)
  const seed = await createNode({ dir: join(dir, 'seed'), host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${seed.status('test').listen[0]!.port}`]
  const nodes = new Set<PairctlNode>()
  const make = async (name: string) => {
    const node = await createNode({
      dir: join(dir, name),
      host: '127.0.0.1',
      bootstrap,
      deviceInfo: { name, type: 'laptop' },
    })
    nodes.add(node)
    return node
  }
  t.teardown(async () => {
    await Promise.all([...nodes].map((node) => node.close()))
    await seed.close()
  })
  return { seed, make, dir, bootstrap }
}

/** The code of a generate run. */
export async function codeOf(run: AsyncIterable<PairingProgress>): Promise<string> {
  for await (const step of run) {
    if (step.type === 'code') return step.code
    if (step.type === 'failed') throw new Error(`${step.code}: ${step.message}`)
  }
  throw new Error('the run ended without a code')
}

/** Pairs `a` (generates) with `b` (joins). */
export async function pair(a: PairctlNode, b: PairctlNode): Promise<void> {
  const generating = a.generate()
  const joining = b.join(await codeOf(generating))
  await Promise.all([generating.result, joining.result])
}

/** Resolves with the first `type` event of `node` whose data satisfies `match`. */
export function nextEvent<K extends keyof NodeEventMap>(
  node: PairctlNode,
  type: K,
  match: (data: NodeEventMap[K][0]) => boolean = () => true,
): Promise<NodeEventMap[K][0]> {
  return new Promise((resolve) => {
    const listener = (data: NodeEventMap[K][0]) => {
      if (!match(data)) return
      ;(node.off as (type: K, listener: (data: NodeEventMap[K][0]) => void) => void)(type, listener)
      resolve(data)
    }
    ;(node.on as (type: K, listener: (data: NodeEventMap[K][0]) => void) => void)(type, listener)
  })
}

/** True when `node`'s status shows `peer` online. */
export function sees(node: PairctlNode, peer: PairctlNode): boolean {
  return node.peers().some((device) => device.deviceId === peer.deviceId && device.online === true)
}

/** Waits until `node` reports `peer` online (event or already). */
export async function untilOnline(node: PairctlNode, peer: PairctlNode): Promise<void> {
  const online = nextEvent(node, 'device-online', (data) => data.deviceId === peer.deviceId)
  if (!sees(node, peer)) await online
}
