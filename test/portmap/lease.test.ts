/** Lease bookkeeping with a virtual clock: renew at half lifetime, retry, loss (spec/portmap.md §6). */
import t from 'tap'
import { LeaseTable } from '../../lib/portmap/lease.js'

t.test('renewal is due at half the granted lifetime', async (t) => {
  const table = new LeaseTable<string>()
  t.equal(table.grant('a', 1000, 120), 121_000)
  table.grant('b', 1000, 60)
  t.equal(table.pollTimeout(), 31_000)
  t.same(table.handleTimeout(30_999), [])
  t.same(table.handleTimeout(31_000), ['b'])
  t.equal(table.pollTimeout(), 61_000, 'b is parked while its renewal runs')
  table.grant('b', 31_500, 60)
  t.equal(table.pollTimeout(), 61_000)
  t.same(table.handleTimeout(61_500), ['a', 'b'])
})

t.test('a failed renewal retries at half the remaining time, then the lease is lost', async (t) => {
  const table = new LeaseTable<string>()
  table.grant('a', 0, 10)
  t.same(table.handleTimeout(5000), ['a'])
  t.equal(table.renewalFailed('a', 5000), 'retry')
  t.equal(table.pollTimeout(), 7500)
  t.same(table.handleTimeout(7500), ['a'])
  t.equal(table.renewalFailed('a', 7500), 'retry')
  t.equal(table.pollTimeout(), 8750)
  t.same(table.handleTimeout(8750), ['a'])
  t.equal(table.renewalFailed('a', 8750), 'lost')
  t.equal(table.pollTimeout(), null)
  t.equal(table.renewalFailed('unknown', 0), 'lost')
})

t.test('lifetime 0 is permanent: never renewed; remove forgets', async (t) => {
  const table = new LeaseTable<string>()
  t.equal(table.grant('p', 0, 0), Number.POSITIVE_INFINITY)
  t.equal(table.pollTimeout(), null)
  table.grant('x', 0, 4)
  table.remove('x')
  t.equal(table.pollTimeout(), null)
  t.same(table.handleTimeout(1e12), [])
})
