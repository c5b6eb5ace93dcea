import { Ed25519KeyPair, fromHex, toHex } from '../../../lib/crypto/index.js'
import { signedBytes, storageTarget } from '../../../lib/dht/record.js'
import { deriveStaticKey } from '../../../lib/noise/static-key.js'
import {
  type EpochKeys,
  encodeLinkMessage,
  encodePreamble,
  epochKeys,
  epochOf,
  type LinkMessage,
  lookupEpochs,
  presenceConstants,
  sealPresence,
} from '../../../lib/presence/index.js'

/** Inputs of the presence vectors (`spec/vectors/presence.json`). */
export const INPUTS = {
  /** The publisher (alice) and the recipient (bob). */
  publisherSeed: '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
  recipientSeed: '202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f',
  presenceSecret: '404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f',
  /** A time 10 minutes into its epoch (ms since the Unix epoch). */
  now: 1_764_300_000_000,
  addresses: [
    { host: '192.0.2.10', port: 40123, transport: 'tcp' as const },
    { host: '10.0.0.7', port: 40123, transport: 'tcp' as const },
  ],
  nonce: '606162636465666768696a6b',
  seq: 1_764_300_000_000,
  expiresAt: 1_764_301_200_000,
}

const v = presenceConstants.PRESENCE_VERSION
const MESSAGES: LinkMessage[] = [
  { v, type: 'hello' },
  { v, type: 'text', text: 'hello from alice' },
  { v, type: 'unpair' },
  { v, type: 'error', code: 'PRESENCE_NOT_PAIRED' },
]

function keysVector(keys: EpochKeys) {
  return {
    epoch: keys.epoch,
    signingSeed: toHex(keys.signing.seed),
    signingPublicKey: toHex(keys.signing.publicKey),
    aeadKey: toHex(keys.aeadKey),
    dhtKey: toHex(keys.dhtKey),
    dhtTarget: toHex(storageTarget(presenceConstants.PRESENCE_NAMESPACE, keys.dhtKey)),
  }
}

/** Everything the presence spec's vectors contain, computed by the code under test. */
export function computeVectors() {
  const alice = Ed25519KeyPair.fromSeed(fromHex(INPUTS.publisherSeed))
  const bob = Ed25519KeyPair.fromSeed(fromHex(INPUTS.recipientSeed))
  const secret = fromHex(INPUTS.presenceSecret)
  const staticKey = deriveStaticKey(alice).publicKey
  const epoch = epochOf(INPUTS.now)
  const keys = epochKeys(secret, alice.publicKey, epoch)
  const context = { keys, publisherKey: alice.publicKey, recipientKey: bob.publicKey, identity: alice }
  const value = sealPresence({ addresses: INPUTS.addresses, staticKey }, context, fromHex(INPUTS.nonce))
  const { PRESENCE_NAMESPACE } = presenceConstants
  const signed = signedBytes(PRESENCE_NAMESPACE, keys.dhtKey, INPUTS.seq, INPUTS.expiresAt, value)
  return {
    description:
      'pairctl presence v2 vectors (spec/presence.md). Hex strings are byte strings. Identity key pairs are Ed25519 from their seeds; the static key is derived from the publisher seed (spec/noise.md §2.5). `keys` are the per-epoch keys of §1, `record` the sealed value of §2 (nonce given, normally random); its DHT record signature (spec/dht.md §7.1) is by the epoch signing key.',
    publisher: { seed: INPUTS.publisherSeed, publicKey: toHex(alice.publicKey), staticKey: toHex(staticKey) },
    recipient: { seed: INPUTS.recipientSeed, publicKey: toHex(bob.publicKey) },
    presenceSecret: INPUTS.presenceSecret,
    epochMs: presenceConstants.PRESENCE_EPOCH_MS,
    now: INPUTS.now,
    lookupEpochs: lookupEpochs(INPUTS.now),
    keys: {
      publisher: keysVector(keys),
      publisherNextEpoch: keysVector(epochKeys(secret, alice.publicKey, epoch + 1)),
      recipient: keysVector(epochKeys(secret, bob.publicKey, epoch)),
    },
    record: {
      addresses: INPUTS.addresses,
      nonce: INPUTS.nonce,
      value: toHex(value),
      seq: INPUTS.seq,
      expiresAt: INPUTS.expiresAt,
      dhtSignature: toHex(keys.signing.sign(signed)),
    },
    preambles: { pairing: toHex(encodePreamble('pairing')), reconnect: toHex(encodePreamble('reconnect')) },
    linkMessages: MESSAGES.map((message) => ({ message, cbor: toHex(encodeLinkMessage(message)) })),
  }
}

if (process.argv[2] === '--print') console.log(JSON.stringify(computeVectors(), null, 2))
