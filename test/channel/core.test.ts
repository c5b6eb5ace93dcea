/** The sans-I/O channel core on a virtual clock (spec/noise.md §3-§6). */
import t from 'tap'
import { FRAME_TYPE, MAX_MESSAGE_LENGTH } from '../../lib/channel/constants.js'
import { Transport } from '../../lib/channel/transport.js'
import { randomBytes, utf8 } from '../../lib/crypto/index.js'
import { SecureHandshake } from '../../lib/noise/secure-handshake.js'
import { deriveStaticKey } from '../../lib/noise/static-key.js'
import { alice, bob, core, drain, errorCode, events, openPair, received, shuttle } from './helpers/cores.js'

t.test('handshake, messages both ways, close both ways', async (t) => {
  const a = core('initiator', { payload: utf8('hello') })
  const b = core('responder')
  shuttle(a, b)
  const [opened] = events(b)
  t.equal(opened?.type, 'handshake')
  t.same(opened?.type === 'handshake' && opened.info.remotePayload, utf8('hello'))
  t.equal(events(a)[0]?.type, 'handshake')
  a.sendMessage(utf8('ping'), 1)
  b.receive(drain(a), 1)
  t.same(received(events(b)), utf8('ping'))
  b.sendMessage(new Uint8Array(0), 2)
  a.receive(drain(b), 2)
  const [empty] = events(a)
  t.same(empty, { type: 'data', chunks: [] }, 'an empty message is delivered')
  a.close(3)
  b.receive(drain(a), 3)
  t.same(events(b), [{ type: 'end' }])
  t.throws(() => a.sendMessage(utf8('late'), 4), { code: 'CHANNEL_CLOSED', remote: false })
  b.sendMessage(utf8('half-closed'), 4)
  a.receive(drain(b), 4)
  t.same(received(events(a)), utf8('half-closed'))
})

t.test('stream data is split at 65518 bytes and small writes are coalesced', async (t) => {
  const [a, b] = openPair()
  const big = randomBytes(2 * MAX_MESSAGE_LENGTH + 10)
  a.sendData([big], 0)
  const frames = a.pollTransmit()!
  const lengths = frames.filter((piece) => piece.length === 3).map((head) => head.readUInt16BE(0))
  t.same(lengths, [65535, 65535, 10 + 17])
  b.receive(Buffer.concat(frames), 0)
  t.ok(received(events(b)).equals(big))
  a.sendData([utf8('a'), utf8('bc'), utf8('def')], 0)
  const small = drain(a)
  t.equal(small.length, 2 + 1 + 6 + 16, 'three writes in one frame')
  b.receive(small, 0)
  t.same(received(events(b)).toString(), 'abcdef')
})

t.test('frames split across arbitrary chunk boundaries decode the same', async (t) => {
  const [a, b] = openPair()
  const messages = [randomBytes(1), randomBytes(70_000).subarray(0, MAX_MESSAGE_LENGTH), randomBytes(300)]
  for (const message of messages) a.sendMessage(message, 0)
  const wire = drain(a)
  for (let offset = 0; offset < wire.length; offset += 7) b.receive(wire.subarray(offset, offset + 7), 0)
  const got = events(b).map((event) => (event.type === 'data' ? Buffer.concat(event.chunks) : event.type))
  t.ok(got.every((message, i) => Buffer.isBuffer(message) && message.equals(messages[i]!)))
  t.equal(got.length, 3)
})

t.test('a message given in pieces arrives as one message, their concatenation', async (t) => {
  const [a, b] = openPair()
  const pieces = [
    utf8('head:'),
    randomBytes(40_000),
    new Uint8Array(0),
    randomBytes(MAX_MESSAGE_LENGTH - 40_005),
  ]
  a.sendMessage(pieces, 0)
  a.sendMessage([utf8('next')], 0)
  b.receive(drain(a), 0)
  const got = events(b).map((event) => (event.type === 'data' ? Buffer.concat(event.chunks) : event.type))
  t.equal(got.length, 2, 'two frames, not one per piece')
  t.ok(Buffer.isBuffer(got[0]) && got[0].equals(Buffer.concat(pieces)))
  t.same(got[1], utf8('next'))
})

t.test('oversized messages are refused locally, whole or in pieces', async (t) => {
  const [a] = openPair()
  t.throws(() => a.sendMessage(new Uint8Array(MAX_MESSAGE_LENGTH + 1), 0), {
    code: 'CHANNEL_MESSAGE_TOO_LARGE',
  })
  const pieces = [new Uint8Array(MAX_MESSAGE_LENGTH), Uint8Array.of(1)]
  t.throws(() => a.sendMessage(pieces, 0), { code: 'CHANNEL_MESSAGE_TOO_LARGE' })
  t.equal(a.pollTransmit(), null, 'nothing was sealed')
})

t.test('rekey happens every rekeyInterval messages in each direction', async (t) => {
  const [a, b] = openPair({ rekeyInterval: 3 }, { rekeyInterval: 3 })
  for (let i = 0; i < 10; i++) a.sendMessage(Uint8Array.of(i), 0)
  b.receive(drain(a), 0)
  t.same([...received(events(b))], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  const [c, d] = openPair({ rekeyInterval: 3 }, { rekeyInterval: 4 })
  for (let i = 0; i < 4; i++) c.sendMessage(Uint8Array.of(i), 0)
  d.receive(drain(c), 0)
  const list = events(d)
  t.same([...received(list)], [0, 1, 2], 'a peer that does not rekey cannot read past the interval')
  t.equal(errorCode(list), 'NOISE_DECRYPT_FAILED')
})

t.test('handshake timeout: a silent peer fails the core at the deadline', async (t) => {
  const a = core('initiator', { handshakeTimeoutMs: 500 }, 1000)
  t.equal(a.pollTimeout(), 1500)
  a.handleTimeout(1499)
  t.equal(a.phase, 'handshake')
  a.handleTimeout(1500)
  t.equal(errorCode(events(a)), 'CHANNEL_HANDSHAKE_TIMEOUT')
  t.equal(a.pollTimeout(), null)
})

t.test('keepalives keep an idle channel open; a silent peer hits the idle timeout', async (t) => {
  const [a, b] = openPair({ keepaliveMs: 100, idleTimeoutMs: 350 }, { keepaliveMs: 100, idleTimeoutMs: 350 })
  for (let now = 100; now <= 1000; now += 100) {
    a.handleTimeout(now)
    b.handleTimeout(now)
    shuttle(a, b, now)
  }
  t.same([...events(a), ...events(b)], [], 'keepalives are not delivered as messages')
  t.equal(a.phase, 'open')
  for (let now = 1100; now <= 1300; now += 100) a.handleTimeout(now)
  t.equal(a.pollTimeout(), 1350, 'idle deadline: last frame from the peer at 1000 + 350')
  a.handleTimeout(1350)
  t.equal(errorCode(events(a)), 'CHANNEL_IDLE_TIMEOUT')
})

t.test('end of stream: during the handshake, mid-frame, and without a close frame', async (t) => {
  const a = core('initiator')
  a.receiveEnd()
  t.equal(errorCode(events(a)), 'CHANNEL_CLOSED')
  const [b, c] = openPair()
  b.sendMessage(utf8('cut'), 0)
  c.receive(drain(b).subarray(0, 5), 0)
  c.receiveEnd()
  t.equal(errorCode(events(c)), 'CHANNEL_TRUNCATED')
  const [d, e] = openPair()
  e.receiveEnd()
  t.equal(errorCode(events(e)), 'CHANNEL_TRUNCATED', 'a FIN is not an authenticated close')
  d.close(0)
  const [f, g] = openPair()
  f.close(0)
  g.receive(drain(f), 0)
  g.receiveEnd()
  t.same(events(g), [{ type: 'end' }], 'FIN after the close frame is fine')
})

t.test('oversized, truncated and garbage frames are typed errors', async (t) => {
  const a = core('responder')
  a.receive(Uint8Array.of(0xff, 0xff, 1, 2, 3), 0)
  t.equal(errorCode(events(a)), 'CHANNEL_FRAME_TOO_LARGE')
  const b = core('responder')
  b.receive(Buffer.concat([Uint8Array.of(0, 20), randomBytes(20)]), 0)
  t.equal(errorCode(events(b)), 'NOISE_BAD_MESSAGE', 'too short for an ephemeral key')
  const c = core('initiator')
  c.receive(Buffer.concat([Uint8Array.of(0, 120), randomBytes(120)]), 0)
  t.equal(errorCode(events(c)), 'NOISE_DECRYPT_FAILED')
  const [, d] = openPair()
  d.receive(Buffer.concat([Uint8Array.of(0, 40), randomBytes(40)]), 0)
  t.equal(errorCode(events(d)), 'NOISE_DECRYPT_FAILED')
  const [, e] = openPair()
  e.receive(Buffer.concat([Uint8Array.of(0, 5), randomBytes(5)]), 0)
  t.equal(errorCode(events(e)), 'CHANNEL_PROTOCOL_ERROR')
  e.receive(randomBytes(100), 0)
  t.same(events(e), [], 'input after a failure is ignored')
})

t.test('replayed XX messages fail against a fresh responder', async (t) => {
  const a = core('initiator')
  const b = core('responder')
  const first = drain(a)
  b.receive(first, 0)
  a.receive(drain(b), 0)
  const third = drain(a)
  const fresh = core('responder')
  fresh.receive(first, 0)
  t.ok(drain(fresh).length > 0, 'the replayed first message gets a reply with a new ephemeral key')
  fresh.receive(third, 0)
  t.equal(errorCode(events(fresh)), 'NOISE_DECRYPT_FAILED')
})

t.test('a replayed IK first message opens nothing usable', async (t) => {
  const remoteStaticKey = deriveStaticKey(bob).publicKey
  const a = core('initiator', { pattern: 'IK', remoteStaticKey })
  const b = core('responder', { pattern: 'IK' })
  const first = drain(a)
  b.receive(first, 0)
  a.receive(drain(b), 0)
  a.sendMessage(utf8('transfer 100'), 0)
  const transport = drain(a)
  const replay = core('responder', { pattern: 'IK' })
  replay.receive(Buffer.concat([first, transport]), 0)
  const list = events(replay)
  t.equal(list[0]?.type, 'handshake', 'IK responders finish on the first message (0-RTT identity)')
  t.equal(errorCode(list), 'NOISE_DECRYPT_FAILED', 'but the replayed transport message does not decrypt')
  t.same(received(list), Buffer.alloc(0), 'and no data is delivered')
})

t.test('IK with a wrong responder static key fails at the responder', async (t) => {
  const a = core('initiator', { pattern: 'IK', remoteStaticKey: deriveStaticKey(alice).publicKey })
  const b = core('responder', { pattern: 'IK' })
  b.receive(drain(a), 0)
  t.equal(errorCode(events(b)), 'NOISE_DECRYPT_FAILED')
})

t.test('a peer that sends after its close frame is a protocol error; unknown types too', async (t) => {
  const victim = core('responder')
  const peer = new SecureHandshake({ role: 'initiator', identity: alice })
  victim.receive(frame(peer.writeMessage()), 0)
  peer.readMessage(drain(victim).subarray(2))
  victim.receive(frame(peer.writeMessage()), 0)
  const transport = new Transport(peer.result().transport)
  const close = Buffer.concat(transport.seal(FRAME_TYPE.close, [], 0))
  const late = Buffer.concat(transport.seal(FRAME_TYPE.data, [utf8('late')], 4))
  victim.receive(Buffer.concat([close, late]), 0)
  const list = events(victim)
  t.same(
    list.map((e) => e.type),
    ['handshake', 'end', 'error'],
  )
  t.equal(errorCode(list), 'CHANNEL_PROTOCOL_ERROR')
  const [, other] = openPair()
  t.equal(other.phase, 'open')
})

function frame(message: Uint8Array): Buffer {
  const prefix = Buffer.alloc(2)
  prefix.writeUInt16BE(message.length)
  return Buffer.concat([prefix, message])
}
