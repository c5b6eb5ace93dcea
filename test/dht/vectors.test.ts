import { readFileSync } from 'node:fs'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, fromHex, toHex } from '../../lib/crypto/index.js'
import { encodeAddress, nodeIdOf, parseAddress } from '../../lib/dht/address.js'
import { encodeDatagram } from '../../lib/dht/fast-cbor.js'
import { decodeMessage } from '../../lib/dht/messages.js'
import { signedBytes, storageTarget, verifyRecord } from '../../lib/dht/record.js'
import { tokenFor } from '../../lib/dht/tokens.js'
import { vectorJson } from './helpers/vector-json.js'

interface Vectors {
  nodeIds: { address: string; wire: string; id: string }[]
  storageTargets: { namespace: string; key: string; target: string }[]
  records: {
    seed: string
    publicKey: string
    namespace: string
    key: string
    seq: number
    expiresAt: number
    value: string
    signedBytes: string
    signature: string
  }[]
  tokens: { secret: string; address: string; token: string }[]
  messages: { name: string; hex: string; decoded: unknown }[]
}

const vectors = JSON.parse(
  readFileSync(new URL('../../spec/vectors/dht.json', import.meta.url), 'utf8'),
) as Vectors

t.test('node ids are SHA-256 of the domain and the compact endpoint (spec §4.1)', async (t) => {
  for (const vector of vectors.nodeIds) {
    const address = parseAddress(vector.address)!
    t.equal(toHex(encodeAddress(address)), vector.wire)
    t.equal(toHex(nodeIdOf(address)), vector.id)
  }
})

t.test('storage targets, signed record bytes, signatures and tokens (spec §7)', async (t) => {
  for (const vector of vectors.storageTargets)
    t.equal(toHex(storageTarget(vector.namespace, fromHex(vector.key))), vector.target)
  for (const vector of vectors.records) {
    const bytes = signedBytes(
      vector.namespace,
      fromHex(vector.key),
      vector.seq,
      vector.expiresAt,
      fromHex(vector.value),
    )
    t.equal(toHex(bytes), vector.signedBytes)
    const keyPair = Ed25519KeyPair.fromSeed(fromHex(vector.seed))
    t.equal(toHex(keyPair.publicKey), vector.publicKey)
    t.equal(toHex(keyPair.sign(bytes)), vector.signature)
    const wire = {
      p: keyPair.publicKey,
      s: vector.seq,
      x: vector.expiresAt,
      v: fromHex(vector.value),
      g: fromHex(vector.signature),
    }
    t.ok(verifyRecord(vector.namespace, fromHex(vector.key), wire))
    t.notOk(
      verifyRecord(vector.namespace, fromHex(vector.key), { ...wire, s: vector.seq + 1 }),
      'seq is signed',
    )
    t.notOk(verifyRecord('presence', fromHex(vector.key), wire), 'namespace is signed')
  }
  for (const vector of vectors.tokens)
    t.equal(toHex(tokenFor(fromHex(vector.secret), fromHex(vector.address))), vector.token)
})

t.test('every RPC decodes to its documented form and re-encodes to the same bytes', async (t) => {
  t.ok(vectors.messages.length >= 8)
  for (const vector of vectors.messages) {
    const message = decodeMessage(fromHex(vector.hex))
    t.ok(message !== null, vector.name)
    t.same(vectorJson(message), vector.decoded, vector.name)
    t.equal(toHex(encodeDatagram(message)), vector.hex, `${vector.name}: fast encoder`)
    t.equal(toHex(encodeCbor(message)), vector.hex, `${vector.name}: lib/cbor reference encoder`)
    t.ok(vector.hex.length / 2 <= 1200)
  }
})
