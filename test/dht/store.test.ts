/**
 * The record store's per-source quota and withdrawals (`spec/dht.md` §7.2): a source group's own
 * tombstones make room for its live records, so withdrawing does not lock a publisher out until they
 * expire; a group's own live records are never evicted for it, and the quota still holds; a full store
 * makes room for a group holding less than the largest (max-min fair shares).
 */
import t from 'tap'
import { Ed25519KeyPair, sha256, utf8 } from '../../lib/crypto/index.js'
import { DEFAULT_LIMITS, WireError, type WireErrorCode } from '../../lib/dht/constants.js'
import { signRecord } from '../../lib/dht/record.js'
import { OWN_SOURCE, RecordStore } from '../../lib/dht/store.js'

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

/** Bytes one {@link liveRecord} is charged: its 100-byte value and the per-record overhead. */
const LIVE_BYTES = 100 + 160

/** A store that holds `records` of {@link liveRecord}'s size. */
function storeOf(records: number): RecordStore {
  return new RecordStore({ ...DEFAULT_LIMITS, storeBytes: records * LIVE_BYTES })
}

t.test(
  'a full store makes room for a new group from the largest one, its record expiring first',
  async (t) => {
    const store = storeOf(10)
    for (let i = 0; i < 6; i++) t.equal(liveRecord(store, `big ${i}`, '10.1.1', NOW + i), WireError.OK)
    for (let i = 0; i < 4; i++) t.equal(liveRecord(store, `small ${i}`, '10.2.2', NOW + 10 + i), WireError.OK)
    t.equal(store.bytes, 10 * LIVE_BYTES, 'the store is full')
    t.equal(liveRecord(store, 'newcomer', '10.3.3', NOW + 20), WireError.OK, 'a new group still stores')
    t.equal(store.bytes, 10 * LIVE_BYTES, 'within the cap')
    t.same(store.get('pairing', key('big 0'), NOW + 30), [], "the largest group's earliest record went")
    t.equal(store.get('pairing', key('big 1'), NOW + 30).length, 1, 'its others stay')
    for (let i = 0; i < 4; i++)
      t.equal(store.get('pairing', key(`small ${i}`), NOW + 30).length, 1, 'the smaller group lost nothing')
  },
)

t.test('groups trade places only down to equal shares, and never at the expense of themselves', async (t) => {
  const store = storeOf(4)
  for (let i = 0; i < 4; i++) t.equal(liveRecord(store, `one each ${i}`, `10.0.${i}`), WireError.OK)
  t.equal(liveRecord(store, 'fifth group', '10.0.9'), WireError.STORE_FULL, 'every group holds one: full')
  t.equal(liveRecord(store, 'second of 10.0.0', '10.0.0'), WireError.STORE_FULL, 'nor may one take a second')
  t.equal(store.size, 4)
  const single = storeOf(3)
  for (let i = 0; i < 3; i++) t.equal(liveRecord(single, `only ${i}`, '10.5.5'), WireError.OK)
  t.equal(
    liveRecord(single, 'more', '10.5.5'),
    WireError.STORE_FULL,
    'the largest group does not evict itself',
  )
})

t.test("the node's own records are never dropped for another group", async (t) => {
  const store = storeOf(3)
  for (let i = 0; i < 3; i++) t.equal(liveRecord(store, `own ${i}`, OWN_SOURCE), WireError.OK)
  t.equal(liveRecord(store, 'visitor', '10.4.4'), WireError.STORE_FULL)
  for (let i = 0; i < 3; i++) t.equal(store.get('pairing', key(`own ${i}`), NOW + 20_000).length, 1)
})

t.test('a record re-published from another group into a full store replaces its old copy once', async (t) => {
  const store = storeOf(4)
  const label = 'moved'
  const publisher = pair(label)
  const k = key(label)
  const put = (seq: number, source: string) =>
    store.put(
      'pairing',
      k,
      signRecord('pairing', k, { seq, expiresAt: NOW + 600_000, value: new Uint8Array(99 + seq) }, publisher),
      source,
      NOW,
    )
  t.equal(put(1, '10.6.6'), WireError.OK)
  for (let i = 0; i < 3; i++) t.equal(liveRecord(store, `filler ${i}`, '10.6.6', NOW), WireError.OK)
  t.equal(put(2, '10.7.7'), WireError.OK, 'the publisher moved networks; its larger record still fits')
  t.equal(store.get('pairing', k, NOW).length, 1, 'one copy, the new one')
  t.equal(store.get('pairing', k, NOW)[0]?.s, 2)
  t.ok(store.bytes <= 4 * LIVE_BYTES, `${store.bytes} B within the cap`)
  t.equal(store.size, 3, 'the old copy and one filler of the largest group made room')
})
