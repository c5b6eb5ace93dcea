/** The ephemeral key pool (spec/noise.md §2.5): fresh pairs, each handed out once, generated ahead of need. */
import t from 'tap'
import { toHex, X25519KeyPair } from '../../lib/crypto/index.js'
import { EphemeralPool } from '../../lib/noise/ephemeral.js'

t.test('an empty pool still hands out working key pairs', async (t) => {
  const pool = new EphemeralPool(4)
  t.equal(pool.available, 0)
  const pair = pool.take()
  const peer = X25519KeyPair.generate()
  t.same(pair.dh(peer.publicKey), peer.dh(pair.publicKey))
  t.equal(pool.available, 0, 'taking from an empty pool does not fill it')
})

t.test('fill tops the pool up to its size and take hands each pair out once', async (t) => {
  const pool = new EphemeralPool(4)
  t.notOk(pool.full)
  t.equal(pool.fill(), 4)
  t.equal(pool.available, 4)
  t.ok(pool.full)
  t.equal(pool.fill(), 0, 'a full pool makes nothing')
  const seen = new Set<string>()
  for (let i = 0; i < 4; i++) seen.add(toHex(pool.take().publicKey))
  t.equal(pool.available, 0)
  t.equal(pool.fill(), 4, 'refills after being drained')
  for (let i = 0; i < 6; i++) seen.add(toHex(pool.take().publicKey))
  t.equal(seen.size, 10, 'ten takes, ten distinct key pairs')
})

t.test('a pool of size 0 generates on every take', async (t) => {
  const pool = new EphemeralPool(0)
  t.equal(pool.fill(), 0)
  t.not(toHex(pool.take().publicKey), toHex(pool.take().publicKey))
})
