import fc from 'fast-check'
import t from 'tap'
import { MAX_DATA_MESSAGE } from '../../lib/relay/constants.js'
import { circuitMessages } from '../../lib/relay/stream.js'

const filled = (length: number, fill: number) => Buffer.alloc(length, fill)
/** True when `view` is a window on `of`'s memory rather than a copy. */
const sharesMemory = (view: Buffer, of: Buffer) =>
  view.buffer === of.buffer && view.byteOffset >= of.byteOffset && view.byteOffset < of.byteOffset + of.length

t.test("a Noise frame's ciphertext leaves as its own message; tag and next head are joined", (t) => {
  // What the channel writes for two full frames: 3-byte head, 65,518 bytes of body, 16-byte tag.
  const frames = [1, 2].flatMap((n) => [filled(3, n), filled(65_518, 10 + n), filled(16, 20 + n)])
  const messages = circuitMessages(frames)
  t.same(
    messages.map((m) => m.length),
    [3, 65_518, 19, 65_518, 16],
  )
  t.ok(sharesMemory(messages[1]!, frames[1]!), 'the first body is sent as it is, not copied')
  t.ok(sharesMemory(messages[3]!, frames[4]!), 'and so is the second')
  t.same(Buffer.concat(messages), Buffer.concat(frames), 'the bytes and their order are unchanged')
  t.end()
})

t.test('a piece longer than a message goes out as views of at most 65,536 bytes', (t) => {
  const piece = Buffer.from(Array.from({ length: 2 * MAX_DATA_MESSAGE + 5 }, (_, i) => i % 251))
  const messages = circuitMessages([piece])
  t.same(
    messages.map((m) => m.length),
    [MAX_DATA_MESSAGE, MAX_DATA_MESSAGE, 5],
  )
  t.ok(
    messages.every((m) => sharesMemory(m, piece)),
    'every message is a view of the piece',
  )
  t.same(Buffer.concat(messages), piece)
  t.end()
})

t.test('short pieces are joined up to the message limit, empty ones dropped', (t) => {
  const pieces = Array.from({ length: 100 }, (_, i) => filled(i % 2 === 0 ? 1000 : 0, i))
  const messages = circuitMessages(pieces)
  t.same(
    messages.map((m) => m.length),
    [50_000],
  )
  t.same(circuitMessages([filled(0, 0), filled(0, 0)]), [], 'nothing to send, no message (not an end)')
  const many = Array.from({ length: 70 }, (_, i) => filled(1000, i))
  t.same(
    circuitMessages(many).map((m) => m.length),
    [65_000, 5_000],
    'a run of short pieces never makes a message over the limit',
  )
  t.end()
})

t.test('any pieces: same bytes, every message 1..65,536 bytes, no long piece copied', (t) => {
  const piece = fc.oneof(fc.nat({ max: 2048 }), fc.integer({ min: 2049, max: 3 * MAX_DATA_MESSAGE }))
  fc.assert(
    fc.property(fc.array(piece, { maxLength: 40 }), (lengths) => {
      const pieces = lengths.map((length, i) => filled(length, i))
      const messages = circuitMessages(pieces)
      if (!Buffer.concat(messages).equals(Buffer.concat(pieces))) return false
      if (!messages.every((m) => m.length >= 1 && m.length <= MAX_DATA_MESSAGE)) return false
      const long = pieces.filter((p) => p.length > 1024)
      return long.every((p) => messages.some((m) => sharesMemory(m, p)))
    }),
    { numRuns: 300 },
  )
  t.pass('300 random piece lists held all three properties')
  t.end()
})
