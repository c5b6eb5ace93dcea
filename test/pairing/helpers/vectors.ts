import { Ed25519KeyPair, fromHex, toHex, X25519KeyPair } from '../../../lib/crypto/index.js'
import { encodeAdvert } from '../../../lib/pairing/advert.js'
import { codePassword, generateCode, parseCode, rendezvousKey } from '../../../lib/pairing/code.js'
import {
  confirmationTag,
  cpaceChannelId,
  identitySignedBytes,
  presenceSecret,
  shortAuthString,
} from '../../../lib/pairing/confirmation.js'
import { calculateGenerator, cpaceShare, deriveIsk, scalarFromBytes } from '../../../lib/pairing/cpace.js'
import { PairingHandshake } from '../../../lib/pairing/handshake.js'
import { decodeMessage, encodeMessage, type PairingMessage } from '../../../lib/pairing/messages.js'

/**
 * Computes every value of `spec/vectors/pairing.json` from its inputs with lib/pairing. The test
 * compares the result with the stored file; `node --import tsx test/pairing/helpers/vectors.ts`
 * prints a fresh file (only when a deliberate protocol change needs new vectors).
 */

/** The fixed inputs. */
export const INPUTS = {
  generate: { words: 5, random: '000102030405060708090a0b0c0d0e0f' },
  codes: [
    'abandon ability able about absent',
    'ZOO-Wrong-abse-ABOV-acid-actor',
    'abandon abuse access accident add',
  ],
  advert: {
    seed: '1111111111111111111111111111111111111111111111111111111111111111',
    code: 'abandon ability able about absent',
    addresses: [
      { host: '192.0.2.10', port: 40000, transport: 'tcp' as const },
      { host: '2001:db8::10', port: 40000, transport: 'tcp' as const },
    ],
    expiresAt: 1_800_000_000_000,
  },
  transcript: {
    code: 'abandon ability able about absent',
    advertSeed: '1111111111111111111111111111111111111111111111111111111111111111',
    joinerIdentitySeed: '2222222222222222222222222222222222222222222222222222222222222222',
    advertiserIdentitySeed: '3333333333333333333333333333333333333333333333333333333333333333',
    /** X25519 private keys of the two per-session Noise static keys (their public halves are ADa, ADb). */
    joinerSessionPrivate: '7777777777777777777777777777777777777777777777777777777777777777',
    advertiserSessionPrivate: '8888888888888888888888888888888888888888888888888888888888888888',
    handshakeHash: '4444444444444444444444444444444444444444444444444444444444444444',
    joinerRandom: '55'.repeat(64),
    advertiserRandom: '66'.repeat(64),
    joinerInfo: { name: 'bob-phone', type: 'mobile' },
    advertiserInfo: { name: 'alice-laptop', type: 'desktop' },
  },
  messages: [
    { v: 2, type: 'hello', advert: '77'.repeat(32), share: '88'.repeat(32) },
    { v: 2, type: 'share', share: '99'.repeat(32) },
    { v: 2, type: 'confirm', mac: 'aa'.repeat(32) },
    {
      v: 2,
      type: 'accept',
      name: 'alice-laptop',
      deviceType: 'desktop',
      identity: 'bb'.repeat(32),
      sig: 'cc'.repeat(64),
    },
    { v: 2, type: 'error', code: 'PAIRING_WRONG_CODE' },
  ],
}

function repeatSource(hex: string): (n: number) => Uint8Array {
  const bytes = fromHex(hex)
  let offset = 0
  return (n) => Uint8Array.from({ length: n }, () => bytes[offset++ % bytes.length]!)
}

function codeVector(typed: string) {
  const code = parseCode(typed)
  return {
    typed,
    canonical: code.text,
    rendezvousWords: code.rendezvous,
    secretWords: code.secret,
    rendezvousKey: toHex(rendezvousKey(code)),
    prs: toHex(codePassword(code)),
  }
}

function messageVector(fields: Record<string, unknown>) {
  const message = Object.fromEntries(
    Object.entries(fields).map(([k, v]) => [
      k,
      ['advert', 'share', 'mac', 'identity', 'sig'].includes(k) ? fromHex(v as string) : v,
    ]),
  ) as PairingMessage
  return { message: fields, cbor: toHex(encodeMessage(message)) }
}

function advertVector() {
  const { seed, code, addresses, expiresAt } = INPUTS.advert
  const keyPair = Ed25519KeyPair.fromSeed(fromHex(seed))
  const key = rendezvousKey(parseCode(code))
  return {
    ...INPUTS.advert,
    publicKey: toHex(keyPair.publicKey),
    rendezvousKey: toHex(key),
    cbor: toHex(encodeAdvert(key, keyPair, addresses, expiresAt)),
  }
}

function transcriptVector() {
  const input = INPUTS.transcript
  const code = parseCode(input.code)
  const advertKey = Ed25519KeyPair.fromSeed(fromHex(input.advertSeed)).publicKey
  const joinerId = Ed25519KeyPair.fromSeed(fromHex(input.joinerIdentitySeed))
  const advertiserId = Ed25519KeyPair.fromSeed(fromHex(input.advertiserIdentitySeed))
  const ada = X25519KeyPair.fromPrivateKey(fromHex(input.joinerSessionPrivate)).publicKey
  const adb = X25519KeyPair.fromPrivateKey(fromHex(input.advertiserSessionPrivate)).publicKey
  const sid = fromHex(input.handshakeHash)
  const common = { code, advertKey, handshakeHash: sid, confirmSas: false, now: 0 }
  const joiner = new PairingHandshake({
    ...common,
    role: 'joiner',
    identity: joinerId,
    localSessionKey: ada,
    remoteSessionKey: adb,
    deviceInfo: input.joinerInfo,
    random: repeatSource(input.joinerRandom),
  })
  const advertiser = new PairingHandshake({
    ...common,
    role: 'advertiser',
    identity: advertiserId,
    localSessionKey: adb,
    remoteSessionKey: ada,
    deviceInfo: input.advertiserInfo,
    random: repeatSource(input.advertiserRandom),
  })
  const flow: { from: string; type: string; cbor: string }[] = []
  for (let moved = true; moved; ) {
    moved = false
    for (const [name, from, to] of [
      ['joiner', joiner, advertiser],
      ['advertiser', advertiser, joiner],
    ] as const) {
      for (let bytes = from.pollTransmit(); bytes !== undefined; bytes = from.pollTransmit()) {
        flow.push({ from: name, type: decodeMessage(bytes).type, cbor: toHex(bytes) })
        to.receive(bytes, 0)
        moved = true
      }
    }
  }
  const ci = cpaceChannelId(advertKey)
  const g = calculateGenerator(codePassword(code), ci, sid)
  const ya = scalarFromBytes(fromHex(input.joinerRandom))
  const yb = scalarFromBytes(fromHex(input.advertiserRandom))
  const Ya = cpaceShare(g, ya)
  const Yb = cpaceShare(g, yb)
  const isk = deriveIsk({ sid, scalar: ya, ya: Ya, ada, yb: Yb, adb, peerShare: Yb })
  return {
    ...input,
    advertPublicKey: toHex(advertKey),
    joinerIdentityKey: toHex(joinerId.publicKey),
    advertiserIdentityKey: toHex(advertiserId.publicKey),
    ada: toHex(ada),
    adb: toHex(adb),
    prs: toHex(codePassword(code)),
    ci: toHex(ci),
    generator: toHex(g),
    ya: toHex(Ya),
    yb: toHex(Yb),
    isk: toHex(isk),
    confirmJoiner: toHex(confirmationTag(isk, 'joiner')),
    confirmAdvertiser: toHex(confirmationTag(isk, 'advertiser')),
    sas: shortAuthString(isk),
    presenceSecret: toHex(presenceSecret(isk)),
    joinerIdentitySigned: toHex(identitySignedBytes('joiner', sid, isk)),
    advertiserIdentitySigned: toHex(identitySignedBytes('advertiser', sid, isk)),
    states: { joiner: joiner.state, advertiser: advertiser.state },
    flow,
  }
}

/** Every vector, as stored in `spec/vectors/pairing.json`. */
export function computeVectors() {
  const { words, random } = INPUTS.generate
  return {
    description:
      'pairctl pairing vectors (spec/pairing.md). Hex strings are byte strings; CPace scalars are the 64 random bytes reduced mod the ristretto255 order (little-endian).',
    generate: { words, random, code: generateCode(words, repeatSource(random)).text },
    codes: INPUTS.codes.map(codeVector),
    messages: INPUTS.messages.map(messageVector),
    advert: advertVector(),
    transcript: transcriptVector(),
  }
}

if (process.argv[1]?.endsWith('vectors.ts')) console.log(JSON.stringify(computeVectors(), null, 2))
