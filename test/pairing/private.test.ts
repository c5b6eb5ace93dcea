/**
 * Protocol v2 attack tests (issue 12, findings 1, 3 and 6): each plays the attacker of one finding and
 * asserts on what it received or could do. Each fails against v1 (identity payload in XX, up to 3
 * adverts tried with a tag each, 64 unevicted preamble slots, a hello-then-silence holding the session
 * for free) and passes against v2.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { connect as netConnect, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Ed25519KeyPair, randomBytes, utf8 } from '../../lib/crypto/index.js'
import { routeConnections } from '../../lib/node/router.js'
import { cpaceChannelId } from '../../lib/pairing/confirmation.js'
import { calculateGenerator, cpaceShare, sampleScalar } from '../../lib/pairing/cpace.js'
import {
  type AdvertAddress,
  decodeAdvert,
  decodeMessage,
  encodeAdvert,
  encodeMessage,
  generatePairing,
  joinPairing,
  openPairingChannel,
  type PairingChannel,
  PairingDispatcher,
  type PairingEvent,
  parseCode,
  rendezvousKey,
  tcpConnect,
  UsedCodeStore,
} from '../../lib/pairing/index.js'
import { encodePreamble } from '../../lib/presence/index.js'
import { identity, listen, MemoryDht, startAdvertiser } from './helpers/fakes.js'
import { v1Advert } from './helpers/v1.js'

const bob = { name: 'bob', type: 'mobile' }

/** Everything a connection received, raw, plus the decrypted pairing messages. */
interface Recording {
  raw: Buffer[]
  messages: Uint8Array[]
}

/** True when any byte string `recording` holds contains `needle`. */
function contains(recording: Recording, needle: Uint8Array): boolean {
  const all = [...recording.raw, ...recording.messages.map((m) => Buffer.from(m))]
  return all.some((bytes) => Buffer.from(bytes).indexOf(Buffer.from(needle)) !== -1)
}

/** A TCP connection to `port` whose received bytes are recorded, then the anonymous pairing XX. */
async function strangerChannel(port: number, recording: Recording): Promise<PairingChannel> {
  const socket = await tcpConnect({ host: '127.0.0.1', port, transport: 'tcp' }, new AbortController().signal)
  socket.on('data', (chunk: Buffer) => recording.raw.push(chunk))
  return openPairingChannel(socket, { role: 'initiator' })
}

/** A CPace share for a guessed password: a valid point, as an attacker without the code sends. */
function guessShare(advertKey: Uint8Array, handshakeHash: Uint8Array): Uint8Array {
  const generator = calculateGenerator(utf8('wild guess'), cpaceChannelId(advertKey), handshakeHash)
  return cpaceShare(generator, sampleScalar(randomBytes))
}

/** The advert a storing node holds for `dht`'s only live record, decoded as any reader can. */
function storedAdvert(dht: MemoryDht, code: string) {
  const [record] = dht.live()
  const advert = decodeAdvert(rendezvousKey(parseCode(code)), record!.value, record!.publicKey, Date.now())
  return { record: record!, advert: advert! }
}

/** The device's long-term keys an attacker must not learn. */
function longTermKeys(device: ReturnType<typeof identity>): Uint8Array[] {
  return [device.publicKey, device.noiseKeyPair.publicKey]
}

/** Collects a session's events into `into` as they happen. */
function collect(events: AsyncIterable<PairingEvent>, into: PairingEvent[]): void {
  void (async () => {
    for await (const event of events) into.push(event)
  })()
}

t.test('attack 1: a stranger completing the pairing XX without a code learns no long-term key', async (t) => {
  const { port, alice } = await startAdvertiser(t)
  const recordings: Recording[] = [
    { raw: [], messages: [] },
    { raw: [], messages: [] },
  ]
  const keys: Uint8Array[] = []
  for (const recording of recordings) {
    const channel = await strangerChannel(port, recording)
    keys.push(channel.remoteStaticKey)
    channel.close()
  }
  for (const [i, recording] of recordings.entries()) {
    t.ok(recording.raw.length > 0, `connection ${i} received the responder's handshake message`)
    for (const key of longTermKeys(alice)) t.notOk(contains(recording, key), 'no identity or static key')
    for (const key of longTermKeys(alice))
      t.notSame(keys[i], key, 'the Noise static key is not the device one')
  }
  t.notSame(keys[0], keys[1], 'two connections see two unrelated static keys: nothing links them')
})

t.test(
  'attack 2: a DHT node storing the advert, connecting with a guess, learns no long-term key; the advertiser is told',
  async (t) => {
    const { dht, port, alice, advertiser } = await startAdvertiser(t)
    const { record, advert } = storedAdvert(dht, advertiser.code)
    for (const key of longTermKeys(alice)) t.equal(Buffer.from(record.value).indexOf(Buffer.from(key)), -1)
    t.same(advert.addresses, [{ host: '127.0.0.1', port, transport: 'tcp' }])
    const recording: Recording = { raw: [], messages: [] }
    const channel = await strangerChannel(port, recording)
    const share = guessShare(advert.key, channel.handshakeHash)
    await channel.send(encodeMessage({ v: 2, type: 'hello', advert: advert.key, share }))
    // It got Yb; it has no tag to send (it does not know the code), so it leaves.
    const first = (await channel.messages()[Symbol.asyncIterator]().next()).value as Uint8Array
    recording.messages.push(first)
    t.equal(decodeMessage(first).type, 'share')
    channel.close()
    await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED', message: /gave up before proving/ })
    for (const key of longTermKeys(alice)) t.notOk(contains(recording, key), 'nothing long-term received')
  },
)

/**
 * A decoy advert under `code`'s rendezvous key, pointing at a server that answers like an advertiser
 * without the code (a share for a guess, then a bogus tag) and records what the joiner sent.
 */
async function startDecoy(t: { teardown(fn: () => unknown): void }, dht: MemoryDht, code: string) {
  const { server, port } = await listen(t)
  const seen = { connections: 0, types: [] as string[], recording: { raw: [], messages: [] } as Recording }
  server.on('connection', async (socket: Socket) => {
    seen.connections++
    socket.on('data', (chunk: Buffer) => seen.recording.raw.push(chunk))
    const channel = await openPairingChannel(socket, { role: 'responder' }).catch(() => undefined)
    if (channel === undefined) return
    for await (const message of channel.messages()) {
      seen.recording.messages.push(message)
      const decoded = decodeMessage(message)
      seen.types.push(decoded.type)
      if (decoded.type === 'hello') {
        const share = guessShare(decoded.advert, channel.handshakeHash)
        await channel.send(encodeMessage({ v: 2, type: 'share', share }))
      }
      if (decoded.type === 'confirm')
        await channel.send(encodeMessage({ v: 2, type: 'confirm', mac: randomBytes(32) }))
    }
  })
  const keyPair = Ed25519KeyPair.generate()
  const key = rendezvousKey(parseCode(code))
  const addresses: AdvertAddress[] = [{ host: '127.0.0.1', port, transport: 'tcp' }]
  const value = encodeAdvert(key, keyPair, addresses, Date.now() + 60_000)
  const publication = await dht.publish('pairing', key, value, { keyPair, ttlMs: 60_000 })
  return { seen, withdraw: () => publication.withdraw() }
}

async function usedCodesIn(t: {
  teardown(fn: () => unknown): void
}): Promise<{ dir: string; store: UsedCodeStore }> {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-used-'))
  t.teardown(() => rm(dir, { recursive: true }))
  return { dir, store: await UsedCodeStore.open(dir) }
}

for (const decoys of [1, 3])
  t.test(
    `attack 3: ${decoys} decoy advert(s) beside the real one get nothing; the real one is not burned`,
    async (t) => {
      const { dht, advertiser } = await startAdvertiser(t)
      const advertiserEvents: PairingEvent[] = []
      collect(advertiser.events, advertiserEvents)
      const started = await Promise.all(
        Array.from({ length: decoys }, () => startDecoy(t, dht, advertiser.code)),
      )
      const { store } = await usedCodesIn(t)
      const joiner = joinPairing({
        identity: identity(),
        dht,
        code: advertiser.code,
        deviceInfo: bob,
        usedCodes: store,
      })
      await t.rejects(joiner.result, { code: 'PAIRING_CODE_ATTACKED', message: /under attack.*new code/ })
      t.same(
        started.map((decoy) => decoy.seen.connections),
        started.map(() => 0),
        'no decoy was even connected to',
      )
      t.notOk(
        advertiserEvents.some((e) => e.type === 'peer-connected'),
        'nor the real advertiser',
      )
      t.notOk(store.has(parseCode(advertiser.code)), 'no tag sent, so the code is not used up')
      // The decoys go away: the same code, retyped, still pairs with the real advertiser.
      await Promise.all(started.map((decoy) => decoy.withdraw()))
      const again = joinPairing({
        identity: identity(),
        dht,
        code: advertiser.code,
        deviceInfo: bob,
        usedCodes: store,
      })
      t.equal((await again.result).name, 'alice-laptop')
      t.equal((await advertiser.result).name, 'bob')
    },
  )

t.test(
  'attack 3b: a lone decoy gets one tag and no identity; the code is then refused locally, across restarts',
  async (t) => {
    const dht = new MemoryDht()
    const code = 'abandon ability able about absent'
    const decoy = await startDecoy(t, dht, code)
    const { dir, store } = await usedCodesIn(t)
    const me = identity()
    const joiner = joinPairing({ identity: me, dht, code, deviceInfo: bob, usedCodes: store })
    await t.rejects(joiner.result, { code: 'PAIRING_WRONG_CODE' })
    t.same(decoy.seen.types, ['hello', 'confirm', 'error'], 'hello, one tag, the error; no accept')
    for (const key of longTermKeys(me)) t.notOk(contains(decoy.seen.recording, key), 'no key of the joiner')
    const gets = dht.gets
    const reopened = await UsedCodeStore.open(dir)
    for (const usedCodes of [store, reopened])
      t.throws(
        () => joinPairing({ identity: me, dht, code: code.toUpperCase(), deviceInfo: bob, usedCodes }),
        {
          code: 'PAIRING_CODE_USED',
        },
      )
    t.equal(dht.gets, gets, 'refused without a DHT lookup')
    t.equal(decoy.seen.connections, 1, 'and without a connection')
  },
)

t.test('attack 6: 140 silent or stalled sockets from two sources do not stop a real join', async (t) => {
  const { server, port } = await listen(t)
  const dispatcher = new PairingDispatcher(openPairingChannel)
  routeConnections(server, {
    pairing: (socket, address) => dispatcher.handleSocket(socket, address),
    reconnect: (socket) => socket.destroy(),
  })
  const dht = new MemoryDht()
  const advertiser = await generatePairing({
    identity: identity(),
    dht,
    listener: dispatcher,
    addresses: [{ host: '127.0.0.1', port }],
    deviceInfo: { name: 'alice-laptop', type: 'desktop' },
  })
  t.teardown(() => advertiser.cancel())
  const flood: Socket[] = []
  t.teardown(() => {
    for (const socket of flood) socket.destroy()
  })
  const closed = { silent: 0, stalled: 0 }
  const open = (localAddress: string, preamble: boolean) =>
    new Promise<void>((resolve) => {
      const socket = netConnect({ host: '127.0.0.1', port, localAddress })
      flood.push(socket)
      socket.on('error', () => {})
      socket.on('close', () => closed[preamble ? 'stalled' : 'silent']++)
      socket.on('connect', () => {
        // Stalled: names pairing, then never starts the Noise handshake.
        if (preamble) socket.write(encodePreamble('pairing'))
        resolve()
      })
    })
  for (let i = 0; i < 70; i++) await open('127.0.0.2', false)
  for (let i = 0; i < 70; i++) await open('127.0.0.3', true)
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: bob,
    connect: async (address, signal) => {
      const socket = await tcpConnect(address, signal)
      socket.write(encodePreamble('pairing'))
      return socket
    },
  })
  t.equal((await joiner.result).name, 'alice-laptop')
  t.ok(closed.silent >= 66, `the silent source keeps at most 4 pending (${closed.silent} of 70 evicted)`)
  t.ok(closed.stalled >= 66, `the stalled source too (${closed.stalled} of 70 evicted)`)
})

t.test(
  'attack 6b: a hello-then-silence holds the session at most 5 s and spends an attempt; a joiner retrying BUSY then pairs',
  async (t) => {
    const { dht, port, advertiser } = await startAdvertiser(t, { maxAttempts: 2 })
    const events: PairingEvent[] = []
    collect(advertiser.events, events)
    const { advert } = storedAdvert(dht, advertiser.code)
    const squatter = await strangerChannel(port, { raw: [], messages: [] })
    t.teardown(() => squatter.destroy())
    const share = guessShare(advert.key, squatter.handshakeHash)
    await squatter.send(encodeMessage({ v: 2, type: 'hello', advert: advert.key, share }))
    await squatter.messages()[Symbol.asyncIterator]().next()
    // The squatter holds the session now, and says nothing more.
    const joiner = joinPairing({ identity: identity(), dht, code: advertiser.code, deviceInfo: bob })
    const device = await joiner.result
    t.equal(device.name, 'alice-laptop', 'paired after retrying PAIRING_BUSY')
    const failed = events.find((e) => e.type === 'attempt-failed')
    t.same(failed, { type: 'attempt-failed', remaining: 1, reason: 'abandoned' }, 'the advertiser was told')
    const connected = events.filter((e) => e.type === 'peer-connected').length
    t.equal(connected, 2, 'the squatter, then the joiner once the session was free again')
  },
)

t.test(
  'versions: a v2 joiner meeting a v1 advert says the other device is outdated, and never connects',
  async (t) => {
    const dht = new MemoryDht()
    const { server, port } = await listen(t)
    let connections = 0
    server.on('connection', (socket: Socket) => {
      connections++
      socket.destroy()
    })
    const code = 'abandon ability able about absent'
    const keyPair = Ed25519KeyPair.generate()
    const key = rendezvousKey(parseCode(code))
    const value = v1Advert(key, keyPair, [{ host: '127.0.0.1', port, transport: 'tcp' }], Date.now() + 60_000)
    await dht.publish('pairing', key, value, { keyPair, ttlMs: 60_000 })
    const joiner = joinPairing({ identity: identity(), dht, code, deviceInfo: bob })
    await t.rejects(joiner.result, { code: 'PAIRING_PEER_OUTDATED', message: /older protocol version/ })
    t.equal(connections, 0)
  },
)

t.test('self: a device does not join a code it is advertising, and never pairs with itself', async (t) => {
  const { server, port } = await listen(t)
  const dispatcher = PairingDispatcher.forServer(server, openPairingChannel)
  const dht = new MemoryDht()
  const alice = identity()
  const advertiser = await generatePairing({
    identity: alice,
    dht,
    listener: server,
    addresses: [{ host: '127.0.0.1', port }],
    deviceInfo: { name: 'alice-laptop', type: 'desktop' },
  })
  t.teardown(() => advertiser.cancel())
  const gets = dht.gets
  t.throws(
    () => joinPairing({ identity: alice, dht, code: advertiser.code, deviceInfo: bob, ownCodes: dispatcher }),
    {
      code: 'PAIRING_SELF',
    },
  )
  t.equal(dht.gets, gets, 'refused without network use')
  // Without the local check (another instance sharing the identity), the peer's proof of this very
  // identity is refused after confirmation, on both sides.
  const twin = joinPairing({ identity: alice, dht, code: advertiser.code, deviceInfo: bob })
  await t.rejects(twin.result, { code: 'PAIRING_SELF' })
  await t.rejects(advertiser.result, { code: 'PAIRING_SELF' })
})
