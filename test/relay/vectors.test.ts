import { createHash, createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { decode as cborDecode } from 'cbor-x'
import fc from 'fast-check'
import t from 'tap'
import { AdvertAddressSchema } from '../../lib/pairing/advert.js'
import {
  type ClientMessage,
  decodeAnnouncement,
  decodeClientMessage,
  decodeRelayMessage,
  decodeToken,
  encodeClientMessage,
  encodeRelayMessage,
  encodeToken,
  type RelayMessage,
} from '../../lib/relay/index.js'
import { computeVectors } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/relay.json', import.meta.url), 'utf8'))
const hex = (text: string) => Buffer.from(text, 'hex')

t.test('lib/relay reproduces spec/vectors/relay.json exactly', async (t) => {
  t.same(computeVectors(), stored)
})

t.test('vectors, checked independently of lib/relay', async (t) => {
  const { presenceSecret, listenerIdentityKey, token } = stored.reconnectToken
  const mac = createHmac('sha256', hex(presenceSecret))
    .update('pairctl/relay/v1/reconnect-token')
    .update(hex(listenerIdentityKey))
    .digest('hex')
  t.equal(token, mac, 'reconnect token = HMAC-SHA256(secret, label || listener key)')
  t.equal(stored.pairingToken.text, hex(stored.pairingToken.bytes).toString('base64url'))
  t.equal(stored.announcement.key, createHash('sha256').update('pairctl/relay/v1/announce').digest('hex'))
  const reserve = cborDecode(hex(stored.messages.reserve)) as { tks: Uint8Array[] }
  t.same(Object.keys(reserve).sort(), ['t', 'tks', 'v'])
  t.equal(Buffer.from(reserve.tks[0]!).toString('hex'), token)
  t.same(cborDecode(hex(stored.messages.connected)), { v: 1, t: 'connected' })
  t.same(cborDecode(hex(stored.announcement.value)), { v: 1, addrs: stored.announcement.addresses })
  const address = AdvertAddressSchema.parse(cborDecode(hex(stored.advertAddress)))
  t.same(address, { host: '203.0.113.5', port: 4433, transport: 'relay', token: stored.pairingToken.text })
})

t.test("every control message round-trips; its decoder refuses the other side's messages", async (t) => {
  for (const name of ['reserve', 'connect', 'accept'] as const) {
    const bytes = hex(stored.messages[name])
    const message: ClientMessage = decodeClientMessage(bytes)
    t.same(Buffer.from(encodeClientMessage(message)), bytes, name)
    t.throws(() => decodeRelayMessage(bytes), { code: 'DECODE_FAILED' })
  }
  for (const name of ['reserved', 'incoming', 'connected'] as const) {
    const bytes = hex(stored.messages[name])
    const message: RelayMessage = decodeRelayMessage(bytes)
    t.same(Buffer.from(encodeRelayMessage(message)), bytes, name)
    t.throws(() => decodeClientMessage(bytes), { code: 'DECODE_FAILED' })
  }
})

t.test('decoders throw only DECODE_FAILED on random and mutated bytes', async (t) => {
  const samples = Object.values(stored.messages as Record<string, string>).map(hex)
  const input = fc.oneof(
    fc.uint8Array({ maxLength: 120 }),
    fc
      .tuple(fc.constantFrom(...samples), fc.nat(), fc.integer({ min: 1, max: 255 }))
      .map(([bytes, at, xor]) => {
        const copy = Uint8Array.from(bytes)
        copy[at % copy.length]! ^= xor
        return copy
      }),
  )
  fc.assert(
    fc.property(input, (bytes) => {
      for (const decode of [decodeClientMessage, decodeRelayMessage]) {
        try {
          decode(bytes)
        } catch (err) {
          if ((err as { code?: string }).code !== 'DECODE_FAILED') return false
        }
      }
      return decodeAnnouncement(bytes) === null || Array.isArray(decodeAnnouncement(bytes))
    }),
  )
  t.pass('no other error escaped')
})

t.test('tokens encode as 43 base64url characters and refuse anything else', async (t) => {
  const token = hex(stored.pairingToken.bytes)
  t.same(Buffer.from(decodeToken(encodeToken(token))), token)
  for (const bad of ['', 'AAEC', `${stored.pairingToken.text}A`, stored.pairingToken.text.replace('A', '+')])
    t.throws(() => decodeToken(bad), { code: 'RELAY_BAD_ARGUMENT' }, JSON.stringify(bad))
})
