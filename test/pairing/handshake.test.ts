import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, randomBytes } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/device-id.js'
import { parseCode } from '../../lib/pairing/code.js'
import { type HandshakeEvent, type HandshakeOptions, PairingHandshake } from '../../lib/pairing/handshake.js'
import { decodeMessage, encodeMessage } from '../../lib/pairing/messages.js'

const CODE = 'abandon ability able about absent'
const joinerId = Ed25519KeyPair.generate()
const advertiserId = Ed25519KeyPair.generate()
const advertKey = Ed25519KeyPair.generate().publicKey
/** The two per-session Noise static keys (CPace AD). */
const joinerSession = randomBytes(32)
const advertiserSession = randomBytes(32)

interface Setup {
  joiner?: Partial<HandshakeOptions>
  advertiser?: Partial<HandshakeOptions>
}

function pair(setup: Setup = {}) {
  const hash = randomBytes(32)
  const base = { advertKey, handshakeHash: hash, confirmSas: false, now: 0 }
  const joiner = new PairingHandshake({
    ...base,
    role: 'joiner',
    code: parseCode(CODE),
    identity: joinerId,
    localSessionKey: joinerSession,
    remoteSessionKey: advertiserSession,
    deviceInfo: { name: 'phone', type: 'mobile' },
    ...setup.joiner,
  })
  const advertiser = new PairingHandshake({
    ...base,
    role: 'advertiser',
    code: parseCode(CODE),
    identity: advertiserId,
    localSessionKey: advertiserSession,
    remoteSessionKey: joinerSession,
    deviceInfo: { name: 'laptop', type: 'desktop' },
    ...setup.advertiser,
  })
  return { joiner, advertiser }
}

/** Moves messages both ways until neither side has anything to send. */
function pump(a: PairingHandshake, b: PairingHandshake, now = 1): void {
  for (let moved = true; moved; ) {
    moved = false
    for (const [from, to] of [
      [a, b],
      [b, a],
    ] as const) {
      for (let bytes = from.pollTransmit(); bytes !== undefined; bytes = from.pollTransmit()) {
        to.receive(bytes, now)
        moved = true
      }
    }
  }
}

function events(h: PairingHandshake): HandshakeEvent[] {
  const out: HandshakeEvent[] = []
  for (let e = h.nextEvent(); e !== undefined; e = h.nextEvent()) out.push(e)
  return out
}

function failure(h: PairingHandshake): { code: string; attempt: boolean } | undefined {
  const failed = events(h).find((e) => e.type === 'failed')
  return failed?.type === 'failed' ? { code: failed.error.code, attempt: failed.attempt } : undefined
}

t.test('same code: both sides paired, same SAS, peer IDs computed from the Noise keys', async (t) => {
  const { joiner, advertiser } = pair()
  pump(joiner, advertiser)
  t.equal(joiner.state, 'paired')
  t.equal(advertiser.state, 'paired')
  const je = events(joiner)
  const ae = events(advertiser)
  t.same(
    je.map((e) => e.type),
    ['verifying', 'sas', 'paired'],
  )
  const sas = (list: HandshakeEvent[]) => list.find((e) => e.type === 'sas')
  t.match(sas(je), { sas: /^\d{6}$/ })
  t.same(sas(je), sas(ae))
  const peer = (list: HandshakeEvent[]) => (list.at(-1) as Extract<HandshakeEvent, { type: 'paired' }>).peer
  const secret = peer(je).presenceSecret
  t.equal(secret.length, 32)
  t.same(peer(ae).presenceSecret, secret, 'both sides derive one presence secret')
  t.same(peer(je), {
    identityKey: advertiserId.publicKey,
    deviceId: deviceIdFromPublicKey(advertiserId.publicKey),
    name: 'laptop',
    type: 'desktop',
    presenceSecret: secret,
  })
  t.same(peer(ae), {
    identityKey: joinerId.publicKey,
    deviceId: deviceIdFromPublicKey(joinerId.publicKey),
    name: 'phone',
    type: 'mobile',
    presenceSecret: secret,
  })
  t.equal(joiner.pollTimeout(), undefined)
})

t.test('codes accepted by 4-letter prefix pair with the full words', async (t) => {
  const { joiner, advertiser } = pair({ joiner: { code: parseCode('ABAN-ABIL-ABLE-ABOU-ABSE') } })
  pump(joiner, advertiser)
  t.equal(advertiser.state, 'paired')
})

t.test('wrong secret word: advertiser spends an attempt, joiner is told the code was wrong', async (t) => {
  const { joiner, advertiser } = pair({ joiner: { code: parseCode('abandon ability able about abuse') } })
  pump(joiner, advertiser)
  t.same(failure(advertiser), { code: 'PAIRING_WRONG_CODE', attempt: true })
  t.same(failure(joiner), { code: 'PAIRING_WRONG_CODE', attempt: false })
})

t.test('device info never travels before both confirmations verify', async (t) => {
  const { joiner, advertiser } = pair({ joiner: { code: parseCode('abandon ability able about abuse') } })
  const seen: string[] = []
  for (let moved = true; moved; ) {
    moved = false
    for (const [from, to] of [
      [joiner, advertiser],
      [advertiser, joiner],
    ] as const) {
      for (let bytes = from.pollTransmit(); bytes !== undefined; bytes = from.pollTransmit()) {
        seen.push(decodeMessage(bytes).type)
        to.receive(bytes, 1)
        moved = true
      }
    }
  }
  t.same(seen, ['hello', 'share', 'confirm', 'error'])
})

t.test('man in the middle: different handshake hashes or session keys fail confirmation', async (t) => {
  const mitmKey = randomBytes(32)
  for (const setup of [
    { advertiser: { handshakeHash: randomBytes(32) } },
    { joiner: { remoteSessionKey: mitmKey } },
    { advertiser: { remoteSessionKey: mitmKey } },
  ]) {
    const { joiner, advertiser } = pair(setup)
    pump(joiner, advertiser)
    t.same(failure(advertiser), { code: 'PAIRING_WRONG_CODE', attempt: true })
    t.equal(joiner.state, 'failed')
  }
})

t.test('a different advertisement key: CI differs, and the advertiser refuses the hello', async (t) => {
  const { joiner, advertiser } = pair({ joiner: { advertKey: randomBytes(32) } })
  pump(joiner, advertiser)
  t.same(failure(advertiser), { code: 'PAIRING_NOT_FOUND', attempt: false })
  t.same(failure(joiner), { code: 'PAIRING_NOT_FOUND', attempt: false })
})

t.test('SAS: both must accept; a decline rejects on both sides', async (t) => {
  const { joiner, advertiser } = pair({ joiner: { confirmSas: true }, advertiser: { confirmSas: true } })
  pump(joiner, advertiser)
  t.equal(joiner.state, 'confirmed')
  t.equal(advertiser.pollTimeout(), 1 + 120_000)
  advertiser.decide(true, 2)
  pump(joiner, advertiser)
  t.equal(advertiser.state, 'confirmed', 'waits for the joiner')
  joiner.decide(true, 3)
  pump(joiner, advertiser)
  t.equal(joiner.state, 'paired')
  t.equal(advertiser.state, 'paired')

  const second = pair({ joiner: { confirmSas: true } })
  pump(second.joiner, second.advertiser)
  second.joiner.decide(false, 2)
  pump(second.joiner, second.advertiser)
  t.same(failure(second.joiner), { code: 'PAIRING_REJECTED', attempt: false })
  const remote = events(second.advertiser).find((e) => e.type === 'failed')
  t.match(remote, { error: { code: 'PAIRING_REJECTED', remote: true } })
})

t.test('invalid CPace shares (identity, non-canonical) are a protocol error, not a guess', async (t) => {
  for (const share of [new Uint8Array(32), Uint8Array.from({ length: 32 }, () => 0xff)]) {
    const { advertiser } = pair()
    advertiser.receive(encodeMessage({ v: 2, type: 'hello', advert: advertKey, share }), 1)
    t.same(failure(advertiser), { code: 'PAIRING_PROTOCOL', attempt: false })
    t.match(decodeMessage(advertiser.pollTransmit()!), { type: 'error', code: 'PAIRING_PROTOCOL' })
  }
})

t.test('out-of-order, unknown-version and garbage messages fail with typed errors', async (t) => {
  const cases: [Uint8Array, string][] = [
    [encodeMessage({ v: 2, type: 'confirm', mac: randomBytes(32) }), 'PAIRING_PROTOCOL'],
    [encodeCbor({ v: 1, type: 'hello' }), 'PAIRING_UNSUPPORTED_VERSION'],
    [encodeCbor({ v: 3, type: 'hello' }), 'PAIRING_UNSUPPORTED_VERSION'],
    [Uint8Array.of(0x00, 0x01), 'PAIRING_PROTOCOL'],
  ]
  for (const [bytes, code] of cases) {
    const { advertiser } = pair()
    advertiser.receive(bytes, 1)
    t.same(failure(advertiser), { code, attempt: false })
    t.match(decodeMessage(advertiser.pollTransmit()!), { type: 'error', code })
    advertiser.receive(bytes, 2)
    t.equal(advertiser.nextEvent(), undefined, 'input after failure is ignored')
  }
})

t.test('every waiting state times out with PAIRING_TIMEOUT', async (t) => {
  const { joiner, advertiser } = pair()
  t.equal(advertiser.pollTimeout(), 15_000, 'await-hello: the dispatcher already bounds it tighter')
  advertiser.handleTimeout(14_999)
  t.equal(advertiser.state, 'await-hello')
  advertiser.handleTimeout(15_000)
  t.same(failure(advertiser), { code: 'PAIRING_TIMEOUT', attempt: false })
  joiner.handleTimeout(20_000)
  t.same(failure(joiner), { code: 'PAIRING_TIMEOUT', attempt: false })
})

t.test('cancel tells the peer; closed transport fails without sending', async (t) => {
  const fresh = pair({ joiner: { confirmSas: true } })
  fresh.advertiser.receive(fresh.joiner.pollTransmit()!, 1)
  fresh.advertiser.cancel()
  fresh.joiner.receive(fresh.advertiser.pollTransmit()!, 1)
  fresh.joiner.receive(fresh.advertiser.pollTransmit()!, 1)
  t.match(events(fresh.joiner).at(-1), { type: 'failed', error: { code: 'PAIRING_CANCELLED', remote: true } })
  const other = pair()
  other.joiner.closed()
  t.equal(
    other.joiner.pollTransmit()?.length,
    encodeMessage({ v: 2, type: 'hello', advert: advertKey, share: randomBytes(32) }).length,
    'only the hello queued',
  )
  t.equal(other.joiner.pollTransmit(), undefined)
  t.same(failure(other.joiner), { code: 'PAIRING_CONNECTION_LOST', attempt: false })
})

t.test('an accept whose identity signature does not cover this session is refused', async (t) => {
  const { joiner, advertiser } = pair()
  // Advertiser: hello in, share + confirm out; joiner: confirm in. Then a forged accept reaches the joiner.
  advertiser.receive(joiner.pollTransmit()!, 1)
  joiner.receive(advertiser.pollTransmit()!, 1)
  advertiser.receive(joiner.pollTransmit()!, 1)
  joiner.receive(advertiser.pollTransmit()!, 1)
  const accept = decodeMessage(advertiser.pollTransmit()!)
  if (accept.type !== 'accept') throw new Error(`expected accept, got ${accept.type}`)
  const stranger = Ed25519KeyPair.generate()
  const forged = { ...accept, identity: stranger.publicKey }
  joiner.receive(encodeMessage(forged), 2)
  t.same(failure(joiner), { code: 'PAIRING_PROTOCOL', attempt: false })
  t.notOk(
    events(joiner).some((e) => e.type === 'paired'),
    'no peer from a key that did not sign',
  )
})

t.test('a peer that proves this device its own identity is refused with PAIRING_SELF', async (t) => {
  const { joiner, advertiser } = pair({ advertiser: { identity: joinerId } })
  pump(joiner, advertiser)
  t.same(failure(joiner), { code: 'PAIRING_SELF', attempt: false })
  t.equal(advertiser.state, 'failed')
})

t.test('advertiser: a joiner that got the share and left without a tag spent an attempt', async (t) => {
  for (const leave of ['close', 'timeout', 'cancel'] as const) {
    const { joiner, advertiser } = pair()
    advertiser.receive(joiner.pollTransmit()!, 1)
    t.equal(advertiser.state, 'await-confirm')
    t.equal(advertiser.pollTimeout(), 1 + 15_000, 'the tag is due within 15 s')
    if (leave === 'close') advertiser.closed()
    if (leave === 'timeout') advertiser.handleTimeout(1 + 15_000)
    if (leave === 'cancel')
      advertiser.receive(encodeMessage({ v: 2, type: 'error', code: 'PAIRING_CANCELLED' }), 2)
    t.equal(failure(advertiser)?.attempt, true, leave)
  }
  const local = pair()
  local.advertiser.receive(local.joiner.pollTransmit()!, 1)
  local.advertiser.cancel()
  t.equal(failure(local.advertiser)?.attempt, false, 'a local cancel spends nothing')
})

t.test('joiner: beforeTag runs before the tag is queued, once', async (t) => {
  const calls: number[] = []
  let joiner!: PairingHandshake
  const setup = pair({
    joiner: { beforeTag: () => calls.push(queuedTypes(joiner).length) },
  })
  joiner = setup.joiner
  setup.advertiser.receive(joiner.pollTransmit()!, 1)
  joiner.receive(setup.advertiser.pollTransmit()!, 1)
  t.same(calls, [0], 'called with nothing queued yet')
  t.same(queuedTypes(joiner), ['confirm'])
})

/** Types of the messages queued on `h`, draining them. */
function queuedTypes(h: PairingHandshake): string[] {
  const out: string[] = []
  for (let bytes = h.pollTransmit(); bytes !== undefined; bytes = h.pollTransmit())
    out.push(decodeMessage(bytes).type)
  return out
}
