/** Property tests of the relay core (`spec/relay.md` §3-§5) under arbitrary sessions of valid and garbage input. */
import fc from 'fast-check'
import t from 'tap'
import { DecodeError } from '../../lib/cbor.js'
import { CLOSE } from '../../lib/relay/constants.js'
import {
  decodeClientMessage,
  decodeRelayMessage,
  encodeClientMessage,
  type RelayMessage,
} from '../../lib/relay/index.js'
import { cborFieldMutationOf, garbageOr, outcome, runs } from '../fuzz/helpers/arbitraries.js'
import { CoreHarness, token } from './helpers/core-harness.js'

const LIMITS = { maxConnections: 16, connectionsPerIp: 4, maxCircuits: 4, circuitsPerIp: 2 }
const CLOSE_CODES = new Set<number>(Object.values(CLOSE))
const samples = [
  encodeClientMessage({ v: 1, t: 'reserve', tks: [token(1), token(2)] }),
  encodeClientMessage({ v: 1, t: 'connect', tk: token(1) }),
  encodeClientMessage({ v: 1, t: 'accept', c: new Uint8Array(16).fill(3) }),
]
const sampleMaps = [
  { v: 1, t: 'reserve', tks: [token(1)] },
  { v: 1, t: 'connect', tk: token(1) },
  { v: 1, t: 'accept', c: new Uint8Array(16) },
]

function tryDecode(bytes: Uint8Array): RelayMessage | null {
  try {
    return decodeRelayMessage(bytes)
  } catch {
    return null
  }
}

type Step =
  | { kind: 'open'; ip: number }
  | { kind: 'reserve' | 'connect'; conn: number; token: number }
  | { kind: 'accept'; ip: number }
  | { kind: 'garbage'; conn: number; bytes: Uint8Array }
  | { kind: 'hangUp'; conn: number }
  | { kind: 'advance'; ms: number }

/** Weighted towards the valid steps of a splice (reserve, connect, accept), so circuits form and meet garbage. */
const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('open' as const), ip: fc.nat(5) }), weight: 3 },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('reserve' as const, 'connect' as const),
      conn: fc.nat(),
      token: fc.integer({ min: 1, max: 2 }),
    }),
    weight: 4,
  },
  { arbitrary: fc.record({ kind: fc.constant('accept' as const), ip: fc.nat(5) }), weight: 2 },
  {
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      conn: fc.nat(),
      bytes: fc.oneof(garbageOr(samples, 120), cborFieldMutationOf(sampleMaps)),
    }),
    weight: 2,
  },
  { arbitrary: fc.record({ kind: fc.constant('hangUp' as const), conn: fc.nat() }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.oneof(fc.nat(5_000), fc.nat(700_000)),
    }),
    weight: 1,
  },
)

t.test(
  'any session of valid and garbage input keeps the core within its limits and leaves nothing behind',
  async (t) => {
    let closedWithCode = 0
    let spliced = 0
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const h = new CoreHarness(LIMITS)
        const conns: number[] = []
        let lastCircuit: Uint8Array = new Uint8Array(16)
        const hungUp = new Set<number>()
        const gone = (conn: number) => h.closes.has(conn) || hungUp.has(conn)
        const live = (index: number) => {
          const open = conns.filter((conn) => !gone(conn))
          return open.length === 0 ? undefined : open[index % open.length]
        }
        for (const s of steps) {
          if (s.kind === 'open') conns.push(h.open(`192.0.2.${s.ip}`))
          else if (s.kind === 'accept') {
            const acceptor = h.open(`192.0.2.${s.ip}`)
            conns.push(acceptor)
            h.control(acceptor, { v: 1, t: 'accept', c: lastCircuit })
          } else if (s.kind === 'advance') h.advance(s.ms, 10_000)
          else {
            const conn = live(s.conn)
            if (conn === undefined) continue
            if (s.kind === 'reserve') h.control(conn, { v: 1, t: 'reserve', tks: [token(s.token)] })
            else if (s.kind === 'connect') h.control(conn, { v: 1, t: 'connect', tk: token(s.token) })
            else if (s.kind === 'garbage') h.data(conn, s.bytes)
            else {
              h.hangUp(conn)
              hungUp.add(conn)
            }
          }
          // The circuit id the relay last offered, so `accept` steps can splice real circuits.
          for (const conn of conns)
            for (const bytes of h.received(conn)) {
              // Spliced circuits carry opaque data; only control messages decode.
              const message = tryDecode(bytes)
              if (message?.t === 'incoming') lastCircuit = message.c
            }
          spliced = Math.max(spliced, h.core.circuitCount)
          if (h.core.connectionCount > LIMITS.maxConnections || h.core.circuitCount > LIMITS.maxCircuits)
            return false
        }
        for (const { code } of h.closes.values()) if (!CLOSE_CODES.has(code)) return false
        closedWithCode += h.closes.size
        for (const conn of conns) if (!gone(conn)) h.hangUp(conn)
        return h.core.connectionCount === 0 && h.core.circuitCount === 0
      }),
      runs(500),
    )
    t.ok(closedWithCode > 0, `the relay closed connections with its codes (${closedWithCode} times)`)
    t.ok(spliced > 0, 'some sessions spliced circuits, so garbage also met live circuits')
  },
)

t.test('wrong-typed control maps are DECODE_FAILED for both decoders', async (t) => {
  let accepted = 0
  fc.assert(
    fc.property(cborFieldMutationOf(sampleMaps), (bytes) => {
      const client = outcome(() => decodeClientMessage(bytes), DecodeError, ['DECODE_FAILED'])
      const relay = outcome(() => decodeRelayMessage(bytes), DecodeError, ['DECODE_FAILED'])
      if (client === 'ok') accepted++
      return (client === 'ok' || client === 'DECODE_FAILED') && relay === 'DECODE_FAILED'
    }),
    runs(2000),
  )
  t.ok(accepted < 2000, `wrong types were refused (${2000 - accepted} of 2000)`)
})
