import { readFileSync } from 'node:fs'
import t from 'tap'
import { Ed25519KeyPair, fromHex, toHex } from '../../lib/crypto/index.js'
import {
  advertiserKeys,
  joinerKeys,
  openMessage,
  pairingPunchKey,
  presenceKeys,
  presencePunchKey,
  recordSalt,
  sealMessage,
} from '../../lib/holepunch/index.js'
import { computeVectors, inputs, vectorMessages } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/holepunch.json', import.meta.url), 'utf8'))

t.test('lib/holepunch reproduces spec/vectors/holepunch.json exactly', async (t) => {
  t.same(computeVectors(), stored)
})

t.test('the advertiser derives the joiner’s keys from the salt alone', async (t) => {
  t.same(stored.pairing.advertiserKeys, stored.pairing.keys)
  const advert = Ed25519KeyPair.fromSeed(fromHex(inputs.advertSeed))
  const key = fromHex(stored.pairing.dhtKey)
  const keys = advertiserKeys(advert, recordSalt(fromHex(stored.pairing.request)))
  const [request] = vectorMessages()
  t.same(openMessage(key, keys, 'requester', fromHex(stored.pairing.request)), request)
})

t.test('a storing node or anyone who knows the advert sees no address in a punch record', async (t) => {
  const advert = Ed25519KeyPair.generate()
  const key = pairingPunchKey(advert.publicKey)
  const joiner = joinerKeys(advert.publicKey)
  const [request] = vectorMessages()
  const value = sealMessage(key, joiner, 0, request!)
  // The observer knows the DHT key and the advert's public key, and tries the one key it can derive itself.
  const hex = toHex(value)
  t.notOk(hex.includes(Buffer.from('203.0.113.3').toString('hex')), 'the host is not in clear')
  t.notOk(hex.includes(toHex(request!.n)), 'the nonce is not in clear')
  const observer = joinerKeys(advert.publicKey)
  t.throws(() => openMessage(key, { ...observer, salt: joiner.salt }, 'requester', value), {
    code: 'HOLEPUNCH_BAD_RECORD',
  })
  t.throws(() => openMessage(key, presenceKeys(advert.publicKey, joiner.salt), 'requester', value), {
    code: 'HOLEPUNCH_BAD_RECORD',
  })
})

t.test('a forged answer (not from the advert key holder) does not open for the joiner', async (t) => {
  const advert = Ed25519KeyPair.generate()
  const key = pairingPunchKey(advert.publicKey)
  const joiner = joinerKeys(advert.publicKey)
  const forger = advertiserKeys(Ed25519KeyPair.generate(), joiner.salt)
  const [, answer] = vectorMessages()
  const forged = sealMessage(key, forger, 0, answer!)
  t.throws(() => openMessage(key, joiner, 'responder', forged), { code: 'HOLEPUNCH_BAD_RECORD' })
  const genuine = sealMessage(key, advertiserKeys(advert, joiner.salt), 0, answer!)
  t.same(openMessage(key, joiner, 'responder', genuine), answer)
})

t.test('a record moved to another DHT key, or a request replayed as an answer, does not open', async (t) => {
  const secret = new Uint8Array(32).fill(7)
  const keys = presenceKeys(secret)
  const [request] = vectorMessages()
  const responder = new Uint8Array(32).fill(8)
  const key = presencePunchKey(secret, responder, 10)
  const value = sealMessage(key, keys, 0, request!)
  // Another pair, the other direction of this pair, another epoch: each its own key.
  for (const moved of [
    presencePunchKey(new Uint8Array(32), responder, 10),
    presencePunchKey(secret, new Uint8Array(32).fill(9), 10),
    presencePunchKey(secret, responder, 11),
  ])
    t.throws(() => openMessage(moved, keys, 'requester', value), { code: 'HOLEPUNCH_BAD_RECORD' })
  t.throws(() => openMessage(key, keys, 'responder', value), {
    code: 'HOLEPUNCH_BAD_RECORD',
  })
})

t.test('malformed record values are typed errors', async (t) => {
  const keys = presenceKeys(new Uint8Array(32))
  const key = presencePunchKey(new Uint8Array(32), new Uint8Array(32), 0)
  for (const value of [new Uint8Array(0), Uint8Array.of(2, ...new Uint8Array(40)), new Uint8Array(34)])
    t.throws(() => openMessage(key, keys, 'requester', value), { code: 'HOLEPUNCH_BAD_RECORD' })
})
