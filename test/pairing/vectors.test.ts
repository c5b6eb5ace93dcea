import { readFileSync } from 'node:fs'
import t from 'tap'
import { ed25519Verify, fromHex, sha256, toHex, utf8 } from '../../lib/crypto/index.js'
import { decodeAdvert } from '../../lib/pairing/advert.js'
import { decodeMessage } from '../../lib/pairing/messages.js'
import { computeVectors } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/pairing.json', import.meta.url), 'utf8'))

t.test('lib/pairing reproduces spec/vectors/pairing.json exactly', async (t) => {
  t.same(computeVectors(), stored)
})

t.test(
  'code vectors: rendezvous key is SHA-256 of the domain, word count and rendezvous words only',
  async (t) => {
    for (const vector of stored.codes) {
      const total = vector.rendezvousWords.length + vector.secretWords.length
      const expected = sha256(
        utf8('pairctl/rendezvous/v1'),
        Uint8Array.of(total),
        utf8(vector.rendezvousWords.join(' ')),
      )
      t.equal(vector.rendezvousKey, toHex(expected))
      t.equal(Buffer.from(fromHex(vector.prs)).toString(), vector.secretWords.join(' '))
    }
  },
)

t.test('message vectors decode to their fields', async (t) => {
  for (const { message, cbor } of stored.messages) {
    const decoded = decodeMessage(fromHex(cbor)) as unknown as Record<string, unknown>
    for (const [key, value] of Object.entries(message))
      t.equal(
        decoded[key] instanceof Uint8Array ? toHex(decoded[key] as Uint8Array) : decoded[key],
        value,
        key,
      )
  }
})

t.test('advert vector verifies under its rendezvous key and publisher', async (t) => {
  const { cbor, rendezvousKey, publicKey, expiresAt, addresses } = stored.advert
  const advert = decodeAdvert(fromHex(rendezvousKey), fromHex(cbor), fromHex(publicKey), expiresAt - 60_000)
  t.same(advert?.addresses, addresses)
})

t.test('transcript: the messages carry the listed shares and tags, in the protocol order', async (t) => {
  const { flow, ya, yb, confirmJoiner, confirmAdvertiser, advertPublicKey } = stored.transcript
  const { joinerIdentityKey, advertiserIdentityKey, joinerIdentitySigned, advertiserIdentitySigned } =
    stored.transcript
  const messages = flow.map((step: { cbor: string }) => decodeMessage(fromHex(step.cbor)))
  t.same(
    flow.map((step: { from: string; type: string }) => `${step.from}:${step.type}`),
    [
      'joiner:hello',
      'advertiser:share',
      'joiner:confirm',
      'advertiser:confirm',
      'advertiser:accept',
      'joiner:accept',
    ],
  )
  t.equal(toHex(messages[0].share), ya)
  t.equal(toHex(messages[0].advert), advertPublicKey)
  t.equal(toHex(messages[1].share), yb)
  t.equal(toHex(messages[2].mac), confirmJoiner)
  t.equal(toHex(messages[3].mac), confirmAdvertiser)
  t.match(stored.transcript.sas, /^\d{6}$/)
  // Identities travel only in the accepts, after both confirms, each signing its role's bytes.
  const accepts = [messages[4], messages[5]]
  t.same(
    accepts.map((m) => toHex(m.identity)),
    [advertiserIdentityKey, joinerIdentityKey],
  )
  t.ok(ed25519Verify(accepts[0].identity, fromHex(advertiserIdentitySigned), accepts[0].sig))
  t.ok(ed25519Verify(accepts[1].identity, fromHex(joinerIdentitySigned), accepts[1].sig))
  for (const step of flow.slice(0, 4)) {
    t.notOk(step.cbor.includes(joinerIdentityKey), `${step.type} does not carry the joiner's identity`)
    t.notOk(step.cbor.includes(advertiserIdentityKey), `${step.type} does not carry the advertiser's`)
  }
})
