/** Gateway reboot detection from NAT-PMP / PCP epochs (RFC 6887 §8.5), with a virtual clock. */
import t from 'tap'
import { EpochTracker } from '../../lib/portmap/epoch.js'

t.test('an epoch advancing with our clock is fine, within 1/16 + 2 s', async (t) => {
  const tracker = new EpochTracker()
  t.equal(tracker.observe(1000, 0), false, 'first observation')
  t.equal(tracker.observe(1100, 100_000), false, 'exact')
  t.equal(tracker.observe(1200, 201_000), false, '1 s slow')
  t.equal(tracker.observe(1200, 201_500), false, 'same epoch half a second later')
})

t.test('an epoch going backwards or lagging far behind means the gateway lost its state', async (t) => {
  const back = new EpochTracker()
  back.observe(1000, 0)
  t.equal(back.observe(3, 1000), true, 'rebooted')
  t.equal(back.observe(4, 2000), false, 'the new epoch is then the reference')
  const lagging = new EpochTracker()
  lagging.observe(1000, 0)
  t.equal(lagging.observe(1010, 100_000), true, 'server advanced 10 s while we advanced 100 s')
  const racing = new EpochTracker()
  racing.observe(1000, 0)
  t.equal(racing.observe(1100, 10_000), true, 'server advanced 100 s while we advanced 10 s')
})
