import { createCipheriv, createDecipheriv, hkdfSync } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { decode as cborDecode, Encoder } from 'cbor-x'
import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import {
  concatBytes,
  Ed25519KeyPair,
  ed25519Verify,
  fromHex,
  sha256,
  toHex,
  utf8,
} from '../../lib/crypto/index.js'
import { signedBytes } from '../../lib/dht/record.js'
import {
  Backoff,
  challengerWins,
  decodeLinkMessage,
  encodeLinkMessage,
  epochKeys,
  lookupEpochs,
  openPresence,
  parsePreamble,
  presenceConstants,
  recordSignedBytes,
  SEALED_PRESENCE_BYTES,
  sealPresence,
} from '../../lib/presence/index.js'
import { computeVectors } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/presence.json', import.meta.url), 'utf8'))
const address = { host: '127.0.0.1', port: 4000, transport: 'tcp' as const }
const v = presenceConstants.PRESENCE_VERSION

t.test('lib/presence reproduces spec/vectors/presence.json exactly', async (t) => {
  t.same(computeVectors(), stored)
})

/** The epoch keys of the vectors, recomputed with node:crypto and SHA-256 only (spec/presence.md §1). */
function independentKeys(publisherKey: Uint8Array, epoch: number) {
  const info = Buffer.alloc(40)
  Buffer.from(publisherKey).copy(info)
  info.writeBigUInt64BE(BigInt(epoch), 32)
  const salt = utf8('pairctl/presence/v2/epoch-keys')
  const okm = new Uint8Array(hkdfSync('sha256', fromHex(stored.presenceSecret), salt, info, 64))
  const signing = Ed25519KeyPair.fromSeed(okm.subarray(0, 32))
  const ns = utf8('presence')
  const ownedDomain = utf8('pairctl/dht/owned-key/v1\0')
  const dhtKey = sha256(ownedDomain, Uint8Array.of(ns.length), ns, signing.publicKey)
  return { signing, aeadKey: okm.slice(32), dhtKey }
}

t.test('vectors, checked independently of lib/presence', async (t) => {
  const publisherKey = fromHex(stored.publisher.publicKey)
  const recipientKey = fromHex(stored.recipient.publicKey)
  const { epoch } = stored.keys.publisher
  t.equal(epoch, Math.floor(stored.now / 3_600_000), 'epoch = floor(now / 1 h)')
  t.same(stored.lookupEpochs, [epoch, epoch - 1], 'first half of the epoch: the previous one is adjacent')
  const keys = independentKeys(publisherKey, epoch)
  t.equal(toHex(keys.signing.publicKey), stored.keys.publisher.signingPublicKey)
  t.equal(toHex(keys.aeadKey), stored.keys.publisher.aeadKey)
  t.equal(toHex(keys.dhtKey), stored.keys.publisher.dhtKey, "the DHT key is the signing key's owned key")
  const value = Buffer.from(fromHex(stored.record.value))
  t.equal(value.length, 668, 'nonce 12 + padded plaintext 640 + tag 16')
  t.equal(value.subarray(0, 12).toString('hex'), stored.record.nonce)
  const decipher = createDecipheriv('chacha20-poly1305', keys.aeadKey, value.subarray(0, 12), {
    authTagLength: 16,
  })
  decipher.setAAD(concatBytes(utf8('pairctl/presence/v2/sealed\0'), keys.dhtKey), { plaintextLength: 640 })
  decipher.setAuthTag(value.subarray(value.length - 16))
  const plaintext = Buffer.concat([decipher.update(value.subarray(12, value.length - 16)), decipher.final()])
  t.equal(plaintext.length, 640)
  const length = plaintext.readUInt16BE(0)
  t.ok(
    plaintext.subarray(2 + length).every((byte) => byte === 0),
    'zero padding',
  )
  const inner = cborDecode(plaintext.subarray(2, 2 + length)) as Record<string, unknown>
  t.same(Object.keys(inner).sort(), ['addrs', 'noise', 'sig', 'v'])
  t.equal(inner.v, 2)
  t.same(inner.addrs, stored.record.addresses)
  t.equal(toHex(inner.noise as Uint8Array), stored.publisher.staticKey)
  const epochBytes = Buffer.alloc(8)
  epochBytes.writeBigUInt64BE(BigInt(epoch))
  // cbor-x sorts nothing: the body map is written in deterministic key order (shorter first) by hand.
  const plain = new Encoder({ useRecords: false, tagUint8Array: false, variableMapSize: true })
  const body = plain.encode({ v: 2, addrs: inner.addrs, noise: inner.noise })
  const signed = concatBytes(
    utf8('pairctl/presence/v2/record\0'),
    keys.dhtKey,
    epochBytes,
    recipientKey,
    body,
  )
  t.ok(ed25519Verify(publisherKey, signed, inner.sig as Uint8Array), 'the identity signature binds the body')
  const { seq, expiresAt, dhtSignature } = stored.record
  const dhtSigned = signedBytes('presence', keys.dhtKey, seq, expiresAt, value)
  t.ok(ed25519Verify(keys.signing.publicKey, dhtSigned, fromHex(dhtSignature)), 'DHT record signature')
  t.equal(Buffer.from(fromHex(stored.preambles.reconnect)).toString(), 'pairctlR')
  for (const { message, cbor } of stored.linkMessages) t.same(cborDecode(Buffer.from(fromHex(cbor))), message)
})

t.test('the two directions, the epochs and the pairs have unrelated keys', async (t) => {
  const { publisher, publisherNextEpoch, recipient } = stored.keys
  const fields = ['signingPublicKey', 'aeadKey', 'dhtKey'] as const
  for (const field of fields) {
    t.not(publisher[field], recipient[field], `${field} differs per direction`)
    t.not(publisher[field], publisherNextEpoch[field], `${field} differs per epoch`)
  }
  const other = epochKeys(new Uint8Array(32).fill(1), fromHex(stored.publisher.publicKey), publisher.epoch)
  t.not(toHex(other.dhtKey), publisher.dhtKey, 'another pair, another key')
  t.equal(lookupEpochs(40 * 60_000)[1], 1, 'second half of epoch 0: the next one is adjacent')
  t.throws(() => epochKeys(new Uint8Array(31), new Uint8Array(32), 1), { code: 'PRESENCE_BAD_OPTION' })
})

/** A record context of the vectors' pair, for round trips. */
function pairContext() {
  const alice = Ed25519KeyPair.fromSeed(fromHex(stored.publisher.seed))
  const bob = Ed25519KeyPair.fromSeed(fromHex(stored.recipient.seed))
  const keys = epochKeys(fromHex(stored.presenceSecret), alice.publicKey, stored.keys.publisher.epoch)
  return { keys, publisherKey: alice.publicKey, recipientKey: bob.publicKey, identity: alice, alice, bob }
}

t.test('records round-trip; the opener takes what the vectors hold', async (t) => {
  const context = pairContext()
  const opened = openPresence(fromHex(stored.record.value), context)
  t.same(opened.addresses, stored.record.addresses)
  t.equal(toHex(opened.staticKey), stored.publisher.staticKey)
  const staticKey = new Uint8Array(32).fill(7)
  const sealed = sealPresence({ addresses: [address], staticKey }, context)
  t.equal(sealed.length, SEALED_PRESENCE_BYTES, 'every record has the same size')
  t.same(openPresence(sealed, context), { addresses: [address], staticKey })
  t.not(toHex(sealPresence({ addresses: [address], staticKey }, context)), toHex(sealed), 'random nonce')
})

t.test('sealing keeps at most 8 addresses and drops those that do not fit', async (t) => {
  const context = pairContext()
  const staticKey = new Uint8Array(32).fill(7)
  const many = Array.from({ length: 12 }, (_, i) => ({ ...address, port: 4000 + i }))
  t.equal(openPresence(sealPresence({ addresses: many, staticKey }, context), context).addresses.length, 8)
  const long = Array.from({ length: 8 }, (_, i) => ({ ...address, host: `${'h'.repeat(200)}${i}` }))
  const sealed = sealPresence({ addresses: long, staticKey }, context)
  t.equal(sealed.length, SEALED_PRESENCE_BYTES)
  t.equal(openPresence(sealed, context).addresses.length, 2, 'the first ones, in order')
  t.throws(() => sealPresence({ addresses: [], staticKey }, context), { code: 'PRESENCE_BAD_OPTION' })
  t.throws(() => sealPresence({ addresses: [address], staticKey: new Uint8Array(31) }, context), {
    code: 'PRESENCE_BAD_OPTION',
  })
})

/** Seals arbitrary inner bytes the way a (buggy or hostile) holder of the epoch keys could. */
function sealRaw(context: ReturnType<typeof pairContext>, inner: Uint8Array, padding = 0): Uint8Array {
  const nonce = new Uint8Array(12).fill(5)
  const plaintext = new Uint8Array(640)
  new DataView(plaintext.buffer).setUint16(0, inner.length)
  plaintext.set(inner, 2)
  if (padding !== 0) plaintext[639] = padding
  const cipher = createCipheriv('chacha20-poly1305', context.keys.aeadKey, nonce, { authTagLength: 16 })
  cipher.setAAD(concatBytes(utf8('pairctl/presence/v2/sealed\0'), context.keys.dhtKey), {
    plaintextLength: 640,
  })
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()])
  return concatBytes(nonce, sealed)
}

t.test('bad records are PRESENCE_BAD_RECORD, never anything else', async (t) => {
  const context = pairContext()
  const staticKey = new Uint8Array(32).fill(7)
  const good = sealPresence({ addresses: [address], staticKey }, context)
  const signedBody = (body: Record<string, unknown>, signer = context.alice, ctx = context) => {
    const sig = signer.sign(recordSignedBytes(ctx, encodeCbor(body)))
    return encodeCbor({ ...body, sig })
  }
  const body = { v, addrs: [address], noise: staticKey }
  const otherEpoch = {
    ...context,
    keys: epochKeys(fromHex(stored.presenceSecret), context.alice.publicKey, 1),
  }
  const flipped = Uint8Array.from(good)
  flipped[40]! ^= 1
  const bad = [
    new Uint8Array(0),
    good.subarray(1),
    flipped,
    sealRaw(context, Uint8Array.of(0xff, 0x00)),
    sealRaw(context, signedBody(body), 1),
    sealRaw(context, signedBody({ ...body, v: 1 })),
    sealRaw(context, signedBody({ ...body, addrs: [] })),
    sealRaw(context, signedBody({ ...body, addrs: [{ ...address, transport: 'udp' }] })),
    sealRaw(context, signedBody({ ...body, addrs: [{ ...address, extra: 1 }] })),
    sealRaw(context, signedBody({ ...body, noise: new Uint8Array(16) })),
    sealRaw(context, encodeCbor({ ...body, sig: new Uint8Array(64) })),
    sealRaw(context, signedBody(body, context.bob), 0),
    sealRaw(context, signedBody(body, context.alice, otherEpoch)),
    sealRaw(context, signedBody(body, context.alice, { ...context, recipientKey: context.alice.publicKey })),
  ]
  for (const bytes of bad)
    t.throws(() => openPresence(bytes, context), { code: 'PRESENCE_BAD_RECORD', remote: true })
  t.same(openPresence(sealRaw(context, signedBody(body)), context).addresses, [address], 'control: valid')
  const forBob = { ...context, recipientKey: context.alice.publicKey }
  t.throws(() => openPresence(good, forBob), { code: 'PRESENCE_BAD_RECORD' }, 'bound to the recipient')
})

t.test('link messages round-trip; bad ones are PRESENCE_PROTOCOL', async (t) => {
  for (const { message } of stored.linkMessages)
    t.same(decodeLinkMessage(encodeLinkMessage(message)), message)
  for (const bytes of [
    Uint8Array.of(1),
    encodeCbor({ v, type: 'shout' }),
    encodeCbor({ v: 1, type: 'hello' }),
    encodeCbor({ v, type: 'error', code: 'SOMETHING_ELSE' }),
    encodeCbor({ v, type: 'text', text: 'x'.repeat(presenceConstants.MAX_TEXT_BYTES + 1) }),
  ])
    t.throws(() => decodeLinkMessage(bytes), { code: 'PRESENCE_PROTOCOL' })
  const tooLong = 'é'.repeat(presenceConstants.MAX_TEXT_BYTES / 2 + 1)
  t.throws(() => encodeLinkMessage({ v, type: 'text', text: tooLong }), { code: 'PRESENCE_BAD_OPTION' })
})

t.test('preambles: the two purposes parse, anything else is null', async (t) => {
  t.equal(parsePreamble(fromHex(stored.preambles.pairing)), 'pairing')
  t.equal(parsePreamble(fromHex(stored.preambles.reconnect)), 'reconnect')
  t.equal(parsePreamble(utf8('pairctlX')), null, 'unknown selector')
  t.equal(parsePreamble(utf8('GET / HT')), null, 'not ours')
  t.equal(parsePreamble(utf8('pairctl')), null, 'short')
})

t.test('backoff doubles from the base to the cap, jittered within [d/2, d], and resets', async (t) => {
  const backoff = new Backoff(1000, 8000)
  t.same(
    [0, 0, 0, 0, 0].map(() => backoff.next(0)),
    [500, 1000, 2000, 4000, 4000],
  )
  t.equal(backoff.next(0.999999), 8000)
  backoff.reset()
  t.equal(backoff.failures, 0)
  t.equal(backoff.next(0.5), 750)
})

t.test('tie-break: the link dialed by the lower device ID survives on both ends', async (t) => {
  const low = 'AAAA'
  const high = 'ZZZZ'
  // Low's view: incumbent dialed by high, challenger by low → replace; and the reverse → keep.
  t.equal(challengerWins(low, high, high, low), true)
  t.equal(challengerWins(low, high, low, high), false)
  // High's view of the same two links: the same link survives.
  t.equal(challengerWins(high, low, high, low), true)
  t.equal(challengerWins(high, low, low, high), false)
  t.equal(challengerWins(low, high, high, high), true, 'same dialer: the newer link wins')
})
