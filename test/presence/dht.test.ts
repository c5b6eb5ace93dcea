import t from 'tap'
import { encodeCbor } from '../../lib/cbor.js'
import { Ed25519KeyPair, toHex } from '../../lib/crypto/index.js'
import {
  decodePresence,
  encodePresence,
  lookupPresence,
  type PresenceDht,
  type PresenceDhtRecord,
  PresencePublisher,
  presenceConstants,
  presenceKey,
} from '../../lib/presence/index.js'

const keyPair = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(9))
const staticKey = new Uint8Array(32).fill(3)
const address = (port: number) => ({ host: '127.0.0.1', port, transport: 'tcp' as const })

/** A DHT that answers `get` with fixed records and records what is published and withdrawn. */
class FakeDht implements PresenceDht {
  records: PresenceDhtRecord[] = []
  log: string[] = []
  asked: { key: string; publicKey: string | undefined }[] = []
  storeFails = false

  async *get(_namespace: string, key: Uint8Array, options: { publicKey?: Uint8Array }) {
    this.asked.push({ key: toHex(key), publicKey: options.publicKey && toHex(options.publicKey) })
    yield* this.records
  }

  publish(namespace: string, key: Uint8Array, value: Uint8Array, options: { ttlMs: number }) {
    const port = decodePresence(value).addresses[0]?.port
    this.log.push(`publish ${namespace} ${toHex(key).slice(0, 8)} ${port} ttl=${options.ttlMs}`)
    const stored = this.storeFails ? Promise.reject(new Error('DHT_NOT_STORED')) : Promise.resolve({})
    return { stored, withdraw: async () => void this.log.push(`withdraw ${port}`) }
  }
}

const record = (seq: number, value: Uint8Array, extra: Partial<PresenceDhtRecord> = {}) => ({
  publicKey: keyPair.publicKey,
  seq,
  value,
  deleted: value.length === 0,
  ...extra,
})
const valid = (port: number) => encodePresence({ addresses: [address(port)], staticKey })

t.test('lookup asks for the presence key, of that publisher only, and keeps the highest seq', async (t) => {
  const dht = new FakeDht()
  dht.records = [record(5, valid(5)), record(9, valid(9)), record(7, valid(7))]
  const { record: found, skipped } = await lookupPresence(dht, keyPair.publicKey)
  t.same(found?.addresses, [address(9)])
  t.equal(skipped, 0)
  t.same(dht.asked, [{ key: toHex(presenceKey(keyPair.publicKey)), publicKey: toHex(keyPair.publicKey) }])
})

t.test('a corrupt or foreign record is skipped and counted; an older valid one is used', async (t) => {
  const dht = new FakeDht()
  const other = Ed25519KeyPair.fromSeed(new Uint8Array(32).fill(1)).publicKey
  dht.records = [
    record(3, valid(3)),
    record(8, encodeCbor({ v: 1, addrs: 'nowhere', noise: staticKey })),
    record(9, Uint8Array.of(0xff)),
    record(10, valid(10), { publicKey: other }),
  ]
  const { record: found, skipped } = await lookupPresence(dht, keyPair.publicKey)
  t.same(found?.addresses, [address(3)])
  t.equal(skipped, 3)
})

t.test('a tombstone above every record means offline; below, it is superseded', async (t) => {
  const dht = new FakeDht()
  dht.records = [record(4, valid(4)), record(6, new Uint8Array(0))]
  t.equal((await lookupPresence(dht, keyPair.publicKey)).record, null)
  dht.records = [record(6, new Uint8Array(0)), record(7, valid(7))]
  t.same((await lookupPresence(dht, keyPair.publicKey)).record?.addresses, [address(7)])
  dht.records = []
  t.equal((await lookupPresence(dht, keyPair.publicKey)).record, null, 'nothing at all')
})

t.test('the publisher publishes once per distinct address list, withdrawing the old one first', async (t) => {
  const dht = new FakeDht()
  const publisher = new PresencePublisher({ dht, keyPair, staticKey })
  const key = toHex(presenceKey(keyPair.publicKey)).slice(0, 8)
  const ttl = presenceConstants.PRESENCE_TTL_MS
  await publisher.update([address(1)])
  await publisher.update([address(1)])
  await publisher.update([address(2)])
  await publisher.update([])
  await publisher.close()
  await publisher.update([address(3)])
  t.same(dht.log, [
    `publish presence ${key} 1 ttl=${ttl}`,
    'withdraw 1',
    `publish presence ${key} 2 ttl=${ttl}`,
    'withdraw 2',
  ])
})

t.test('a record nobody stored is published again after the retry delay', async (t) => {
  const dht = new FakeDht()
  dht.storeFails = true
  const publisher = new PresencePublisher({ dht, keyPair, staticKey, retryBaseMs: 20 })
  await publisher.update([address(1)])
  await new Promise((resolve) => setTimeout(resolve, 80))
  dht.storeFails = false
  await new Promise((resolve) => setTimeout(resolve, 80))
  await publisher.close()
  const published = dht.log.filter((line) => line.startsWith('publish')).length
  t.ok(published >= 2, `published ${published} times`)
  t.equal(dht.log.at(-1), 'withdraw 1', 'withdrawn at close')
  const count = dht.log.length
  await new Promise((resolve) => setTimeout(resolve, 80))
  t.equal(dht.log.length, count, 'no retry after close')
})
