import t from 'tap'
import { formatDevice, formatMessage, formatPeer, formatProgress, localTime } from '../../cli/format.js'
import { jsonLine, printable } from '../../cli/text.js'

/** True when `text` holds a C0/C1 control, DEL, a bidi override/isolate or a line separator. */
function hasRaw(text: string): boolean {
  return [...text].some((char) => {
    const code = char.codePointAt(0)!
    return (
      code < 0x20 ||
      (code >= 0x7f && code <= 0x9f) ||
      (code >= 0x202a && code <= 0x202e) ||
      (code >= 0x2066 && code <= 0x2069) ||
      code === 0x2028
    )
  })
}

const device = { deviceId: 'AAAA-BBBB', name: 'bob', type: 'laptop', pairedAt: '2026-01-01T00:00:00.000Z' }

t.test(
  'a paired device reads online (with its path), offline with when, never-seen, or unknown without a daemon',
  async (t) => {
    t.match(formatPeer({ ...device, online: true, lastSeen: '2026-01-02T00:00:00.000Z' }), /online: yes$/)
    const online = { ...device, online: true, lastSeen: '2026-01-02T00:00:00.000Z' }
    t.match(formatPeer({ ...online, path: 'holepunch' }), /online: yes \(hole-punched\)$/)
    t.match(formatPeer({ ...online, path: 'relay', relayed: true }), /online: yes \(through a relay\)$/)
    t.match(
      formatPeer({ ...device, online: false, lastSeen: '2026-01-02T00:00:00.000Z' }),
      `online: no (last seen ${localTime('2026-01-02T00:00:00.000Z')})`,
    )
    t.match(
      formatPeer({ ...device, online: false, lastSeen: null }),
      /online: no \(not seen since the daemon/,
    )
    t.match(formatPeer({ ...device, online: null, lastSeen: null }), /online: unknown \(start the daemon/)
    t.match(formatPeer({ ...device, online: true, lastSeen: null }), /^"bob" AAAA-BBBB \(laptop/)
  },
)

t.test('terminal times are local, 24-hour, one format everywhere', async (t) => {
  const iso = '2026-01-02T13:04:05.000Z'
  const time = new Date(iso)
  const two = (n: number) => String(n).padStart(2, '0')
  const expected = `${time.getFullYear()}-${two(time.getMonth() + 1)}-${two(time.getDate())} ${two(time.getHours())}:${two(time.getMinutes())}:${two(time.getSeconds())}`
  t.equal(localTime(iso), expected)
  t.match(formatDevice(device), `paired ${localTime(device.pairedAt)}`)
  const code = formatProgress({ type: 'code', code: 'acid-bulk-cove-dune-echo', expiresAt: iso })
  t.match(code, `valid until ${expected}`)
  t.notMatch(code, /[AP]M/, 'no 12-hour clock')
})

t.test('a message names its sender and time', async (t) => {
  const line = formatMessage({
    deviceId: 'AAAA-BBBB',
    name: 'alice',
    text: 'hi',
    receivedAt: '2026-01-02T00:00:00.000Z',
  })
  t.equal(line, `[${localTime('2026-01-02T00:00:00.000Z')}] "alice" AAAA-BBBB: hi`)
})

t.test('a peer cannot colour, move the cursor or forge lines: its text is escaped', async (t) => {
  const hostile = {
    deviceId: 'AAAA-BBBB',
    name: 'ev\u202eil\x1b[2J',
    text: '\x1b[31mRED\r\npairctl: fake line\x07\x9b\u2028',
    receivedAt: '2026-01-02T00:00:00.000Z',
  }
  const line = formatMessage(hostile)
  t.notOk(hasRaw(line), 'nothing raw reaches the terminal')
  t.match(line, '\\x1b[31mRED\\x0d\\x0apairctl: fake line\\x07\\x9b\\u2028')
  t.match(line, '"ev\\u202eil\\x1b[2J"')
  const shown = formatDevice({ ...device, name: 'a\nb', type: 'x\u2066y' })
  t.equal(shown.split('\n').length, 1, 'a name cannot add a line')
  t.match(shown, '"a\\x0ab" AAAA-BBBB (x\\u2066y,')
  t.equal(printable('plain text, ünïcode'), 'plain text, ünïcode', 'ordinary text is unchanged')
})

t.test('JSON lines stay parseable and escape what JSON.stringify leaves raw', async (t) => {
  const record = { type: 'message', text: '\x1b[31m\n\u202e\x85\x7f' }
  const line = jsonLine(record)
  t.notOk(hasRaw(line), 'no raw control or bidi character in the line')
  t.same(JSON.parse(line), record, 'the same value after parsing')
})
