import t from 'tap'
import { formatMessage, formatPeer } from '../../cli/format.js'

const device = { deviceId: 'AAAA-BBBB', name: 'bob', type: 'laptop', pairedAt: '2026-01-01T00:00:00.000Z' }

t.test(
  'a paired device reads online, offline with when, never-seen, or unknown without a daemon',
  async (t) => {
    t.match(formatPeer({ ...device, online: true, lastSeen: '2026-01-02T00:00:00.000Z' }), /online: yes$/)
    t.match(
      formatPeer({ ...device, online: false, lastSeen: '2026-01-02T00:00:00.000Z' }),
      /online: no \(last seen 2026-01-02T00:00:00.000Z\)$/,
    )
    t.match(
      formatPeer({ ...device, online: false, lastSeen: null }),
      /online: no \(not seen since the daemon/,
    )
    t.match(formatPeer({ ...device, online: null, lastSeen: null }), /online: unknown \(start the daemon/)
    t.match(formatPeer({ ...device, online: true, lastSeen: null }), /^"bob" AAAA-BBBB \(laptop/)
  },
)

t.test('a message names its sender and time', async (t) => {
  const line = formatMessage({
    deviceId: 'AAAA-BBBB',
    name: 'alice',
    text: 'hi',
    receivedAt: '2026-01-02T00:00:00.000Z',
  })
  t.equal(line, '[2026-01-02T00:00:00.000Z] "alice" AAAA-BBBB: hi')
})
