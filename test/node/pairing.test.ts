import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { PairingProgress } from '../../lib/control/protocol.js'
import { createNode, type NodeEvent, type PairctlNode } from '../../lib/node/index.js'

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-node-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** A loopback network of a first node (the DHT seed) and two devices bootstrapping from it. */
async function trio(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await tempDir(t)
  const seed = await createNode({ dir: join(dir, 'seed'), host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${seed.status('test').listen[0]!.port}`]
  const make = (name: string) =>
    createNode({ dir: join(dir, name), host: '127.0.0.1', bootstrap, deviceInfo: { name, type: 'laptop' } })
  const alice = await make('alice')
  const bob = await make('bob')
  t.teardown(async () => {
    await Promise.all([alice.close(), bob.close()])
    await seed.close()
  })
  return { seed, alice, bob }
}

async function collect(run: AsyncIterable<PairingProgress>): Promise<PairingProgress[]> {
  const steps: PairingProgress[] = []
  for await (const step of run) steps.push(step)
  return steps
}

async function codeOf(run: AsyncIterable<PairingProgress>): Promise<string> {
  for await (const step of run) {
    if (step.type === 'code') return step.code
    if (step.type === 'failed') throw new Error(`${step.code}: ${step.message}`)
  }
  throw new Error('the run ended without a code')
}

t.test('generate and join pair two nodes; both store the other; events report it', async (t) => {
  const { alice, bob } = await trio(t)
  const aliceEvents: NodeEvent[] = []
  const added = new Promise<void>((resolve) => alice.once('device-added', () => resolve()))
  void (async () => {
    for await (const event of alice.events()) aliceEvents.push(event)
  })()
  const generating = alice.generate()
  const joining = bob.join(await codeOf(generating))
  const [aliceSaw, bobSaw] = await Promise.all([generating.result, joining.result])
  t.match(aliceSaw, { deviceId: bob.deviceId, name: 'bob', type: 'laptop' })
  t.match(bobSaw, { deviceId: alice.deviceId, name: 'alice' })
  t.same(
    alice.devices().map((d) => d.deviceId),
    [bob.deviceId],
  )
  t.same(
    bob.devices().map((d) => d.deviceId),
    [alice.deviceId],
  )
  const steps = (await collect(generating)).map((step) => step.type)
  t.same(steps.slice(0, 2), ['code', 'advertised'])
  t.equal(steps.at(-1), 'paired')
  await added
  t.ok(aliceEvents.some((event) => event.type === 'pairing' && event.data.sessionId === generating.sessionId))
  t.ok(aliceEvents.some((event) => event.type === 'device-added' && event.data.deviceId === bob.deviceId))
  t.ok(alice.status('test').dht.routingTableSize > 0, 'the DHT has peers')
})

t.test('with confirm, both SAS are equal and declining fails both sides', async (t) => {
  const { alice, bob } = await trio(t)
  const shown: string[] = []
  const answer = (accept: boolean) => async (sas: string) => {
    shown.push(sas)
    return accept
  }
  const generating = alice.generate({ confirm: answer(true) })
  const joining = bob.join(await codeOf(generating), { confirm: answer(false) })
  await t.rejects(joining.result)
  await t.rejects(generating.result)
  t.equal(shown.length, 2)
  t.equal(shown[0], shown[1], 'both devices showed the same code')
  t.match(shown[0], /^\d{6}$/)
  t.same(alice.devices(), [])
})

t.test('cancel withdraws the advert: a join then finds nothing', async (t) => {
  const { alice, bob } = await trio(t)
  const generating = alice.generate()
  const code = await codeOf(generating)
  generating.cancel()
  await t.rejects(generating.result, { code: 'PAIRING_CANCELLED' })
  const joining = bob.join(code, { timeoutMs: 3000 })
  await t.rejects(joining.result, { code: /PAIRING_(NOT_FOUND|TIMEOUT)/ })
})

t.test('close cancels a pairing in progress, withdraws its advert and releases the instance', async (t) => {
  const { alice, bob } = await trio(t)
  const generating = alice.generate()
  const code = await codeOf(generating)
  await alice.close()
  await t.rejects(generating.result, { code: /PAIRING_CANCELLED|NODE_CLOSED/ })
  await t.rejects(bob.join(code, { timeoutMs: 3000 }).result, { code: /PAIRING_(NOT_FOUND|TIMEOUT)/ })
  const again: PairctlNode = await createNode({ dir: alice.dir, host: '127.0.0.1' })
  t.equal(again.deviceId, alice.deviceId)
  await again.close()
})

t.test('a node alone (no bootstrap, no peers) fails to advertise with a clear error', async (t) => {
  const dir = await tempDir(t)
  const node = await createNode({ dir: join(dir, 'solo'), host: '127.0.0.1' })
  t.teardown(() => node.close())
  const generating = node.generate()
  const failure = await generating.result.then(
    () => null,
    (err: Error & { code: string }) => err,
  )
  t.match(failure, {
    code: 'NODE_NO_PEERS',
    message: /the bootstrap option is empty and no other node is known\), so the code cannot be advertised/,
  })
})

/** Sockets, servers and timers alive now (file-system requests in flight are other tests' business). */
const handles = () =>
  process
    .getActiveResourcesInfo()
    .filter((type) => !type.startsWith('FSReq'))
    .sort()

t.test('close releases every socket and timer the nodes opened', async (t) => {
  const before = handles()
  const dir = await tempDir(t)
  const seed = await createNode({ dir: join(dir, 'seed'), host: '127.0.0.1' })
  const bootstrap = [`127.0.0.1:${seed.status('test').listen[0]!.port}`]
  const alice = await createNode({ dir: join(dir, 'alice'), host: '127.0.0.1', bootstrap })
  const bob = await createNode({ dir: join(dir, 'bob'), host: '127.0.0.1', bootstrap })
  const generating = alice.generate()
  await Promise.all([generating.result, bob.join(await codeOf(generating)).result])
  const pending = alice.generate()
  await codeOf(pending)
  t.ok(handles().length > before.length, 'the nodes hold sockets while open')
  await Promise.all([alice.close(), bob.close()])
  await seed.close()
  await new Promise((resolve) => setImmediate(resolve))
  t.same(handles(), before)
})
