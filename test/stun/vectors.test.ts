import { readFileSync } from 'node:fs'
import t from 'tap'
import { z } from 'zod'
import { fromHex, toHex } from '../../lib/crypto/index.js'
import {
  Attr,
  addFingerprint,
  addMessageIntegrity,
  addMessageIntegritySha256,
  decodeAddress,
  decodeMessage,
  decodeText,
  encodeMessage,
  findAttribute,
  longTermKey,
  StunClass,
  shortTermKey,
  userhash,
  verifyFingerprint,
  verifyMessage,
  verifyMessageIntegrity,
  verifyMessageIntegritySha256,
} from '../../lib/stun/index.js'

const dir = new URL('../../spec/vectors/stun/', import.meta.url)
const Vectors = z.object({
  short_term_password: z.string(),
  username: z.string(),
  long_term: z.object({ username: z.string(), password_after_saslprep: z.string(), realm: z.string() }),
  xor_mapped_expect: z.object({ ipv4: z.string(), ipv6: z.string() }),
  messages_hex: z.record(z.string(), z.string()),
})
const vectors = Vectors.parse(JSON.parse(readFileSync(new URL('vectors.json', dir), 'utf8')))
const sample = (name: string) => new Uint8Array(readFileSync(new URL(`${name}.bin`, dir)))
const longTerm = {
  username: vectors.long_term.username,
  realm: vectors.long_term.realm,
  password: vectors.long_term.password_after_saslprep,
}
const TRAILERS = new Set<number>([Attr.messageIntegrity, Attr.messageIntegritySha256, Attr.fingerprint])

/** Re-encodes the attributes before the integrity trailer, then recomputes the trailer with `key`. */
function reencode(bytes: Uint8Array, key: Uint8Array): Uint8Array {
  const message = decodeMessage(bytes)
  let out = encodeMessage({ ...message, attributes: message.attributes.filter((a) => !TRAILERS.has(a.type)) })
  for (const attribute of message.attributes.filter((a) => TRAILERS.has(a.type))) {
    if (attribute.type === Attr.messageIntegrity) out = addMessageIntegrity(out, key)
    if (attribute.type === Attr.messageIntegritySha256) out = addMessageIntegritySha256(out, key)
    if (attribute.type === Attr.fingerprint) out = addFingerprint(out)
  }
  return out
}

t.test('the .bin files equal the hex in vectors.json', async (t) => {
  for (const [name, hex] of Object.entries(vectors.messages_hex)) t.equal(toHex(sample(name)), hex, name)
})

t.test('RFC 5769 §2.1 request: short-term integrity, fingerprint, byte-exact re-encoding', async (t) => {
  const bytes = sample('rfc5769-2.1-sample-request')
  const key = shortTermKey(vectors.short_term_password)
  const message = decodeMessage(bytes)
  t.equal(message.cls, StunClass.request)
  t.equal(decodeText(findAttribute(message, Attr.software)!.value), 'STUN test client')
  t.equal(decodeText(findAttribute(message, Attr.username)!.value), vectors.username)
  t.ok(verifyMessageIntegrity(message, key))
  t.ok(verifyFingerprint(message))
  t.notOk(verifyMessageIntegrity(message, shortTermKey('wrong')))
  t.same(toHex(reencode(bytes, key)), toHex(bytes))
})

t.test('RFC 5769 §2.2 and §2.3 responses: XOR-MAPPED-ADDRESS for IPv4 and IPv6', async (t) => {
  const key = shortTermKey(vectors.short_term_password)
  const cases = [
    ['rfc5769-2.2-sample-ipv4-response', vectors.xor_mapped_expect.ipv4, 'IPv4'],
    ['rfc5769-2.3-sample-ipv6-response', vectors.xor_mapped_expect.ipv6, 'IPv6'],
  ] as const
  for (const [name, expected, family] of cases) {
    const bytes = sample(name)
    const message = decodeMessage(bytes)
    t.equal(message.cls, StunClass.successResponse)
    const mapped = decodeAddress(findAttribute(message, Attr.xorMappedAddress)!.value, message.transactionId)
    const text = family === 'IPv4' ? `${mapped.host}:${mapped.port}` : `[${mapped.host}]:${mapped.port}`
    t.equal(text, expected, name)
    t.equal(mapped.family, family)
    t.doesNotThrow(() => verifyMessage(message, key))
    t.equal(decodeText(findAttribute(message, Attr.software)!.value), 'test vector')
    t.same(toHex(reencode(bytes, key)), toHex(bytes), `${name} re-encodes`)
  }
})

t.test('RFC 5769 §2.4 request: long-term MD5 key', async (t) => {
  const bytes = sample('rfc5769-2.4-sample-request-long-term-auth')
  const key = longTermKey(longTerm, 'md5')
  const message = decodeMessage(bytes)
  t.equal(decodeText(findAttribute(message, Attr.username)!.value), longTerm.username)
  t.equal(decodeText(findAttribute(message, Attr.realm)!.value), longTerm.realm)
  t.ok(verifyMessageIntegrity(message, key))
  t.notOk(verifyMessageIntegrity(message, longTermKey(longTerm, 'sha256')))
  t.same(toHex(reencode(bytes, key)), toHex(bytes))
})

t.test('RFC 8489 B.1 request: USERHASH, NONCE, REALM, MESSAGE-INTEGRITY-SHA256', async (t) => {
  const bytes = sample('rfc8489-b.1-sample-request-long-term-auth-sha256')
  const message = decodeMessage(bytes)
  t.same(
    toHex(findAttribute(message, Attr.userhash)!.value),
    toHex(userhash(longTerm.username, longTerm.realm)),
  )
  t.equal(decodeText(findAttribute(message, Attr.nonce)!.value), 'obMatJos2AAACf//499k954d6OL34oL9FSTvy64sA')
  t.equal(decodeText(findAttribute(message, Attr.realm)!.value), longTerm.realm)
  const key = longTermKey(longTerm, 'md5')
  t.ok(verifyMessageIntegritySha256(message, key))
  t.notOk(verifyMessageIntegritySha256(message, fromHex('00'.repeat(16))))
  t.same(toHex(reencode(bytes, key)), toHex(bytes))
})
