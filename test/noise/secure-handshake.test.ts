/** Identity binding inside the Noise handshake (spec/noise.md §2.3-§2.5). */
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import {
  concatBytes,
  Ed25519KeyPair,
  equalBytes,
  hmacSha256,
  randomBytes,
  toHex,
  utf8,
  X25519KeyPair,
} from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/device-id.js'
import { HandshakeState } from '../../lib/noise/handshake-state.js'
import { encodeHandshakePayload, staticSignatureMessage } from '../../lib/noise/payload.js'
import {
  channelPrologue,
  SecureHandshake,
  type SecureHandshakeOptions,
} from '../../lib/noise/secure-handshake.js'
import { deriveStaticKey } from '../../lib/noise/static-key.js'

type Side = Omit<SecureHandshakeOptions, 'role'>

/** Runs both sides to completion, alternating turns; returns both results. */
function run(init: Side, resp: Side) {
  const initiator = new SecureHandshake({ ...init, role: 'initiator' })
  const responder = new SecureHandshake({ ...resp, role: 'responder' })
  while (!initiator.isFinished || !responder.isFinished) {
    const [from, to] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator]
    to.readMessage(from.writeMessage())
  }
  return [initiator.result(), responder.result()] as const
}

const alice = Ed25519KeyPair.generate()
const bob = Ed25519KeyPair.generate()

t.test('XX binds both identities; device IDs come from the verified keys', async (t) => {
  const [a, b] = run(
    { identity: alice, payload: utf8('from alice') },
    { identity: bob, payload: utf8('from bob') },
  )
  t.ok(equalBytes(a.handshakeHash, b.handshakeHash))
  t.same(a.remoteIdentityKey, bob.publicKey)
  t.same(b.remoteIdentityKey, alice.publicKey)
  t.equal(a.remoteDeviceId, deviceIdFromPublicKey(bob.publicKey))
  t.equal(b.remoteDeviceId, deviceIdFromPublicKey(alice.publicKey))
  t.same(a.remoteStaticKey, deriveStaticKey(bob).publicKey)
  t.same(a.remotePayload, utf8('from bob'))
  t.same(b.remotePayload, utf8('from alice'))
  const sealed = a.transport.send.encryptWithAd(new Uint8Array(0), utf8('x'))
  t.same(b.transport.receive.decryptWithAd(new Uint8Array(0), sealed), utf8('x'))
})

t.test('IK reconnect with the static learned in XX; KK too', async (t) => {
  const [, learned] = run({ identity: bob }, { identity: alice })
  const bobsView = learned.remoteStaticKey
  const [a, b] = run(
    { identity: bob, pattern: 'IK', remoteStaticKey: deriveStaticKey(alice).publicKey },
    {
      identity: alice,
      pattern: 'IK',
    },
  )
  t.same(b.remoteIdentityKey, bob.publicKey)
  t.same(a.remoteIdentityKey, alice.publicKey)
  t.same(b.remoteStaticKey, bobsView)
  const [k1, k2] = run(
    { identity: alice, pattern: 'KK', remoteStaticKey: deriveStaticKey(bob).publicKey },
    { identity: bob, pattern: 'KK', remoteStaticKey: deriveStaticKey(alice).publicKey },
  )
  t.ok(equalBytes(k1.handshakeHash, k2.handshakeHash))
  t.notOk(equalBytes(k1.handshakeHash, a.handshakeHash))
})

t.test('the prologue purpose separates handshakes', async (t) => {
  t.same(
    channelPrologue(utf8('pairing')),
    concatBytes(utf8('pairctl/noise/v1'), Uint8Array.of(0), utf8('pairing')),
  )
  t.throws(
    () => run({ identity: alice, prologue: utf8('pairing') }, { identity: bob, prologue: utf8('reconnect') }),
    {
      code: 'NOISE_DECRYPT_FAILED',
    },
  )
})

t.test('the static key derivation and signed bytes are as specified', async (t) => {
  const expected = X25519KeyPair.fromPrivateKey(hmacSha256(alice.seed, utf8('pairctl/noise-static-key/v1')))
  t.same(deriveStaticKey(alice).publicKey, expected.publicKey)
  t.equal(deriveStaticKey(alice), deriveStaticKey(alice), 'cached per identity object')
  const key = randomBytes(32)
  t.equal(toHex(staticSignatureMessage(key)), toHex(utf8('pairctl/noise-static/v1')) + toHex(key))
})

t.test('a signature over another static key is NOISE_BAD_IDENTITY', async (t) => {
  const prologue = channelPrologue()
  const forger = new HandshakeState({
    pattern: 'XX',
    initiator: false,
    prologue,
    s: X25519KeyPair.generate(),
  })
  const victim = new SecureHandshake({ role: 'initiator', identity: alice })
  forger.readMessage(victim.writeMessage())
  const otherStatic = X25519KeyPair.generate().publicKey
  const message = forger.writeMessage(encodeHandshakePayload(bob, otherStatic))
  t.throws(() => victim.readMessage(message), { code: 'NOISE_BAD_IDENTITY', remote: true })
})

t.test('a payload that is not the identity map is NOISE_BAD_PAYLOAD', async (t) => {
  for (const payload of [randomBytes(40), encodeCbor({ identity: bob.publicKey, sig: randomBytes(10) })]) {
    const prologue = channelPrologue()
    const forger = new HandshakeState({
      pattern: 'XX',
      initiator: false,
      prologue,
      s: X25519KeyPair.generate(),
    })
    const victim = new SecureHandshake({ role: 'initiator', identity: alice })
    forger.readMessage(victim.writeMessage())
    t.throws(() => victim.readMessage(forger.writeMessage(payload)), { code: 'NOISE_BAD_PAYLOAD' })
  }
})

t.test('a payload in a message that must be empty is NOISE_BAD_PAYLOAD', async (t) => {
  const forger = new HandshakeState({
    pattern: 'XX',
    initiator: true,
    prologue: channelPrologue(),
    s: X25519KeyPair.generate(),
  })
  const victim = new SecureHandshake({ role: 'responder', identity: bob })
  t.throws(() => victim.readMessage(forger.writeMessage(utf8('early'))), { code: 'NOISE_BAD_PAYLOAD' })
})

t.test('an unexpected peer identity is NOISE_BAD_IDENTITY', async (t) => {
  const mallory = Ed25519KeyPair.generate()
  t.throws(() => run({ identity: alice, remoteIdentityKey: bob.publicKey }, { identity: mallory }), {
    code: 'NOISE_BAD_IDENTITY',
  })
})

t.test('an application payload over 4096 bytes is refused locally', async (t) => {
  const initiator = new SecureHandshake({ role: 'initiator', identity: alice, payload: new Uint8Array(4097) })
  const responder = new SecureHandshake({ role: 'responder', identity: bob })
  responder.readMessage(initiator.writeMessage())
  initiator.readMessage(responder.writeMessage())
  t.throws(() => initiator.writeMessage(), { code: 'NOISE_TOO_LARGE', remote: false })
})

t.test('IK without the responder static is NOISE_MISUSE', async (t) => {
  t.throws(() => new SecureHandshake({ role: 'initiator', identity: alice, pattern: 'IK' }), {
    code: 'NOISE_MISUSE',
  })
})

t.test('anonymous XX: fresh static keys, every payload empty, no identity in the result', async (t) => {
  const initiator = new SecureHandshake({ role: 'initiator', staticKey: X25519KeyPair.generate() })
  const responder = new SecureHandshake({ role: 'responder', staticKey: X25519KeyPair.generate() })
  const sizes: number[] = []
  while (!initiator.isFinished || !responder.isFinished) {
    const [from, to] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator]
    const message = from.writeMessage()
    sizes.push(message.length)
    to.readMessage(message)
  }
  // -> e (32) / <- e, ee, s, es (32 + 48 + 16 tag of the empty payload) / -> s, se (48 + 16).
  t.same(sizes, [32, 96, 64], 'no payload bytes beyond the Noise tokens and tags')
  const [a, b] = [initiator.result(), responder.result()]
  t.ok(equalBytes(a.handshakeHash, b.handshakeHash))
  t.same(a.remoteIdentityKey, new Uint8Array(0))
  t.equal(a.remoteDeviceId, '')
  t.equal(a.remotePayload, undefined)
  t.equal(initiator.anonymous, true)
})

t.test(
  'anonymous without a static key is NOISE_MISUSE; meeting an identity payload is NOISE_BAD_PAYLOAD',
  async (t) => {
    t.throws(() => new SecureHandshake({ role: 'initiator' }), { code: 'NOISE_MISUSE' })
    const initiator = new SecureHandshake({ role: 'initiator', staticKey: X25519KeyPair.generate() })
    const responder = new SecureHandshake({ role: 'responder', identity: alice })
    responder.readMessage(initiator.writeMessage())
    t.throws(() => initiator.readMessage(responder.writeMessage()), { code: 'NOISE_BAD_PAYLOAD' })
  },
)

t.test(
  'the identity payload is encoded deterministically: sig, then identity (app first when present)',
  async (t) => {
    const staticKey = X25519KeyPair.generate().publicKey
    const plain = toHex(encodeHandshakePayload(alice, staticKey))
    const sig = toHex(alice.sign(staticSignatureMessage(staticKey)))
    t.equal(plain, `a2637369675840${sig}686964656e746974795820${toHex(alice.publicKey)}`)
    const withApp = toHex(encodeHandshakePayload(alice, staticKey, utf8('x')))
    t.equal(withApp, `a363617070417863736967${'5840'}${sig}686964656e746974795820${toHex(alice.publicKey)}`)
  },
)
