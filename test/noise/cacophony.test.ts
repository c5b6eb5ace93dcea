/**
 * Noise revision 34 conformance: every `Noise_*_25519_ChaChaPoly_SHA256` vector of cacophony
 * (spec/vectors/noise/PROVENANCE.md): handshake messages, handshake hash and transport messages.
 */
import { readFileSync } from 'node:fs'
import t from 'tap'
import { z } from 'zod'
import { fromHex, toHex, X25519KeyPair } from '../../lib/crypto/index.js'
import { HandshakeState } from '../../lib/noise/handshake-state.js'

const hex = z.string().regex(/^([0-9a-f]{2})*$/)
const vectorSchema = z.object({
  protocol_name: z.string(),
  init_prologue: hex,
  init_psks: z.array(hex).optional(),
  init_static: hex.optional(),
  init_ephemeral: hex,
  init_remote_static: hex.optional(),
  resp_prologue: hex,
  resp_psks: z.array(hex).optional(),
  resp_static: hex.optional(),
  resp_ephemeral: hex.optional(),
  resp_remote_static: hex.optional(),
  handshake_hash: hex,
  messages: z.array(z.object({ payload: hex, ciphertext: hex })),
})
type Vector = z.infer<typeof vectorSchema>

const file = new URL('../../spec/vectors/noise/cacophony-25519-chachapoly-sha256.json', import.meta.url)
const vectors = z
  .object({ vectors: z.array(vectorSchema) })
  .parse(JSON.parse(readFileSync(file, 'utf8'))).vectors

function keyPair(privateHex: string | undefined): X25519KeyPair | undefined {
  return privateHex === undefined ? undefined : X25519KeyPair.fromPrivateKey(fromHex(privateHex))
}

function party(vector: Vector, initiator: boolean): HandshakeState {
  const side = initiator ? 'init' : 'resp'
  const pattern = /^Noise_(.+)_25519_ChaChaPoly_SHA256$/.exec(vector.protocol_name)![1]!
  const rs = vector[`${side}_remote_static`]
  return new HandshakeState({
    pattern,
    initiator,
    prologue: fromHex(vector[`${side}_prologue`]),
    s: keyPair(vector[`${side}_static`]),
    e: keyPair(vector[`${side}_ephemeral`]),
    rs: rs === undefined ? undefined : fromHex(rs),
    psks: vector[`${side}_psks`]?.map(fromHex),
  })
}

t.equal(vectors.length, 59, 'all 59 25519_ChaChaPoly_SHA256 vectors are present')

for (const vector of vectors) {
  t.test(vector.protocol_name, async (t) => {
    const initiator = party(vector, true)
    const responder = party(vector, false)
    const handshakeLength = initiator.pattern.messages.length
    const oneWay = handshakeLength === 1
    vector.messages.slice(0, handshakeLength).forEach((message, index) => {
      const [sender, receiver] = initiator.isMyTurn ? [initiator, responder] : [responder, initiator]
      const written = sender.writeMessage(fromHex(message.payload))
      t.equal(toHex(written), message.ciphertext, `handshake message ${index}`)
      t.equal(toHex(receiver.readMessage(written)), message.payload, `handshake payload ${index}`)
    })
    t.ok(initiator.isFinished && responder.isFinished, 'both sides finished')
    t.equal(toHex(initiator.getHandshakeHash()), vector.handshake_hash, 'initiator handshake hash')
    t.equal(toHex(responder.getHandshakeHash()), vector.handshake_hash, 'responder handshake hash')
    const init = initiator.split()
    const resp = responder.split()
    vector.messages.slice(handshakeLength).forEach((message, offset) => {
      const fromInitiator = oneWay || (handshakeLength + offset) % 2 === 0
      const [send, receive] = fromInitiator ? [init.send, resp.receive] : [resp.send, init.receive]
      const ciphertext = send.encryptWithAd(new Uint8Array(0), fromHex(message.payload))
      t.equal(toHex(ciphertext), message.ciphertext, `transport message ${handshakeLength + offset}`)
      t.equal(toHex(receive.decryptWithAd(new Uint8Array(0), ciphertext)), message.payload)
    })
  })
}
