import t from 'tap'
import { z } from 'zod'
import { decodeCbor } from '../../lib/cbor.js'
import {
  encodeFrame,
  isStreamFrame,
  MuxCore,
  type MuxEvent,
  transferConstants,
} from '../../lib/transfer/index.js'
import { nextFrame } from './helpers/frames.js'

const { FRAME, MAX_DATA_LENGTH } = transferConstants

/** Moves every frame `from` has to send into `to`; returns how many. */
function deliver(from: MuxCore, to: MuxCore, now = 0): number {
  let count = 0
  for (let frame = nextFrame(from); frame !== null; frame = nextFrame(from)) {
    to.receive(frame, now)
    count++
  }
  return count
}

function events(core: MuxCore): MuxEvent[] {
  const out: MuxEvent[] = []
  for (let event = core.nextEvent(); event !== null; event = core.nextEvent()) out.push(event)
  return out
}

t.test('a request gets its response by id; CBOR link messages are never taken for frames', async (t) => {
  const a = new MuxCore()
  const b = new MuxCore()
  const first = a.request(Uint8Array.of(1), 0, 1000)
  const second = a.request(Uint8Array.of(2), 0, 1000)
  deliver(a, b)
  const requests = events(b)
  t.same(
    requests.map((e) => e.type === 'request' && [...e.body]),
    [[1], [2]],
  )
  if (requests[1]?.type === 'request') b.respond(requests[1].id, Uint8Array.of(20))
  if (requests[0]?.type === 'request') b.respondError(requests[0].id, 'TRANSFER_REJECTED', 'no')
  deliver(b, a)
  const answers = events(a)
  t.same(answers[0], { type: 'response', id: second, body: Uint8Array.of(20) })
  t.equal(answers[1]?.type, 'request-failed')
  if (answers[1]?.type === 'request-failed') {
    t.equal(answers[1].id, first)
    t.equal(answers[1].error.code, 'TRANSFER_REJECTED', 'a known code comes back typed')
  }
  t.notOk(isStreamFrame(Uint8Array.of(0xa2, 0x61, 0x76)), 'a CBOR map is a link message')
  t.ok(isStreamFrame(encodeFrame(FRAME.data, 1)))
})

t.test('a request without an answer times out with STREAM_TIMEOUT; a late answer is dropped', async (t) => {
  const a = new MuxCore()
  const b = new MuxCore()
  const id = a.request(Uint8Array.of(1), 100, 500)
  t.equal(a.pollTimeout(), 600)
  // b is heard from meanwhile (a request of its own), so the link is alive, only this answer is late.
  b.request(Uint8Array.of(2), 300, 10_000)
  deliver(b, a, 300)
  events(a)
  a.handleTimeout(599)
  t.same(events(a), [])
  a.handleTimeout(600)
  t.same(
    events(a).map((event) => (event.type === 'request-failed' ? event.error.code : event.type)),
    ['STREAM_TIMEOUT'],
    'only the timeout: the peer was heard',
  )
  t.equal(a.pollTimeout(), null)
  t.notOk(a.closed)
  deliver(a, b)
  b.respond(id, Uint8Array.of(9))
  deliver(b, a, 700)
  t.same(events(a), [], 'nothing for a request already failed')
  t.equal(a.discarded, 1)
})

t.test('a request that times out with nothing heard since it was sent takes the link for dead', async (t) => {
  const a = new MuxCore()
  const b = new MuxCore()
  // Heard once, before the request: that does not count for it.
  b.request(Uint8Array.of(2), 0, 10_000)
  deliver(b, a, 50)
  events(a)
  const stream = a.open(Uint8Array.of(7))
  a.request(Uint8Array.of(1), 100, 500)
  a.request(Uint8Array.of(3), 200, 5_000)
  deliver(a, b)
  // The link lost everything from here on, both ways: b's answers never come.
  a.handleTimeout(600)
  const seen = events(a).map((event) =>
    event.type === 'request-failed'
      ? `failed ${event.error.code}`
      : event.type === 'stream-reset'
        ? `reset ${event.stream} ${event.error.code}`
        : event.type,
  )
  t.same(
    seen,
    ['failed STREAM_TIMEOUT', 'silent', 'failed STREAM_LINK_CLOSED', `reset ${stream} STREAM_LINK_CLOSED`],
    'the timed-out request, the verdict, then everything else on the link fails as on a close',
  )
  t.ok(a.closed, 'the core closed')
  t.throws(() => a.request(Uint8Array.of(4), 700, 500), { code: 'STREAM_LINK_CLOSED' })
})

t.test('a stream never sends beyond its credit, and the reader grants more as it consumes', async (t) => {
  const window = 200_000
  const a = new MuxCore({ window })
  const b = new MuxCore({ window })
  const stream = a.open(Uint8Array.of(7))
  a.write(stream, new Uint8Array(1_000_000).fill(3))
  deliver(a, b)
  const got = events(b)
  t.equal(got[0]?.type, 'stream-open')
  const data = got.filter((e) => e.type === 'stream-data')
  const bytes = data.reduce((sum, e) => sum + (e.type === 'stream-data' ? e.data.length : 0), 0)
  t.equal(bytes, window, 'exactly the window arrived')
  t.ok(data.every((e) => e.type === 'stream-data' && e.data.length <= MAX_DATA_LENGTH))
  t.equal(a.buffered(stream), 1_000_000 - window, 'the rest waits for credit')
  b.consume(stream, window)
  deliver(b, a)
  deliver(a, b)
  const more = events(b).reduce((sum, e) => sum + (e.type === 'stream-data' ? e.data.length : 0), 0)
  t.equal(more, window, 'one more window after the credit')
})

t.test('data beyond the credit is a flow violation: the core closes and reports it', async (t) => {
  const b = new MuxCore({ window: 1000 })
  b.receive(encodeFrame(FRAME.open, 1, Uint8Array.of(0)), 0)
  b.receive(encodeFrame(FRAME.data, 1, new Uint8Array(1000)), 0)
  t.same(
    events(b).map((e) => e.type),
    ['stream-open', 'stream-data'],
  )
  b.receive(encodeFrame(FRAME.data, 1, new Uint8Array(1)), 0)
  const fatal = events(b).find((e) => e.type === 'error')
  t.equal(fatal?.type === 'error' && fatal.error.code, 'STREAM_FLOW_VIOLATION')
  t.ok(b.closed)
})

t.test('frames for streams never opened, unknown kinds and short frames are protocol errors', async (t) => {
  for (const frame of [
    encodeFrame(FRAME.data, 5, Uint8Array.of(1)),
    encodeFrame(FRAME.credit, 3, Uint8Array.of(0, 0, 0, 1)),
    encodeFrame(0x0f, 1),
    Uint8Array.of(FRAME.request, 0, 0),
  ]) {
    const core = new MuxCore()
    core.receive(frame, 0)
    const fatal = events(core).find((e) => e.type === 'error')
    t.equal(
      fatal?.type === 'error' && fatal.error.code,
      'STREAM_PROTOCOL',
      `refused: ${[...frame.slice(0, 5)]}`,
    )
  }
})

t.test('a request is sent before the rest of a long stream: control frames go first', async (t) => {
  const a = new MuxCore()
  const stream = a.open(Uint8Array.of(1))
  a.write(stream, new Uint8Array(3 * MAX_DATA_LENGTH))
  a.pollTransmit()
  a.pollTransmit()
  a.request(Uint8Array.of(42), 0, 1000)
  const next = nextFrame(a)
  t.equal(next?.[0], FRAME.request, 'the request jumps the queued data')
})

t.test('two streams share the link round-robin: neither waits for the other to finish', async (t) => {
  const a = new MuxCore()
  const one = a.open(Uint8Array.of(1))
  const two = a.open(Uint8Array.of(2))
  a.write(one, new Uint8Array(4 * MAX_DATA_LENGTH))
  a.write(two, new Uint8Array(4 * MAX_DATA_LENGTH))
  a.pollTransmit()
  a.pollTransmit()
  const order: number[] = []
  for (let i = 0; i < 4; i++) {
    const frame = nextFrame(a)!
    order.push(new DataView(frame.buffer).getUint32(1))
  }
  t.same(order, [one, two, one, two])
})

t.test('stop and reset end a stream on both sides; late data for it is dropped', async (t) => {
  const a = new MuxCore()
  const b = new MuxCore()
  const stream = a.open(Uint8Array.of(1))
  a.write(stream, new Uint8Array(10))
  deliver(a, b)
  events(b)
  b.stop(stream, 'TRANSFER_UNREQUESTED', 'not asked for')
  a.write(stream, new Uint8Array(10))
  deliver(b, a)
  const [reset] = events(a)
  t.equal(reset?.type === 'stream-reset' && reset.error.code, 'TRANSFER_UNREQUESTED')
  t.equal(a.write(stream, new Uint8Array(1)), false, 'a stopped stream takes no more data')
  b.receive(encodeFrame(FRAME.data, stream, Uint8Array.of(1)), 0)
  t.same(events(b), [], 'in-flight data after a stop is dropped, not an error')
  t.notOk(b.closed)
  const c = new MuxCore()
  const d = new MuxCore()
  const s = c.open(Uint8Array.of(1))
  deliver(c, d)
  events(d)
  c.reset(s, 'TRANSFER_CANCELLED', 'cancelled')
  deliver(c, d)
  const [peerReset] = events(d)
  t.equal(
    peerReset?.type === 'stream-reset' && peerReset.incoming && peerReset.error.code,
    'TRANSFER_CANCELLED',
  )
})

t.test('closing fails every request and stream with STREAM_LINK_CLOSED', async (t) => {
  const a = new MuxCore()
  a.request(Uint8Array.of(1), 0, 1000)
  a.open(Uint8Array.of(1))
  a.close()
  const closed = events(a)
  t.same(
    closed.map((e) => e.type),
    ['request-failed', 'stream-reset'],
  )
  t.ok(closed.every((e) => 'error' in e && e.error.code === 'STREAM_LINK_CLOSED'))
  t.throws(() => a.request(Uint8Array.of(1), 0, 10), { code: 'STREAM_LINK_CLOSED' })
})

t.test('a DATA frame carries the written bytes as views, not copies', async (t) => {
  const a = new MuxCore()
  const stream = a.open(Uint8Array.of(1))
  const written = new Uint8Array(MAX_DATA_LENGTH + 100)
  a.write(stream, written)
  a.pollTransmit()
  const [header, ...payload] = a.pollTransmit()!
  t.equal(header?.length, 5)
  t.same(
    payload.map((piece) => [piece.buffer === written.buffer, piece.byteOffset, piece.length]),
    [[true, 0, MAX_DATA_LENGTH]],
  )
  const [, ...rest] = a.pollTransmit()!
  t.same(
    rest.map((piece) => [piece.buffer === written.buffer, piece.byteOffset, piece.length]),
    [[true, MAX_DATA_LENGTH, 100]],
  )
})

t.test('an ERROR body is {code, message} CBOR', async (t) => {
  const a = new MuxCore()
  a.respondError(9, 'TRANSFER_NOT_FOUND', 'gone')
  const frame = nextFrame(a)!
  t.equal(frame[0], FRAME.error)
  const body = decodeCbor(z.object({ code: z.string(), message: z.string() }), frame.subarray(5))
  t.same(body, { code: 'TRANSFER_NOT_FOUND', message: 'gone' })
})
