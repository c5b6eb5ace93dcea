/**
 * The record store's per-source quota and withdrawals (`spec/dht.md` §7.2): a source group's own
 * tombstones make room for its live records, so withdrawing does not lock a publisher out until they
 * expire; live records are never evicted, and the quota still holds.
 */
import t from 'tap'
import { Ed25519KeyPair, sha256, utf8 } from '../../lib/crypto/index.js'
import { DEFAULT_LIMITS, WireError, type WireErrorCode } from '../../lib/dht/constants.js'
import { signRecord } from '../../lib/dht/record.js'
import { RecordStore } from '../../lib/dht/store.js'

const NOW = 1_800_000_000_000
const QUOTA = DEFAULT_LIMITS.recordsPerSource
const SOURCE = '10.1.2'
const pair = (label: string) => Ed25519KeyPair.fromSeed(sha256(utf8(label)))
const key = (label: string) => sha256(utf8(`key ${label}`))

/** One pairing cycle: an advert at a fresh key, then its withdrawal (the tombstone), as `withdraw` does. */
function pairAndWithdraw(store: RecordStore, i: number, source = SOURCE, now = NOW + i): WireErrorCode {
  const publisher = pair(`advert ${i}`)
  const k = key(`advert ${i}`)
  const put = (seq: number, value: Uint8Array) =>
    store.put(
      'pairing',
      k,
      signRecord('pairing', k, { seq, expiresAt: now + 600_000, value }, publisher),
      source,
      now,
    )
  const published = put(1, new Uint8Array(200))
  return published === WireError.OK ? put(2, new Uint8Array(0)) : published
}

function liveRecord(store: RecordStore, label: string, source = SOURCE, now = NOW + 10_000): WireErrorCode {
  const k = key(label)
  const r = signRecord(
    'pairing',
    k,
    { seq: 1, expiresAt: now + 600_000, value: new Uint8Array(100) },
    pair(label),
  )
  return store.put('pairing', k, r, source, now)
}

t.test('a source whose quota is full of its own tombstones still stores its next records', async (t) => {
  const store = new RecordStore(DEFAULT_LIMITS)
  for (let i = 0; i < QUOTA; i++) t.equal(pairAndWithdraw(store, i), WireError.OK)
  t.equal(store.size, QUOTA, 'the quota holds tombstones only')
  t.equal(pairAndWithdraw(store, QUOTA), WireError.OK, 'one more pairing cycle is stored')
  t.equal(liveRecord(store, 'next advert'), WireError.OK, 'and the next advert')
  t.equal(store.size, QUOTA, 'the quota still holds')
  const oldest = key('advert 0')
  t.same(store.get('pairing', oldest, NOW + 20_000), [], 'the tombstone that expired first made room')
  t.equal(store.get('pairing', key(`advert ${QUOTA - 1}`), NOW + 20_000)[0]?.v.length, 0, 'newer ones stay')
})

t.test('live records are never evicted: a quota of live records is still full', async (t) => {
  const store = new RecordStore(DEFAULT_LIMITS)
  for (let i = 0; i < QUOTA; i++) t.equal(liveRecord(store, `live ${i}`), WireError.OK)
  t.equal(liveRecord(store, 'one too many'), WireError.STORE_FULL)
  for (let i = 0; i < QUOTA; i++) t.equal(store.get('pairing', key(`live ${i}`), NOW + 20_000).length, 1)
})

t.test("a tombstone does not evict a tombstone, nor another source's", async (t) => {
  const store = new RecordStore(DEFAULT_LIMITS)
  for (let i = 0; i < QUOTA; i++) pairAndWithdraw(store, i, '10.9.9')
  for (let i = 0; i < QUOTA; i++) t.equal(liveRecord(store, `mine ${i}`), WireError.OK)
  t.equal(liveRecord(store, 'one too many'), WireError.STORE_FULL, "the other source's tombstones stay")
  t.equal(store.size, 2 * QUOTA)
  const k = key('bare tombstone')
  const tombstone = signRecord(
    'pairing',
    k,
    { seq: 1, expiresAt: NOW + 600_000, value: new Uint8Array(0) },
    pair('t'),
  )
  const full = new RecordStore(DEFAULT_LIMITS)
  for (let i = 0; i < QUOTA; i++) pairAndWithdraw(full, i)
  t.equal(full.put('pairing', k, tombstone, SOURCE, NOW + 10_000), WireError.STORE_FULL)
})
