import t from 'tap'
import { Ed25519KeyPair, toHex } from '../../lib/crypto/index.js'
import {
  epochKeys,
  lookupPresence,
  openPresence,
  type PresenceDht,
  type PresenceDhtRecord,
  PresencePublisher,
  presenceConstants,
  sealPresence,
} from '../../lib/presence/index.js'

const alice = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(9))
const bob = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(8))
const carol = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(7))
const secretAB = new Uint8Array(32).fill(0xab)
const secretAC = new Uint8Array(32).fill(0xac)
const staticKey = new Uint8Array(32).fill(3)
const address = (port: number) => ({ host: '127.0.0.1', port, transport: 'tcp' as const })
const HOUR = presenceConstants.PRESENCE_EPOCH_MS
/** 10 minutes into epoch 500 000: lookups ask for epochs 500 000 and 499 999. */
const NOW = 500_000 * HOUR + 10 * 60_000

/** A DHT that answers `get` per key and records what is asked, published and withdrawn. */
class FakeDht implements PresenceDht {
  readonly records = new Map<string, PresenceDhtRecord[]>()
  readonly asked: { key: string; publicKey: string | undefined }[] = []
  readonly log: string[] = []
  /** Names keys in the log: the tests register the keys they expect. */
  readonly names = new Map<string, string>()
  storeFails = false

  async *get(_namespace: string, key: Uint8Array, options: { publicKey?: Uint8Array }) {
    this.asked.push({ key: toHex(key), publicKey: options.publicKey && toHex(options.publicKey) })
    yield* this.records.get(toHex(key)) ?? []
  }

  publish(namespace: string, key: Uint8Array, _value: Uint8Array, options: { ttlMs: number }) {
    const name = this.names.get(toHex(key)) ?? toHex(key)
    this.log.push(`publish ${namespace} ${name} ttl=${options.ttlMs}`)
    const stored = this.storeFails ? Promise.reject(new Error('DHT_NOT_STORED')) : Promise.resolve({})
    return { stored, withdraw: async () => void this.log.push(`withdraw ${name}`) }
  }
}

/** Bob's record for alice in `epoch` (as alice's lookup sees it), with `seq`. */
function bobRecord(epoch: number, seq: number, port: number | null) {
  const keys = epochKeys(secretAB, bob.publicKey, epoch)
  const context = { keys, publisherKey: bob.publicKey, recipientKey: alice.publicKey, identity: bob }
  const value =
    port === null ? new Uint8Array(0) : sealPresence({ addresses: [address(port)], staticKey }, context)
  return {
    key: toHex(keys.dhtKey),
    record: { publicKey: keys.signing.publicKey, seq, value, deleted: port === null },
  }
}

function put(dht: FakeDht, ...entries: { key: string; record: PresenceDhtRecord }[]): void {
  for (const { key, record } of entries) dht.records.set(key, [...(dht.records.get(key) ?? []), record])
}

const bobPeer = { identityKey: bob.publicKey, presenceSecret: secretAB }

t.test('a lookup asks for two epochs at derived keys and derived publishers: no identity key', async (t) => {
  const dht = new FakeDht()
  put(dht, bobRecord(500_000, 5, 5), bobRecord(500_000, 9, 9), bobRecord(500_000, 7, 7))
  const { record, skipped } = await lookupPresence(dht, alice.publicKey, bobPeer, { now: NOW })
  t.same(record?.addresses, [address(9)], 'the highest seq')
  t.equal(skipped, 0)
  const expected = [500_000, 499_999].map((epoch) => {
    const keys = epochKeys(secretAB, bob.publicKey, epoch)
    return { key: toHex(keys.dhtKey), publicKey: toHex(keys.signing.publicKey) }
  })
  t.same(dht.asked, expected)
  const identities = [alice, bob].map((pair) => toHex(pair.publicKey))
  for (const asked of dht.asked)
    t.notOk(identities.includes(asked.key) || identities.includes(asked.publicKey!))
})

t.test('a record whose publisher clock is in the adjacent epoch is found', async (t) => {
  const dht = new FakeDht()
  put(dht, bobRecord(499_999, 3, 3))
  t.same((await lookupPresence(dht, alice.publicKey, bobPeer, { now: NOW })).record?.addresses, [address(3)])
  const late = 500_000 * HOUR + 50 * 60_000
  const next = new FakeDht()
  put(next, bobRecord(500_001, 4, 4))
  t.same((await lookupPresence(next, alice.publicKey, bobPeer, { now: late })).record?.addresses, [
    address(4),
  ])
})

t.test('the newest epoch wins; within it the highest seq, tombstones included', async (t) => {
  const dht = new FakeDht()
  put(dht, bobRecord(499_999, 10, 1), bobRecord(500_000, 2, 2))
  t.same((await lookupPresence(dht, alice.publicKey, bobPeer, { now: NOW })).record?.addresses, [address(2)])
  const withdrawn = new FakeDht()
  put(withdrawn, bobRecord(500_000, 4, 4), bobRecord(500_000, 6, null))
  t.equal((await lookupPresence(withdrawn, alice.publicKey, bobPeer, { now: NOW })).record, null, 'offline')
  const moved = new FakeDht()
  put(moved, bobRecord(499_999, 20, null), bobRecord(500_000, 7, 7))
  const found = await lookupPresence(moved, alice.publicKey, bobPeer, { now: NOW })
  t.same(found.record?.addresses, [address(7)], "the old epoch's tombstone does not hide the new record")
  t.equal((await lookupPresence(new FakeDht(), alice.publicKey, bobPeer, { now: NOW })).record, null)
})

t.test(
  'records of another publisher, another pair or another recipient are skipped and counted',
  async (t) => {
    const dht = new FakeDht()
    const good = bobRecord(500_000, 3, 3)
    const keys = epochKeys(secretAB, bob.publicKey, 500_000)
    const forCarol = sealPresence(
      { addresses: [address(8)], staticKey },
      { keys, publisherKey: bob.publicKey, recipientKey: carol.publicKey, identity: bob },
    )
    const otherPair = epochKeys(secretAC, bob.publicKey, 500_000)
    const wrongKey = sealPresence(
      { addresses: [address(9)], staticKey },
      { keys: otherPair, publisherKey: bob.publicKey, recipientKey: alice.publicKey, identity: bob },
    )
    put(dht, good, {
      key: good.key,
      record: { ...good.record, publicKey: carol.publicKey, seq: 50 },
    })
    put(dht, { key: good.key, record: { ...good.record, seq: 51, value: forCarol } })
    put(dht, { key: good.key, record: { ...good.record, seq: 52, value: wrongKey } })
    put(dht, { key: good.key, record: { ...good.record, seq: 53, value: Uint8Array.of(0xff) } })
    const { record, skipped } = await lookupPresence(dht, alice.publicKey, bobPeer, { now: NOW })
    t.same(record?.addresses, [address(3)], 'the valid older record is used')
    t.equal(skipped, 4)
  },
)

/** A publisher of alice's records on a clock the test moves. */
function alicePublisher(dht: FakeDht, clock: { now: number }, extra: { retryBaseMs?: number } = {}) {
  return new PresencePublisher({ dht, keyPair: alice, staticKey, now: () => clock.now, ...extra })
}

/** Registers readable names for alice's keys for bob and carol in `epochs`. */
function nameKeys(dht: FakeDht, epochs: number[]): void {
  for (const epoch of epochs) {
    dht.names.set(toHex(epochKeys(secretAB, alice.publicKey, epoch).dhtKey), `bob@${epoch}`)
    dht.names.set(toHex(epochKeys(secretAC, alice.publicKey, epoch).dhtKey), `carol@${epoch}`)
  }
}

t.test('one record per peer; new addresses replace it; an unpaired peer is withdrawn', async (t) => {
  const dht = new FakeDht()
  nameKeys(dht, [500_000])
  const clock = { now: NOW }
  const publisher = alicePublisher(dht, clock)
  const ttl = presenceConstants.PRESENCE_TTL_MS
  await publisher.setPeers([bobPeer, { identityKey: carol.publicKey, presenceSecret: secretAC }])
  await publisher.update([address(1)])
  await publisher.update([address(1)])
  await publisher.update([address(2)])
  await publisher.setPeers([bobPeer])
  await publisher.update([])
  await publisher.close()
  await publisher.update([address(3)])
  t.same(dht.log, [
    `publish presence bob@500000 ttl=${ttl}`,
    `publish presence carol@500000 ttl=${ttl}`,
    'withdraw bob@500000',
    `publish presence bob@500000 ttl=${ttl}`,
    'withdraw carol@500000',
    `publish presence carol@500000 ttl=${ttl}`,
    'withdraw carol@500000',
    'withdraw bob@500000',
  ])
})

t.test('at an epoch change the new key is published first, then the old one withdrawn', async (t) => {
  const dht = new FakeDht()
  nameKeys(dht, [0, 1])
  const clock = { now: 100 }
  const publisher = new PresencePublisher({
    dht,
    keyPair: alice,
    staticKey,
    now: () => clock.now,
    epochMs: 300,
  })
  await publisher.setPeers([bobPeer])
  await publisher.update([address(1)])
  clock.now = 301
  await new Promise((resolve) => setTimeout(resolve, 400))
  await publisher.close()
  t.same(dht.log.slice(0, 3), [
    'publish presence bob@0 ttl=1200000',
    'publish presence bob@1 ttl=1200000',
    'withdraw bob@0',
  ])
  t.equal(dht.log.at(-1), 'withdraw bob@1')
})

t.test('the sealed value opens for the peer, with the addresses and static key', async (t) => {
  const values: Uint8Array[] = []
  const dht: PresenceDht = {
    get: new FakeDht().get,
    publish(_ns, _key, value) {
      values.push(value)
      return { stored: Promise.resolve(), withdraw: async () => {} }
    },
  }
  const publisher = alicePublisher(dht as FakeDht, { now: NOW })
  await publisher.setPeers([bobPeer])
  await publisher.update([address(4)])
  const keys = epochKeys(secretAB, alice.publicKey, 500_000)
  const opened = openPresence(values[0]!, {
    keys,
    publisherKey: alice.publicKey,
    recipientKey: bob.publicKey,
  })
  t.same(opened, { addresses: [address(4)], staticKey })
})

t.test('a record nobody stored is published again after the retry delay', async (t) => {
  const dht = new FakeDht()
  nameKeys(dht, [500_000])
  dht.storeFails = true
  const publisher = alicePublisher(dht, { now: NOW }, { retryBaseMs: 20 })
  await publisher.setPeers([bobPeer])
  await publisher.update([address(1)])
  await new Promise((resolve) => setTimeout(resolve, 80))
  dht.storeFails = false
  await new Promise((resolve) => setTimeout(resolve, 80))
  await publisher.close()
  const published = dht.log.filter((line) => line.startsWith('publish')).length
  t.ok(published >= 2, `published ${published} times`)
  t.equal(dht.log.at(-1), 'withdraw bob@500000', 'withdrawn at close')
  const count = dht.log.length
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.equal(dht.log.length, count, 'no retry after close')
})
