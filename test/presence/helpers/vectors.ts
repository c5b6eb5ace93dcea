import { Ed25519KeyPair, fromHex, toHex } from '../../../lib/crypto/index.js'
import { signedBytes, storageTarget } from '../../../lib/dht/record.js'
import { deriveStaticKey } from '../../../lib/noise/static-key.js'
import {
  encodeLinkMessage,
  encodePreamble,
  encodePresence,
  type LinkMessage,
  presenceConstants,
  presenceKey,
} from '../../../lib/presence/index.js'

/** Inputs of the presence vectors (`spec/vectors/presence.json`). */
export const INPUTS = {
  seed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  addresses: [
    { host: '192.0.2.10', port: 40123, transport: 'tcp' as const },
    { host: '2001:db8::10', port: 40123, transport: 'tcp' as const },
  ],
  seq: 1_764_300_000_000,
  expiresAt: 1_764_301_200_000,
}

const MESSAGES: LinkMessage[] = [
  { v: 1, type: 'hello' },
  { v: 1, type: 'text', text: 'hello from alice' },
  { v: 1, type: 'error', code: 'PRESENCE_NOT_PAIRED' },
]

/** Everything the presence spec's vectors contain, computed by the code under test. */
export function computeVectors() {
  const keyPair = Ed25519KeyPair.fromSeed(fromHex(INPUTS.seed))
  const staticKey = deriveStaticKey(keyPair).publicKey
  const key = presenceKey(keyPair.publicKey)
  const value = encodePresence({ addresses: INPUTS.addresses, staticKey })
  const { PRESENCE_NAMESPACE } = presenceConstants
  const signed = signedBytes(PRESENCE_NAMESPACE, key, INPUTS.seq, INPUTS.expiresAt, value)
  return {
    description:
      'pairctl presence vectors (spec/presence.md). Hex strings are byte strings. The identity key pair is Ed25519 from `seed`; the static key is derived from it (spec/noise.md §2.5). The DHT record signature follows spec/dht.md §7.1.',
    identity: { seed: INPUTS.seed, publicKey: toHex(keyPair.publicKey), staticKey: toHex(staticKey) },
    presenceKey: toHex(key),
    dhtTarget: toHex(storageTarget(PRESENCE_NAMESPACE, key)),
    record: {
      addresses: INPUTS.addresses,
      value: toHex(value),
      seq: INPUTS.seq,
      expiresAt: INPUTS.expiresAt,
      signature: toHex(keyPair.sign(signed)),
    },
    preambles: { pairing: toHex(encodePreamble('pairing')), reconnect: toHex(encodePreamble('reconnect')) },
    linkMessages: MESSAGES.map((message) => ({ message, cbor: toHex(encodeLinkMessage(message)) })),
  }
}

if (process.argv[2] === '--print') console.log(JSON.stringify(computeVectors(), null, 2))
