import dgram from 'node:dgram'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import type { PairingProgress } from '../../lib/control/protocol.js'
import { MDNS_GROUP } from '../../lib/discovery/constants.js'
import { createNode, type NodeOptions, type PairctlNode } from '../../lib/node/index.js'

// Two devices of one network with no bootstrap node (spec/discovery.md): LAN discovery on the loopback
// interface (asked for explicitly, as a loopback host is otherwise left out) and on an mDNS port of this
// test's own, so that nothing leaves the machine and no real responder or other test is met.
const mdnsPort = 40_000 + (process.pid % 10_000)

async function tempDir(t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-lan-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  return dir
}

function lanNode(dir: string, name: string, extra: Partial<NodeOptions> = {}): Promise<PairctlNode> {
  return createNode({
    dir: join(dir, name),
    host: '127.0.0.1',
    lanDiscovery: true,
    mdnsPort,
    deviceInfo: { name, type: 'laptop' },
    ...extra,
  })
}

async function codeOf(run: AsyncIterable<PairingProgress>): Promise<string> {
  for await (const step of run) {
    if (step.type === 'code') return step.code
    if (step.type === 'failed') throw new Error(`${step.code}: ${step.message}`)
  }
  throw new Error('the run ended without a code')
}

/** Every datagram sent to the mDNS group on `mdnsPort` while the test runs. */
async function captureMdns(t: { teardown(fn: () => void): void }): Promise<Buffer[]> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true })
  const captured: Buffer[] = []
  socket.on('message', (data) => captured.push(data))
  await new Promise<void>((resolve) => socket.bind(mdnsPort, '0.0.0.0', resolve))
  socket.addMembership(MDNS_GROUP, '127.0.0.1')
  t.teardown(() => socket.close())
  return captured
}

function contains(haystack: Buffer[], needle: Uint8Array | string): boolean {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : Buffer.from(needle)
  return haystack.some((data) => data.includes(bytes))
}

t.test('no bootstrap: a code generated while alone is joined by a device that appears later', async (t) => {
  const dir = await tempDir(t)
  const captured = await captureMdns(t)
  const alice = await lanNode(dir, 'alice')
  t.teardown(() => alice.close())
  const generating = alice.generate()
  const code = await codeOf(generating)
  t.equal(alice.status('test').dht.routingTableSize, 0, 'alice advertised with nobody else around')

  const bob = await lanNode(dir, 'bob')
  t.teardown(() => bob.close())
  const joining = bob.join(code)
  const [aliceSaw, bobSaw] = await Promise.all([generating.result, joining.result])
  t.match(aliceSaw, { deviceId: bob.deviceId, name: 'bob' })
  t.match(bobSaw, { deviceId: alice.deviceId, name: 'alice' })
  // Bob may have joined before he heard alice himself (she answers the group at most once a second, and
  // her link-peer PING made him add her): his next query finds her.
  const deadline = Date.now() + 10_000
  while (bob.status('test').dht.lan?.peers !== 1 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 50))
  t.match(bob.status('test').dht, { bootstrap: [], lan: { interfaces: ['127.0.0.1'], peers: 1 } })

  if (!bob.peers().some((peer) => peer.online))
    await new Promise<void>((resolve) => bob.once('device-online', () => resolve()))
  const received = new Promise<string>((resolve) => alice.once('message', ({ text }) => resolve(text)))
  await bob.send(alice.deviceId, 'hello over the LAN')
  t.equal(await received, 'hello over the LAN')

  // What the LAN heard: announcements and queries only, none naming a device or its keys.
  t.ok(captured.length >= 4, `${captured.length} mDNS datagrams captured`)
  for (const node of [alice, bob]) {
    t.notOk(contains(captured, node.identity.publicKey), 'no identity key')
    t.notOk(contains(captured, node.identity.noiseKeyPair.publicKey), 'no static key')
    t.notOk(contains(captured, node.deviceId), 'no device ID')
    t.notOk(contains(captured, node.deviceId.replaceAll('-', '')), 'no device ID without dashes')
    t.notOk(contains(captured, node.name), 'no device name')
  }
})

t.test('a joiner alone on its network is told no device was found, at its deadline', async (t) => {
  const dir = await tempDir(t)
  const bob = await lanNode(dir, 'bob-alone')
  t.teardown(() => bob.close())
  const started = Date.now()
  const joining = bob.join('ability-able-about-above-absent', { timeoutMs: 2_500 })
  await t.rejects(joining.result, {
    code: 'NODE_NO_PEERS',
    message: /LAN discovery found no other pairctl device on this network/,
  })
  t.ok(Date.now() - started >= 1_500, 'it kept looking instead of failing at once')
})

t.test('with LAN discovery off (the default on loopback), a lone joiner fails at once', async (t) => {
  const dir = await tempDir(t)
  const bob = await createNode({ dir: join(dir, 'bob'), host: '127.0.0.1' })
  t.teardown(() => bob.close())
  t.equal(bob.status('test').dht.lan, null, 'status says discovery is off')
  await t.rejects(bob.join('ability-able-about-above-absent', { timeoutMs: 20_000 }).result, {
    code: 'NODE_NO_PEERS',
    message: /no other node is known/,
  })
})
