import { Ed25519KeyPair, fromHex, toHex, X25519KeyPair } from '../../../lib/crypto/index.js'
import {
  advertiserKeys,
  joinerKeys,
  type PunchMessage,
  pairingPunchKey,
  presenceKeys,
  presencePunchKey,
  sealMessage,
} from '../../../lib/holepunch/index.js'

/** Fixed inputs of spec/vectors/holepunch.json. */
export const inputs = {
  advertSeed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  joinerEphemeral: '2020202020202020202020202020202020202020202020202020202020202020',
  presenceSecret: '4242424242424242424242424242424242424242424242424242424242424242',
  presenceSalt: '5555555555555555555555555555555555555555555555555555555555555555',
  /** The responder's identity key of the reconnect vector, and the presence epoch it asks in. */
  responderKey: '6666666666666666666666666666666666666666666666666666666666666666',
  epoch: 493_000,
  nonce: '0f0e0d0c0b0a09080706050403020100',
}

const nonce = () => fromHex(inputs.nonce)

/** The messages the vectors seal. */
export function vectorMessages(): PunchMessage[] {
  return [
    {
      t: 'req',
      n: nonce(),
      addr: { host: '203.0.113.3', port: 40000 },
      nat: 'preserving',
      at: 1_790_000_000_000,
    },
    { t: 'ans', n: nonce(), addr: { host: '203.0.113.2', port: 41000 }, nat: 'preserving' },
    { t: 'end', n: nonce(), why: 'symmetric' },
  ]
}

function hexKeys(keys: { salt: Uint8Array; request: Uint8Array; answer: Uint8Array }) {
  return { salt: toHex(keys.salt), requestKey: toHex(keys.request), answerKey: toHex(keys.answer) }
}

/** Everything spec/vectors/holepunch.json holds, recomputed from {@link inputs}. */
export function computeVectors() {
  const advert = Ed25519KeyPair.fromSeed(fromHex(inputs.advertSeed))
  const joiner = joinerKeys(advert.publicKey, X25519KeyPair.fromPrivateKey(fromHex(inputs.joinerEphemeral)))
  const advertiser = advertiserKeys(advert, joiner.salt)
  const pairingKey = pairingPunchKey(advert.publicKey)
  const presence = presenceKeys(fromHex(inputs.presenceSecret), fromHex(inputs.presenceSalt))
  const presenceKey = presencePunchKey(
    fromHex(inputs.presenceSecret),
    fromHex(inputs.responderKey),
    inputs.epoch,
  )
  const [request, answer, end] = vectorMessages() as [PunchMessage, PunchMessage, PunchMessage]
  return {
    description:
      'pairctl hole-punch vectors (spec/holepunch.md). Hex strings are byte strings; the advert key pair is Ed25519 from advertSeed, the joiner ephemeral an X25519 private key; the reconnect key is for responderKey in presence epoch epoch.',
    inputs,
    advertKey: toHex(advert.publicKey),
    pairing: {
      dhtKey: toHex(pairingKey),
      keys: hexKeys(joiner),
      advertiserKeys: hexKeys(advertiser),
      request: toHex(sealMessage(pairingKey, joiner, 0, request)),
      answer: toHex(sealMessage(pairingKey, joiner, 0, answer)),
      end: toHex(sealMessage(pairingKey, joiner, 1, end)),
    },
    presence: {
      dhtKey: toHex(presenceKey),
      keys: hexKeys(presence),
      request: toHex(sealMessage(presenceKey, presence, 0, request)),
    },
  }
}
