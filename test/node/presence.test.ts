import t from 'tap'
import { network, nextEvent, pair, sees, untilOnline } from './helpers/network.js'

t.test('paired nodes link at once and both report the other online', async (t) => {
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
  t.match(alice.status('test').paired, [{ deviceId: bob.deviceId, online: true }])
  t.match(bob.status('test').paired, [{ deviceId: alice.deviceId, online: true }])
})

t.test('a closed node goes offline; restarted from its directory it is online again', async (t) => {
  const { make } = await network(t)
  const alice = await make('alice')
  const bob = await make('bob')
  await pair(alice, bob)
  await untilOnline(alice, bob)
  await untilOnline(bob, alice)
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
  t.same(received, [{ v: 1, type: 'error', code: 'PRESENCE_NOT_PAIRED' }], 'told why, then closed')
  t.equal(alice.linkCounters().refused, 1, 'counted')
  t.same(alice.peers(), [])
})
