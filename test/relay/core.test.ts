import fc from 'fast-check'
import t from 'tap'
import { toHex } from '../../lib/crypto/index.js'
import { CLOSE, encodeClientMessage } from '../../lib/relay/index.js'
import { CoreHarness, token } from './helpers/core-harness.js'

t.test('a dialer presenting a reserved token is spliced to the listener, bytes pass unchanged', async (t) => {
  const h = new CoreHarness({ reservationLifetimeMs: 60_000 })
  const listener = h.reserve(token(1))
  t.same(h.messages(listener), [{ v: 1, t: 'reserved', ttl: 60_000 }])
  const dialer = h.open('192.0.2.7')
  h.control(dialer, { v: 1, t: 'connect', tk: token(1) })
  const [incoming] = h.messages(listener)
  t.equal(incoming?.t, 'incoming')
  if (incoming?.t !== 'incoming') return
  t.same(incoming.tk, token(1), 'the listener learns which token was dialed')
  t.same(h.messages(dialer), [], 'the dialer waits for the accept')
  const acceptor = h.open('198.51.100.1')
  h.control(acceptor, { v: 1, t: 'accept', c: incoming.c })
  t.same(h.messages(dialer), [{ v: 1, t: 'connected' }])
  t.same(h.messages(acceptor), [{ v: 1, t: 'connected' }])
  t.same(h.events, [{ type: 'circuit-open', circuit: toHex(incoming.c), ips: ['192.0.2.7', '198.51.100.1'] }])
  const upstream = Uint8Array.of(0xa1, 0x61, 0x74, 0x66) // CBOR-looking bytes are forwarded, not parsed
  h.data(dialer, upstream)
  h.data(acceptor, new Uint8Array(1000).fill(9))
  t.same(h.received(acceptor), [upstream])
  t.same(h.received(dialer), [new Uint8Array(1000).fill(9)])
  t.equal(h.core.circuitCount, 1)
  h.hangUp(dialer)
  t.same(h.closes.get(acceptor), { code: CLOSE.normal, reason: 'peer left' })
  t.equal(h.closes.has(listener), false, 'the reservation outlives its circuits')
  t.same(h.events.at(-1), {
    type: 'circuit-closed',
    circuit: toHex(incoming.c),
    bytes: 1004,
    reason: 'peer left',
  })
  t.equal(h.core.circuitCount, 0)
})

t.test('one reservation holds several tokens and takes circuits for each', async (t) => {
  const h = new CoreHarness()
  const listener = h.open()
  h.control(listener, { v: 1, t: 'reserve', tks: [token(1), token(2)] })
  h.messages(listener)
  const a = h.circuit(listener, token(2))
  const b = h.circuit(listener, token(1))
  t.ok(a.acceptor !== undefined && b.acceptor !== undefined)
  t.equal(h.core.circuitCount, 2)
  h.control(listener, { v: 1, t: 'reserve', tks: [token(1)] })
  t.same(h.messages(listener), [{ v: 1, t: 'reserved', ttl: h.core.limits.reservationLifetimeMs }])
  const c = h.circuit(listener, token(2))
  t.same(h.closes.get(c.dialer), { code: CLOSE.noReservation, reason: 'no reservation for this token' })
})

t.test('refusals and protocol violations close with a code and reason, never a hang', async (t) => {
  const h = new CoreHarness()
  const unknown = h.open()
  h.control(unknown, { v: 1, t: 'connect', tk: token(5) })
  t.same(h.closes.get(unknown), { code: CLOSE.noReservation, reason: 'no reservation for this token' })
  const garbage = h.open()
  h.data(garbage, Uint8Array.of(1, 2, 3))
  t.same(h.closes.get(garbage), { code: CLOSE.protocol, reason: 'malformed control message' })
  const text = h.open()
  h.core.receiveText(text)
  h.drain()
  t.equal(h.closes.get(text)?.code, CLOSE.protocol)
  const listener = h.reserve(token(1))
  h.control(listener, { v: 1, t: 'connect', tk: token(1) })
  t.same(h.closes.get(listener), { code: CLOSE.protocol, reason: 'unexpected connect message' })
  const stranger = h.open()
  h.control(stranger, { v: 1, t: 'accept', c: new Uint8Array(16) })
  t.same(h.closes.get(stranger), { code: CLOSE.noReservation, reason: 'no such circuit' })
  const early = h.reserve(token(2))
  const dialer = h.open()
  h.control(dialer, { v: 1, t: 'connect', tk: token(2) })
  h.data(dialer, Uint8Array.of(0xff))
  t.same(
    h.closes.get(dialer),
    { code: CLOSE.protocol, reason: 'malformed control message' },
    'no data before connected',
  )
  t.equal(h.closes.has(early), false)
})

t.test('random and mutated input never throws and leaves no state behind', async (t) => {
  const valid = encodeClientMessage({ v: 1, t: 'connect', tk: token(1) })
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), mutated(valid)), (bytes) => {
      const h = new CoreHarness()
      const conn = h.open()
      h.data(conn, bytes)
      const close = h.closes.get(conn)
      return close !== undefined && h.core.connectionCount === 0
    }),
  )
  t.pass('every input closed the connection and the core kept nothing')
})

function mutated(bytes: Uint8Array) {
  return fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, xor]) => {
    const copy = Uint8Array.from(bytes)
    copy[at]! ^= xor
    return copy
  })
}

t.test('connections per IP and in all are capped', async (t) => {
  const h = new CoreHarness({ connectionsPerIp: 3, maxConnections: 5 })
  const mine = [h.open('192.0.2.1'), h.open('192.0.2.1'), h.open('192.0.2.1')]
  const fourth = h.open('192.0.2.1')
  t.same(h.closes.get(fourth), {
    code: CLOSE.tooManyConnections,
    reason: 'more than 3 connections from your address',
  })
  t.equal(h.closes.size, 1, 'the first three stay open')
  h.hangUp(mine[0]!)
  const again = h.open('192.0.2.1')
  t.equal(h.closes.has(again), false, 'a closed connection frees its slot')
  h.open('192.0.2.2')
  h.open('192.0.2.3')
  const full = h.open('192.0.2.4')
  t.same(h.closes.get(full), { code: CLOSE.relayFull, reason: 'relay full: 5 connections' })
  t.equal(h.core.connectionCount, 5)
  t.equal(h.core.counters.tooManyConnections, 1)
})

t.test('circuits per IP count both ends; the total is capped', async (t) => {
  const h = new CoreHarness({ circuitsPerIp: 2, maxCircuits: 4 })
  const listener = h.reserve(token(1), '198.51.100.1')
  h.messages(listener)
  t.ok(h.circuit(listener, token(1), '192.0.2.1').acceptor)
  t.ok(h.circuit(listener, token(1), '192.0.2.2').acceptor)
  const over = h.circuit(listener, token(1), '192.0.2.3')
  t.same(h.closes.get(over.dialer), {
    code: CLOSE.tooManyCircuits,
    reason: 'more than 2 circuits at one address',
  })
  const other = h.reserve(token(2), '198.51.100.2')
  h.messages(other)
  t.ok(h.circuit(other, token(2), '192.0.2.1').acceptor)
  const dialerOver = h.circuit(other, token(2), '192.0.2.1')
  t.equal(h.closes.get(dialerOver.dialer)?.code, CLOSE.tooManyCircuits, 'the dialer IP is at its limit too')
  t.ok(h.circuit(other, token(2), '192.0.2.9').acceptor)
  const third = h.reserve(token(3), '198.51.100.3')
  h.messages(third)
  const total = h.circuit(third, token(3), '192.0.2.10')
  t.same(h.closes.get(total.dialer), { code: CLOSE.relayFull, reason: 'relay full: 4 circuits' })
  t.equal(h.core.circuitCount, 4)
})

t.test('a circuit is held to its byte rate by pausing its sender', async (t) => {
  const h = new CoreHarness({ bytesPerSecond: 10_000, idleTimeoutMs: 60_000 })
  const listener = h.reserve(token(1))
  const { dialer, acceptor } = h.circuit(listener, token(1))
  const start = h.now
  let sent = 0
  while (sent < 50_000) {
    if (h.paused.has(dialer)) h.advance(10, 10)
    else {
      h.data(dialer, new Uint8Array(1000))
      sent += 1000
    }
  }
  while (h.paused.has(dialer)) h.advance(10, 10)
  const elapsed = h.now - start
  // 10 000 B of burst, then 40 000 B at 10 000 B/s: 4 s.
  t.ok(elapsed >= 3_900 && elapsed <= 4_300, `50 kB took ${elapsed} ms at 10 kB/s`)
  t.equal(h.received(acceptor!).length, 50, 'nothing is dropped, only delayed')
  t.equal(h.paused.has(acceptor!), false, 'the other direction has its own budget')
})

t.test(
  'circuit lifetime, idle timeout, reservation lifetime and accept timeout close with their codes',
  async (t) => {
    const limits = {
      circuitLifetimeMs: 10_000,
      idleTimeoutMs: 3_000,
      reservationLifetimeMs: 5_000,
      acceptTimeoutMs: 2_000,
    }
    await t.test('lifetime', async (t) => {
      const h = new CoreHarness(limits)
      const listener = h.reserve(token(1))
      h.control(listener, { v: 1, t: 'reserve', tks: [token(1)] })
      const { dialer, acceptor } = h.circuit(listener, token(1))
      for (let i = 0; i < 9; i++) {
        h.advance(1_000)
        h.data(dialer, Uint8Array.of(i))
        if (i % 4 === 0) h.control(listener, { v: 1, t: 'reserve', tks: [token(1)] })
      }
      t.equal(h.closes.size, 0, 'busy for 9 s: open')
      h.advance(1_200)
      const reason = 'circuit lifetime of 10000 ms reached'
      t.same(h.closes.get(dialer), { code: CLOSE.circuitLifetime, reason })
      t.same(h.closes.get(acceptor!), { code: CLOSE.circuitLifetime, reason })
      t.equal(h.core.circuitCount, 0)
    })
    await t.test('idle', async (t) => {
      const h = new CoreHarness(limits)
      const listener = h.reserve(token(1))
      const { dialer, acceptor } = h.circuit(listener, token(1))
      h.advance(2_000)
      h.data(acceptor!, Uint8Array.of(1))
      h.advance(2_000)
      t.equal(h.closes.has(dialer), false, 'data either way keeps it alive')
      h.advance(1_200)
      t.same(h.closes.get(dialer), { code: CLOSE.idle, reason: 'no data for 3000 ms' })
      t.equal(h.closes.get(acceptor!)?.code, CLOSE.idle)
      const silent = h.open()
      h.advance(3_200)
      t.same(h.closes.get(silent), { code: CLOSE.idle, reason: 'no request within 3000 ms' })
    })
    await t.test('reservation', async (t) => {
      const h = new CoreHarness(limits)
      const listener = h.reserve(token(1))
      h.advance(4_000)
      h.control(listener, { v: 1, t: 'reserve', tks: [token(1)] })
      h.advance(4_000)
      t.equal(h.closes.has(listener), false, 'renewed at 4 s: open at 8 s')
      h.advance(1_200)
      t.same(h.closes.get(listener), { code: CLOSE.reservationExpired, reason: 'reservation not renewed' })
      const late = h.open()
      h.control(late, { v: 1, t: 'connect', tk: token(1) })
      t.equal(h.closes.get(late)?.code, CLOSE.noReservation, 'its token is gone')
    })
    await t.test('accept', async (t) => {
      const h = new CoreHarness(limits)
      h.reserve(token(1))
      const dialer = h.open()
      h.control(dialer, { v: 1, t: 'connect', tk: token(1) })
      h.advance(2_200)
      t.same(h.closes.get(dialer), { code: CLOSE.notAccepted, reason: 'the listener did not accept in time' })
      t.equal(h.core.circuitCount, 0)
    })
  },
)

t.test(
  'a newer reservation of a token replaces the older; a listener leaving fails its pending dialers',
  async (t) => {
    const h = new CoreHarness()
    const old = h.reserve(token(1))
    const fresh = h.reserve(token(1))
    t.same(h.closes.get(old), { code: CLOSE.replaced, reason: 'token reserved by a newer connection' })
    h.messages(fresh)
    const dialer = h.open()
    h.control(dialer, { v: 1, t: 'connect', tk: token(1) })
    t.equal(h.messages(fresh)[0]?.t, 'incoming', 'the newest holder gets the circuit')
    h.hangUp(fresh)
    t.same(h.closes.get(dialer), { code: CLOSE.noReservation, reason: 'the listener left' })
    t.equal(h.core.circuitCount, 0)
  },
)

t.test('state stays bounded under a flood of connections, reservations and dials', async (t) => {
  const h = new CoreHarness({ connectionsPerIp: 10, maxConnections: 200, circuitsPerIp: 5, maxCircuits: 50 })
  for (let i = 0; i < 2_000; i++) {
    const conn = h.open(`10.0.${i % 40}.1`)
    if (i % 3 === 0)
      h.control(conn, { v: 1, t: 'reserve', tks: Array.from({ length: 64 }, (_, j) => token((i + j) % 256)) })
    else h.control(conn, { v: 1, t: 'connect', tk: token(i % 256) })
  }
  t.ok(h.core.connectionCount <= 200, `${h.core.connectionCount} connections kept`)
  t.ok(h.core.circuitCount <= 50, `${h.core.circuitCount} circuits kept`)
  h.advance(h.core.limits.acceptTimeoutMs + 500, 500)
  t.equal(h.core.circuitCount, 0, 'unaccepted dials expire')
  h.advance(h.core.limits.reservationLifetimeMs + 500, 5_000)
  t.equal(h.core.connectionCount, 0, 'unrenewed reservations expire')
  t.equal(h.core.pollTimeout(), null, 'no timer left')
})

t.test('shutting down closes every connection with 1001, circuits included, and forgets them', async (t) => {
  const h = new CoreHarness()
  const listener = h.reserve(token(1))
  const { dialer, acceptor } = h.circuit(listener, token(1))
  h.core.shutdown()
  h.drain()
  for (const conn of [listener, dialer, acceptor!])
    t.same(h.closes.get(conn), { code: CLOSE.goingAway, reason: 'relay shutting down' })
  t.equal(h.core.connectionCount, 0)
  t.equal(h.core.circuitCount, 0)
  t.match(h.events.at(-1), { type: 'circuit-closed', reason: 'relay shutting down' })
})
