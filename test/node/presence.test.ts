import t from 'tap'
import type { PairctlNode } from '../../lib/node/index.js'
import { network, nextEvent, pair, sees, untilOnline } from './helpers/network.js'

/** A network with alice and bob paired and each seeing the other online. */
async function linkedPair(t: Parameters<typeof network>[0]) {
  const { make } = await network(t)
  const alice = await make('alice')
  const bob = await make('bob')
  await pair(alice, bob)
  await untilOnline(alice, bob)
  await untilOnline(bob, alice)
  return { make, alice, bob }
}

t.test('paired nodes link at once and both report the other online, with the path', async (t) => {
  const { make } = await network(t)
  const alice = await make('alice')
  const bob = await make('bob')
  t.same(alice.peers(), [], 'nothing paired yet')
  const aliceSeesBob = nextEvent(alice, 'device-online', (data) => data.deviceId === bob.deviceId)
  await pair(alice, bob)
  const event = await aliceSeesBob
  t.match(event, { deviceId: bob.deviceId, name: 'bob', online: true })
  t.type(event.lastSeen, 'string')
  await untilOnline(bob, alice)
  // Loopback: a direct path on both ends, not relayed.
  t.match(alice.status('test').paired, [{ deviceId: bob.deviceId, online: true, path: 'direct' }])
  t.match(bob.status('test').paired, [{ deviceId: alice.deviceId, online: true, path: 'direct' }])
  t.notOk(alice.status('test').paired[0]?.relayed)
})

t.test('a closed node goes offline; restarted from its directory it is online again', async (t) => {
  const { make, alice, bob } = await linkedPair(t)
  const offline = nextEvent(alice, 'device-offline', (data) => data.deviceId === bob.deviceId)
  await bob.close()
  t.match(await offline, { deviceId: bob.deviceId, online: false })
  const [peer] = alice.peers()
  t.equal(peer?.online, false)
  t.ok(peer?.lastSeen !== null && Date.parse(peer!.lastSeen!) <= Date.now(), 'last seen when the link closed')

  const again = nextEvent(alice, 'device-online', (data) => data.deviceId === bob.deviceId)
  const bob2 = await make('bob')
  t.equal(bob2.deviceId, bob.deviceId, 'same identity')
  await again
  await untilOnline(bob2, alice)
  t.ok(sees(alice, bob2) && sees(bob2, alice), 'both online again through presence and Noise IK')
})

t.test('a device that is not paired is refused after its IK handshake', async (t) => {
  const { make } = await network(t)
  const alice = await make('alice')
  const carol = await make('carol')
  const { connect } = await import('node:net')
  const { reconnectChannel } = await import('../../lib/node/dial.js')
  const { decodeLinkMessage, encodePreamble } = await import('../../lib/presence/index.js')
  const port = alice.status('test').listen.find((address) => address.protocol === 'tcp')!.port
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(encodePreamble('reconnect'))
  const remote = { staticKey: alice.identity.noiseKeyPair.publicKey, identityKey: alice.identity.publicKey }
  const channel = await reconnectChannel(socket, carol.identity, { role: 'initiator', remote })
  const received: unknown[] = []
  for await (const message of channel.messages()) received.push(decodeLinkMessage(message))
  t.same(received, [{ v: 2, type: 'error', code: 'PRESENCE_NOT_PAIRED' }], 'told why, then closed')
  t.equal(alice.linkCounters().refused, 1, 'counted')
  t.same(alice.peers(), [])
})

t.test('messages go over the link; offline devices and oversized texts are typed errors', async (t) => {
  const { alice, bob } = await linkedPair(t)
  const received = nextEvent(bob, 'message')
  t.match(await alice.send('bob', 'hello bob'), { deviceId: bob.deviceId, name: 'bob' })
  const message = await received
  t.match(message, { deviceId: alice.deviceId, name: 'alice', text: 'hello bob' })
  t.ok(Date.parse(message.receivedAt) <= Date.now())
  const back = nextEvent(alice, 'message')
  await bob.send(alice.deviceId, 'hi alice')
  t.match(await back, { deviceId: bob.deviceId, name: 'bob', text: 'hi alice' })
  await t.rejects(alice.send('bob', 'x'.repeat(20_000)), { code: 'PRESENCE_BAD_OPTION' })
  await t.rejects(alice.send('carol', 'hi'), { code: 'NODE_UNKNOWN_DEVICE' })
  const offline = nextEvent(alice, 'device-offline')
  await bob.close()
  await offline
  await t.rejects(alice.send('bob', 'are you there?'), { code: 'PRESENCE_OFFLINE' })
})

/** Counts `node`'s device-online and device-offline events about `peer`. */
function flaps(node: PairctlNode, peer: PairctlNode): { count: number } {
  const counter = { count: 0 }
  const count = (data: { deviceId: string }) => data.deviceId === peer.deviceId && counter.count++
  node.on('device-online', count)
  node.on('device-offline', count)
  return counter
}

t.test('unpair removes the pairing on both devices; the other does not flap', async (t) => {
  const { alice, bob } = await linkedPair(t)
  const events = flaps(bob, alice)
  const bobRemoves = nextEvent(bob, 'device-removed', (data) => data.deviceId === alice.deviceId)
  t.match(await alice.unpair('bob'), { deviceId: bob.deviceId })
  t.match(await bobRemoves, { deviceId: alice.deviceId, name: 'alice' })
  t.same(alice.peers(), [])
  t.same(bob.peers(), [], 'bob removed alice too')
  // Over 10 s bob neither redials alice (she would refuse it) nor reports her going online/offline.
  await new Promise((resolve) => setTimeout(resolve, 10_000))
  t.ok(events.count <= 2, `bob saw ${events.count} online/offline events about alice`)
  t.equal(alice.linkCounters().refused, 0, 'bob never dialed alice again')
})

t.test('a device unpaired while offline removes the pairing at its next contact', async (t) => {
  const { make, alice, bob } = await linkedPair(t)
  await bob.close()
  await alice.unpair('bob')
  // bob comes back: alice no longer publishes a record for it, so it dials her last-known contact,
  // is refused as not paired, and removes her.
  const bob2 = await make('bob')
  const events = flaps(bob2, alice)
  if (bob2.peers().length > 0)
    await nextEvent(bob2, 'device-removed', (data) => data.deviceId === alice.deviceId)
  t.same(bob2.peers(), [])
  t.ok(alice.linkCounters().refused >= 1, 'alice refused bob once')
  t.equal(events.count, 0, 'bob never counted alice online')
})

t.test('a connection that does not start with a preamble is closed unanswered', async (t) => {
  const { make } = await network(t)
  const alice = await make('alice')
  const { connect } = await import('node:net')
  const port = alice.status('test').listen.find((address) => address.protocol === 'tcp')!.port
  const socket = connect({ host: '127.0.0.1', port })
  let answered = 0
  socket.on('data', (chunk: Buffer) => (answered += chunk.length))
  socket.on('error', () => {})
  socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
  await new Promise((resolve) => socket.once('close', resolve))
  t.equal(answered, 0, 'closed without a byte')
})
