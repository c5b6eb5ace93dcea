/** HandshakeState misuse and malformed messages (Noise §5.3): every failure is a typed NoiseError. */
import t from 'tap'
import { randomBytes, X25519KeyPair } from '../../lib/crypto/index.js'
import { HandshakeState } from '../../lib/noise/handshake-state.js'
import { handshakePattern } from '../../lib/noise/patterns.js'

const prologue = new Uint8Array(0)
const empty = new Uint8Array(0)

function xxPair(): [HandshakeState, HandshakeState] {
  const make = (initiator: boolean) =>
    new HandshakeState({ pattern: 'XX', initiator, prologue, s: X25519KeyPair.generate() })
  return [make(true), make(false)]
}

t.test('patterns are parsed from the spec notation', async (t) => {
  const ik = handshakePattern('IK')
  t.same(ik.premessages, { initiator: [], responder: ['s'] })
  t.same(
    ik.messages.map((m) => [m.fromInitiator, m.tokens]),
    [
      [true, ['e', 'es', 's', 'ss']],
      [false, ['e', 'ee', 'se']],
    ],
  )
  const psk = handshakePattern('NNpsk0+psk2')
  t.same(psk.messages[0]!.tokens, ['psk', 'e'])
  t.same(psk.messages[1]!.tokens, ['e', 'ee', 'psk'])
  t.ok(psk.psk)
  t.throws(() => handshakePattern('QQ'), { code: 'NOISE_MISUSE' })
  t.throws(() => handshakePattern('XXpsk9'), { code: 'NOISE_MISUSE' })
})

t.test('out-of-turn calls are NOISE_MISUSE', async (t) => {
  const [initiator, responder] = xxPair()
  t.throws(() => initiator.readMessage(randomBytes(32)), { code: 'NOISE_MISUSE' })
  t.throws(() => responder.writeMessage(empty), { code: 'NOISE_MISUSE' })
  t.throws(() => initiator.split(), { code: 'NOISE_MISUSE' })
})

t.test('a truncated message is NOISE_BAD_MESSAGE and the state refuses further use', async (t) => {
  const [initiator, responder] = xxPair()
  responder.readMessage(initiator.writeMessage(empty))
  const second = responder.writeMessage(empty)
  t.throws(() => initiator.readMessage(second.subarray(0, 40)), { code: 'NOISE_BAD_MESSAGE', remote: true })
  t.throws(() => initiator.readMessage(second), { code: 'NOISE_MISUSE' })
})

t.test('a tampered message is NOISE_DECRYPT_FAILED', async (t) => {
  const [initiator, responder] = xxPair()
  responder.readMessage(initiator.writeMessage(empty))
  const second = responder.writeMessage(Uint8Array.of(1, 2, 3))
  second[40]! ^= 0x80
  t.throws(() => initiator.readMessage(second), { code: 'NOISE_DECRYPT_FAILED' })
})

t.test('a small-order ephemeral key is NOISE_BAD_KEY', async (t) => {
  const [initiator, responder] = xxPair()
  responder.readMessage(initiator.writeMessage(empty))
  const second = responder.writeMessage(empty)
  second.fill(0, 0, 32)
  t.throws(() => initiator.readMessage(second), { code: 'NOISE_BAD_KEY', remote: true })
})

t.test('a missing pre-message key is NOISE_MISUSE', async (t) => {
  t.throws(
    () => new HandshakeState({ pattern: 'IK', initiator: true, prologue, s: X25519KeyPair.generate() }),
    {
      code: 'NOISE_MISUSE',
    },
  )
})

t.test('a prologue mismatch fails the first authenticated message', async (t) => {
  const s = X25519KeyPair.generate()
  const initiator = new HandshakeState({ pattern: 'XX', initiator: true, prologue: Uint8Array.of(1), s })
  const responder = new HandshakeState({ pattern: 'XX', initiator: false, prologue: Uint8Array.of(2), s })
  responder.readMessage(initiator.writeMessage(empty))
  t.throws(() => initiator.readMessage(responder.writeMessage(empty)), { code: 'NOISE_DECRYPT_FAILED' })
})
