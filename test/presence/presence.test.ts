import { readFileSync } from 'node:fs'
import { decode as cborDecode } from 'cbor-x'
import t from 'tap'
import { Ed25519KeyPair, ed25519Verify, fromHex, sha256, toHex, utf8 } from '../../lib/crypto/index.js'
import { signedBytes } from '../../lib/dht/record.js'
import {
  Backoff,
  challengerWins,
  decodeLinkMessage,
  decodePresence,
  encodeLinkMessage,
  encodePresence,
  parsePreamble,
  presenceConstants,
  presenceKey,
} from '../../lib/presence/index.js'
import { computeVectors } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/presence.json', import.meta.url), 'utf8'))
const staticKey = new Uint8Array(32).fill(7)
const address = { host: '127.0.0.1', port: 4000, transport: 'tcp' as const }

t.test('lib/presence reproduces spec/vectors/presence.json exactly', async (t) => {
  t.same(computeVectors(), stored)
})

t.test('vectors, checked independently of lib/presence', async (t) => {
  const publicKey = fromHex(stored.identity.publicKey)
  t.equal(stored.presenceKey, toHex(sha256(utf8('pairctl/presence/v1'), publicKey)), 'key derivation')
  const value = fromHex(stored.record.value)
  const plain = cborDecode(Buffer.from(value)) as Record<string, unknown>
  t.same(Object.keys(plain).sort(), ['addrs', 'noise', 'v'])
  t.equal(plain.v, 1)
  t.same(plain.addrs, stored.record.addresses)
  t.equal(toHex(plain.noise as Uint8Array), stored.identity.staticKey)
  const { seq, expiresAt, signature } = stored.record
  const signed = signedBytes('presence', fromHex(stored.presenceKey), seq, expiresAt, value)
  t.ok(ed25519Verify(publicKey, signed, fromHex(signature)), 'the DHT record signature binds the static key')
  t.equal(Buffer.from(fromHex(stored.preambles.reconnect)).toString(), 'pairctlR')
  for (const { message, cbor } of stored.linkMessages) t.same(cborDecode(Buffer.from(fromHex(cbor))), message)
})

t.test('records round-trip; the decoder takes what the vectors hold', async (t) => {
  const decoded = decodePresence(fromHex(stored.record.value))
  t.same(decoded.addresses, stored.record.addresses)
  t.equal(toHex(decoded.staticKey), stored.identity.staticKey)
  t.same(decodePresence(encodePresence({ addresses: [address], staticKey })), {
    addresses: [address],
    staticKey,
  })
})

t.test('encoding keeps at most 8 addresses and drops those that do not fit in 700 bytes', async (t) => {
  const many = Array.from({ length: 12 }, (_, i) => ({ ...address, port: 4000 + i }))
  t.equal(decodePresence(encodePresence({ addresses: many, staticKey })).addresses.length, 8)
  const long = Array.from({ length: 8 }, (_, i) => ({ ...address, host: `${'h'.repeat(200)}${i}` }))
  const encoded = encodePresence({ addresses: long, staticKey })
  t.ok(encoded.length <= presenceConstants.MAX_PRESENCE_BYTES)
  t.equal(decodePresence(encoded).addresses.length, 2, 'the first ones, in order')
  t.throws(() => encodePresence({ addresses: [], staticKey }), { code: 'PRESENCE_BAD_OPTION' })
  t.throws(() => encodePresence({ addresses: [address], staticKey: new Uint8Array(31) }), {
    code: 'PRESENCE_BAD_OPTION',
  })
})

t.test('bad records are PRESENCE_BAD_RECORD, never anything else', async (t) => {
  const { encodeCbor } = await import('../../lib/cbor.js')
  const bad = [
    new Uint8Array(0),
    Uint8Array.of(0xff, 0x00),
    encodeCbor({ v: 2, addrs: [address], noise: staticKey }),
    encodeCbor({ v: 1, addrs: [], noise: staticKey }),
    encodeCbor({ v: 1, addrs: [address], noise: new Uint8Array(16) }),
    encodeCbor({ v: 1, addrs: [{ ...address, port: 0 }], noise: staticKey }),
    encodeCbor({ v: 1, addrs: [{ ...address, transport: 'udp' }], noise: staticKey }),
    encodeCbor({ v: 1, addrs: [{ ...address, extra: 1 }], noise: staticKey }),
    encodeCbor({ v: 1, addrs: Array(9).fill(address), noise: staticKey }),
    new Uint8Array(701),
  ]
  for (const bytes of bad)
    t.throws(() => decodePresence(bytes), { code: 'PRESENCE_BAD_RECORD', remote: true })
})

t.test('link messages round-trip; bad ones are PRESENCE_PROTOCOL', async (t) => {
  for (const { message } of stored.linkMessages)
    t.same(decodeLinkMessage(encodeLinkMessage(message)), message)
  const { encodeCbor } = await import('../../lib/cbor.js')
  for (const bytes of [
    Uint8Array.of(1),
    encodeCbor({ v: 1, type: 'shout' }),
    encodeCbor({ v: 2, type: 'hello' }),
    encodeCbor({ v: 1, type: 'error', code: 'SOMETHING_ELSE' }),
    encodeCbor({ v: 1, type: 'text', text: 'x'.repeat(presenceConstants.MAX_TEXT_BYTES + 1) }),
  ])
    t.throws(() => decodeLinkMessage(bytes), { code: 'PRESENCE_PROTOCOL' })
  const tooLong = 'é'.repeat(presenceConstants.MAX_TEXT_BYTES / 2 + 1)
  t.throws(() => encodeLinkMessage({ v: 1, type: 'text', text: tooLong }), { code: 'PRESENCE_BAD_OPTION' })
})

t.test('the presence key is distinct per identity and not the identity key', async (t) => {
  const a = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey
  const b = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(2)).publicKey
  t.not(toHex(presenceKey(a)), toHex(presenceKey(b)))
  t.not(toHex(presenceKey(a)), toHex(a))
  t.equal(presenceKey(a).length, 32)
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
