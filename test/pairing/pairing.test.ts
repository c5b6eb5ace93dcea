import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/index.js'
import {
  encodeAdvert,
  generatePairing,
  joinPairing,
  PairedDeviceStore,
  type PairingEvent,
  type PairingSession,
  parseCode,
  rendezvousKey,
  tcpConnect,
} from '../../lib/pairing/index.js'
import { identity, listen, MemoryDht, startAdvertiser as setup, wrongSecret } from './helpers/fakes.js'

async function collect(session: PairingSession): Promise<PairingEvent['type'][]> {
  const types: PairingEvent['type'][] = []
  for await (const event of session.events) types.push(event.type)
  return types
}

t.test('success over TCP + Noise: both sides get each other, events in order', async (t) => {
  const { dht, alice, advertiser } = await setup(t)
  const bob = identity()
  const joiner = joinPairing({
    identity: bob,
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'bob-phone', type: 'mobile' },
  })
  const [a, b] = await Promise.all([advertiser.result, joiner.result])
  t.equal(a.deviceId, deviceIdFromPublicKey(bob.publicKey))
  t.same(a.identityKey, bob.publicKey)
  t.equal(a.name, 'bob-phone')
  t.equal(b.deviceId, alice.deviceId)
  t.equal(b.type, 'desktop')
  t.equal(b.addresses[0]?.host, '127.0.0.1')
  t.equal(a.presenceSecret?.length, 32)
  t.same(a.presenceSecret, b.presenceSecret, 'both sides hold the same presence secret')
  t.same(await collect(advertiser), ['code', 'advertised', 'peer-connected', 'verifying', 'sas', 'paired'])
  t.same(await collect(joiner), ['searching', 'found', 'peer-connected', 'verifying', 'sas', 'paired'])
  t.same(dht.live(), [], 'advert withdrawn')
})

t.test('wrong code: the advertiser burns the code, both sides told', async (t) => {
  const { dht, advertiser } = await setup(t)
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: wrongSecret(advertiser.code),
    deviceInfo: { name: 'x', type: 'y' },
  })
  await t.rejects(joiner.result, { code: 'PAIRING_WRONG_CODE', message: /new code/ })
  await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED' })
  t.same(dht.live(), [], 'advert withdrawn after the burn')
  const late = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'x', type: 'y' },
  })
  await t.rejects(late.result, { code: 'PAIRING_NOT_FOUND' }, 'the right code no longer works')
})

t.test('maxAttempts 2: one wrong guess is reported, the right code still pairs', async (t) => {
  const { dht, advertiser } = await setup(t, { maxAttempts: 2 })
  const bad = joinPairing({
    identity: identity(),
    dht,
    code: wrongSecret(advertiser.code),
    deviceInfo: { name: 'x', type: 'y' },
  })
  await t.rejects(bad.result, { code: 'PAIRING_WRONG_CODE' })
  const good = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'ok', type: 'y' },
  })
  t.equal((await good.result).name, 'alice-laptop')
  t.equal((await advertiser.result).name, 'ok')
  t.ok((await collect(advertiser)).includes('attempt-failed'))
})

t.test('a DHT storer with the advert and the rendezvous words, but not the secret, fails', async (t) => {
  const { dht, advertiser } = await setup(t)
  t.equal(dht.live().length, 1, 'the storer holds the advert')
  const rendezvous = parseCode(advertiser.code).rendezvous
  const guess = [...rendezvous, 'abandon', 'abandon', 'abandon'].join(' ')
  const attacker = joinPairing({
    identity: identity(),
    dht,
    code: guess,
    deviceInfo: { name: 'evil', type: 'y' },
  })
  await t.rejects(attacker.result, { code: 'PAIRING_WRONG_CODE' })
  const real = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'bob', type: 'y' },
  })
  await t.rejects(
    real.result,
    { code: 'PAIRING_NOT_FOUND' },
    'code burned: the real joiner learns it must get a new one',
  )
  await t.rejects(advertiser.result, { code: 'PAIRING_CODE_BURNED' })
})

t.test('SAS: both confirm the same digits; a decline rejects on both sides', async (t) => {
  const { dht, advertiser } = await setup(t, { confirm: async (sas: string) => sas.length === 6 })
  const seen: string[] = []
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
    confirm: async (sas) => {
      seen.push(sas)
      return true
    },
  })
  await Promise.all([joiner.result, advertiser.result])
  t.match(seen, [/^\d{6}$/])

  const second = await setup(t)
  const declined = joinPairing({
    identity: identity(),
    dht: second.dht,
    code: second.advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
    confirm: async () => false,
  })
  await t.rejects(declined.result, { code: 'PAIRING_REJECTED', remote: false })
  await t.rejects(second.advertiser.result, { code: 'PAIRING_REJECTED', remote: true })
})

t.test('expiry withdraws the advert and fails with PAIRING_EXPIRED', async (t) => {
  const { dht, advertiser } = await setup(t, { ttlMs: 1_000 })
  await t.rejects(advertiser.result, { code: 'PAIRING_EXPIRED' })
  t.same(dht.live(), [])
})

t.test('cancel on the advertiser side, before and during a join', async (t) => {
  const { dht, advertiser } = await setup(t)
  advertiser.cancel()
  await t.rejects(advertiser.result, { code: 'PAIRING_CANCELLED' })
  t.same(dht.live(), [])

  const second = await setup(t, { confirm: () => new Promise<boolean>(() => {}) })
  const joiner = joinPairing({
    identity: identity(),
    dht: second.dht,
    code: second.advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
  })
  for await (const event of second.advertiser.events) if (event.type === 'sas') break
  second.advertiser.cancel()
  await t.rejects(second.advertiser.result, { code: 'PAIRING_CANCELLED', remote: false })
  await t.rejects(joiner.result, { code: 'PAIRING_CANCELLED', remote: true })
})

t.test('cancel on the joiner side through its AbortSignal', async (t) => {
  const { dht, advertiser } = await setup(t)
  const controller = new AbortController()
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
    confirm: () => new Promise<boolean>(() => {}),
    signal: controller.signal,
  })
  for await (const event of joiner.events) if (event.type === 'sas') break
  controller.abort()
  await t.rejects(joiner.result, { code: 'PAIRING_CANCELLED', remote: false })
  await t.rejects(advertiser.result, { code: 'PAIRING_CANCELLED', remote: true })
})

t.test('unknown words are rejected before any network use', async (t) => {
  const dht = new MemoryDht()
  t.throws(
    () =>
      joinPairing({
        identity: identity(),
        dht,
        code: 'abandon abilty able about abuse',
        deviceInfo: { name: 'b', type: 'y' },
      }),
    { code: 'PAIRING_UNKNOWN_WORD' },
  )
  t.equal(dht.gets, 0)
})

t.test('a closed port listed first: the joiner still reaches the live address', async (t) => {
  const closed = await listen(t)
  const closedPort = closed.port
  await new Promise<void>((resolve) => closed.server.close(() => resolve()))
  const dht = new MemoryDht()
  const { server, port } = await listen(t)
  const advertiser = await generatePairing({
    identity: identity(),
    dht,
    listener: server,
    addresses: [
      { host: '127.0.0.1', port: closedPort },
      { host: '127.0.0.1', port },
    ],
    deviceInfo: { name: 'a', type: 'y' },
  })
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
  })
  t.equal((await joiner.result).addresses[0]?.port, port)
  await advertiser.result
})

t.test('concurrent pairings on one node share its listener', async (t) => {
  const dht = new MemoryDht()
  const { server, port } = await listen(t)
  const alice = identity()
  const sessions = await Promise.all(
    [1, 2, 3].map((i) =>
      generatePairing({
        identity: alice,
        dht,
        listener: server,
        addresses: [{ host: '127.0.0.1', port }],
        deviceInfo: { name: `a${i}`, type: 'y' },
      }),
    ),
  )
  const joiners = sessions.map((s, i) =>
    joinPairing({ identity: identity(), dht, code: s.code, deviceInfo: { name: `b${i}`, type: 'y' } }),
  )
  const devices = await Promise.all(joiners.map((j) => j.result))
  t.same(
    devices.map((d) => d.name),
    ['a1', 'a2', 'a3'],
  )
  t.same(
    (await Promise.all(sessions.map((s) => s.result))).map((d) => d.name),
    ['b0', 'b1', 'b2'],
  )
})

t.test('store: devices stored on both sides only once paired', async (t) => {
  const dirA = await mkdtemp(join(tmpdir(), 'pairctl-a-'))
  const dirB = await mkdtemp(join(tmpdir(), 'pairctl-b-'))
  t.teardown(() => Promise.all([rm(dirA, { recursive: true }), rm(dirB, { recursive: true })]))
  const storeA = await PairedDeviceStore.open(dirA)
  const storeB = await PairedDeviceStore.open(dirB)
  const { dht, advertiser } = await setup(t, { store: storeA })
  const bad = joinPairing({
    identity: identity(),
    dht,
    code: wrongSecret(advertiser.code),
    deviceInfo: { name: 'x', type: 'y' },
    store: storeB,
  })
  await t.rejects(bad.result)
  await t.rejects(advertiser.result)
  t.same(storeA.list(), [])
  t.same(storeB.list(), [])
  const second = await setup(t, { store: storeA })
  const good = joinPairing({
    identity: identity(),
    dht: second.dht,
    code: second.advertiser.code,
    deviceInfo: { name: 'b', type: 'y' },
    store: storeB,
  })
  await Promise.all([good.result, second.advertiser.result])
  t.equal((await PairedDeviceStore.open(dirA)).list().length, 1)
  t.equal((await PairedDeviceStore.open(dirB)).list()[0]?.name, 'alice-laptop')
})

t.test(
  'a taken rendezvous key makes the advertiser redraw its rendezvous words, keeping the secret',
  async (t) => {
    const dht = new MemoryDht()
    const { server, port } = await listen(t)
    const taken = parseCode('abandon abandon abandon abandon abandon')
    const squatter = Ed25519KeyPair.generate()
    const key = rendezvousKey(taken)
    const addresses = [{ host: '127.0.0.1', port: 9, transport: 'tcp' as const }]
    await dht.publish('pairing', key, encodeAdvert(key, squatter, addresses, Date.now() + 60_000), {
      keyPair: squatter,
      ttlMs: 60_000,
    })
    // Zeros for the advert key seed and the first code (all "abandon"), then 0x01 bytes for the redraw.
    let used = 0
    const random = (n: number) => {
      const out = new Uint8Array(n).fill(used >= 42 ? 1 : 0)
      used += n
      return out
    }
    const options = {
      identity: identity(),
      dht,
      listener: server,
      addresses: [{ host: '127.0.0.1', port }],
      deviceInfo: { name: 'a', type: 'y' },
    }
    const session = await generatePairing({ ...options, random })
    t.teardown(() => session.cancel())
    const code = parseCode(session.code)
    t.same(code.secret, ['abandon', 'abandon', 'abandon'], 'secret words kept')
    t.notSame(code.rendezvous, taken.rendezvous, 'rendezvous words redrawn')
    t.equal(dht.live().length, 2, 'the squatter and the new advert')
    const zeros = (n: number) => new Uint8Array(n)
    await t.rejects(generatePairing({ ...options, random: zeros }), { code: 'PAIRING_RENDEZVOUS_TAKEN' })
  },
)

t.test('joiner: a failing DHT is PAIRING_UNREACHABLE; a hanging lookup can be cancelled', async (t) => {
  const broken = {
    // biome-ignore lint/correctness/useYield: a lookup that fails before yielding anything
    async *get(): AsyncIterable<never> {
      throw new Error('no DHT node answered')
    },
    publish: () => Promise.reject(new Error('unused')),
  }
  const failing = joinPairing({
    identity: identity(),
    dht: broken,
    code: 'abandon ability able about absent',
    deviceInfo: { name: 'b', type: 'y' },
  })
  await t.rejects(failing.result, { code: 'PAIRING_UNREACHABLE', message: /no DHT node answered/ })
  const hanging = {
    get: (_ns: string, _key: Uint8Array, options?: { signal?: AbortSignal }) => ({
      [Symbol.asyncIterator]: () => ({
        next: () =>
          new Promise<IteratorResult<never>>((_resolve, reject) =>
            options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
          ),
      }),
    }),
    publish: () => Promise.reject(new Error('unused')),
  }
  const waiting = joinPairing({
    identity: identity(),
    dht: hanging,
    code: 'abandon ability able about absent',
    deviceInfo: { name: 'b', type: 'y' },
  })
  setTimeout(() => waiting.cancel(), 20)
  await t.rejects(waiting.result, { code: 'PAIRING_CANCELLED' })
  t.same((await collect(waiting)).slice(-1), ['failed'])
})

t.test('a connection lost before the tag is retried on a new one; after the tag it is final', async (t) => {
  const { dht, port, advertiser } = await setup(t)
  const address = { host: '127.0.0.1', port, transport: 'tcp' as const }
  let connections = 0
  const joiner = joinPairing({
    identity: identity(),
    dht,
    code: advertiser.code,
    deviceInfo: { name: 'bob-phone', type: 'mobile' },
    connectAdvert: async (_advert, secure, signal) => {
      const socket = await tcpConnect(address, signal)
      const channel = await secure(socket, signal)
      // The first connection dies right after its handshake, before the joiner's hello went out.
      if (++connections === 1) socket.destroy()
      return { channel, address, path: 'direct' }
    },
  })
  const device = await joiner.result
  t.equal(device.name, 'alice-laptop', 'paired on the second connection')
  t.equal(connections, 2)
  t.equal((await advertiser.result).name, 'bob-phone')

  const next = await setup(t)
  const nextAddress = { host: '127.0.0.1', port: next.port, transport: 'tcp' as const }
  let attempts = 0
  const tagged = joinPairing({
    identity: identity(),
    dht: next.dht,
    code: next.advertiser.code,
    deviceInfo: { name: 'bob-phone', type: 'mobile' },
    connectAdvert: async (_advert, secure, signal) => {
      attempts++
      const socket = await tcpConnect(nextAddress, signal)
      const channel = await secure(socket, signal)
      const send = channel.send.bind(channel)
      let sent = 0
      // hello, then the tag: the connection dies as the tag goes out.
      channel.send = async (bytes) => {
        await send(bytes)
        if (++sent === 2) socket.destroy()
      }
      return { channel, address: nextAddress, path: 'direct' }
    },
  })
  await t.rejects(tagged.result, { code: 'PAIRING_CONNECTION_LOST' })
  t.equal(attempts, 1, 'a code whose tag went out is never tried again')
})
