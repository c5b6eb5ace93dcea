/**
 * The pairctl handshake vector (spec/vectors/noise/pairctl-xx.json, spec/noise.md §9): a full XX handshake
 * with identity payloads, then data, keepalive and close frames, all byte-exact.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { FRAME_TYPE } from '../../lib/channel/constants.js'
import { Transport } from '../../lib/channel/transport.js'
import { Ed25519KeyPair, fromHex, toHex, X25519KeyPair } from '../../lib/crypto/index.js'
import { SecureHandshake } from '../../lib/noise/secure-handshake.js'
import { deriveStaticKey } from '../../lib/noise/static-key.js'

const file = new URL('../../spec/vectors/noise/pairctl-xx.json', import.meta.url)
interface Vector {
  prologue_purpose: string
  initiator_identity_seed: string
  responder_identity_seed: string
  initiator_identity_public: string
  responder_identity_public: string
  initiator_static_public: string
  responder_static_public: string
  initiator_ephemeral: string
  responder_ephemeral: string
  initiator_application_payload: string
  initiator_device_id: string
  responder_device_id: string
  handshake_messages: string[]
  handshake_hash: string
  transport_frames: {
    from: 'initiator' | 'responder'
    type: keyof typeof FRAME_TYPE
    body: string
    frame: string
  }[]
}
const v = JSON.parse(readFileSync(file, 'utf8')) as Vector

const identityI = Ed25519KeyPair.fromSeed(fromHex(v.initiator_identity_seed))
const identityR = Ed25519KeyPair.fromSeed(fromHex(v.responder_identity_seed))

t.test('identities and derived static keys', async (t) => {
  t.equal(toHex(identityI.publicKey), v.initiator_identity_public)
  t.equal(toHex(identityR.publicKey), v.responder_identity_public)
  t.equal(toHex(deriveStaticKey(identityI).publicKey), v.initiator_static_public)
  t.equal(toHex(deriveStaticKey(identityR).publicKey), v.responder_static_public)
})

t.test('handshake messages, hash, device IDs and transport frames', async (t) => {
  const prologue = fromHex(v.prologue_purpose)
  const initiator = new SecureHandshake({
    role: 'initiator',
    identity: identityI,
    prologue,
    payload: fromHex(v.initiator_application_payload),
    ephemeralKey: X25519KeyPair.fromPrivateKey(fromHex(v.initiator_ephemeral)),
  })
  const responder = new SecureHandshake({
    role: 'responder',
    identity: identityR,
    prologue,
    ephemeralKey: X25519KeyPair.fromPrivateKey(fromHex(v.responder_ephemeral)),
  })
  v.handshake_messages.forEach((expected, index) => {
    const [from, to] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator]
    const message = from.writeMessage()
    t.equal(toHex(message), expected, `message ${index}`)
    to.readMessage(message)
  })
  const [ri, rr] = [initiator.result(), responder.result()]
  t.equal(toHex(ri.handshakeHash), v.handshake_hash)
  t.equal(toHex(rr.handshakeHash), v.handshake_hash)
  t.equal(rr.remoteDeviceId, v.initiator_device_id)
  t.equal(ri.remoteDeviceId, v.responder_device_id)
  t.equal(toHex(rr.remotePayload!), v.initiator_application_payload)
  const transports = { initiator: new Transport(ri.transport), responder: new Transport(rr.transport) }
  const receivers = { initiator: transports.responder, responder: transports.initiator }
  for (const frame of v.transport_frames) {
    const sender = transports[frame.from]
    const body = fromHex(frame.body)
    t.equal(toHex(Buffer.concat(sender.seal(FRAME_TYPE[frame.type], [body], body.length))), frame.frame)
    const receiver = receivers[frame.from]
    const bytes = fromHex(frame.frame)
    receiver.openStart(bytes.length - 2)
    receiver.openData(bytes.subarray(2))
    const opened = receiver.openEnd()
    t.equal(opened.type, FRAME_TYPE[frame.type])
    t.equal(toHex(Buffer.concat(opened.chunks)), frame.body)
  }
})
