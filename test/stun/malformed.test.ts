import { readdirSync, readFileSync } from 'node:fs'
import fc from 'fast-check'
import t from 'tap'
import {
  Attr,
  ClientTransaction,
  createBindingRequest,
  decodeAddress,
  decodeErrorCode,
  decodeMessage,
  encodeAddress,
  encodeMessage,
  isStunMessage,
  StreamFramer,
  StunError,
  StunServer,
  tryDecodeMessage,
} from '../../lib/stun/index.js'

const dir = new URL('../../spec/vectors/stun/', import.meta.url)
const samples = readdirSync(dir)
  .filter((f) => f.endsWith('.bin'))
  .map((f) => new Uint8Array(readFileSync(new URL(f, dir))))
const request = createBindingRequest().bytes

function malformedCode(bytes: Uint8Array): string | undefined {
  try {
    decodeMessage(bytes)
    return undefined
  } catch (error) {
    return error instanceof StunError ? error.code : 'not a StunError'
  }
}

t.test('each framing violation is STUN_MALFORMED', async (t) => {
  const withLength = (length: number) => {
    const b = request.slice()
    b[2] = length >> 8
    b[3] = length & 0xff
    return b
  }
  const badCookie = request.slice()
  badCookie[5] = 0
  const highBits = request.slice()
  highBits[0]! |= 0x80
  const overrun = encodeMessage({ method: 1, cls: 0, transactionId: new Uint8Array(12), attributes: [] })
  const overrunAttr = new Uint8Array([...overrun, 0x80, 0x22, 0x00, 0x40, 1, 2, 3, 4])
  overrunAttr[3] = 8
  const cases: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['truncated header', request.subarray(0, 19)],
    ['truncated body', request.subarray(0, request.length - 4)],
    ['length not a multiple of 4', withLength(request.length - 20 - 2)],
    ['length longer than the datagram', withLength(request.length)],
    ['bad cookie', badCookie],
    ['first two bits set', highBits],
    ['attribute overruns the message', overrunAttr],
  ]
  for (const [name, bytes] of cases) t.equal(malformedCode(bytes), 'STUN_MALFORMED', name)
})

t.test('bad attribute values are STUN_MALFORMED', async (t) => {
  t.throws(
    () => decodeAddress(new Uint8Array([0, 3, 0, 1, 1, 2, 3, 4])),
    { code: 'STUN_MALFORMED' },
    'family 3',
  )
  t.throws(
    () => decodeAddress(new Uint8Array([0, 1, 0, 1, 1, 2, 3])),
    { code: 'STUN_MALFORMED' },
    'short IPv4',
  )
  t.throws(() => decodeAddress(encodeAddress({ host: '::1', port: 1 }).subarray(0, 12)), {
    code: 'STUN_MALFORMED',
  })
  t.throws(() => decodeErrorCode(new Uint8Array([0, 0, 2, 0])), { code: 'STUN_MALFORMED' }, 'code 200')
  t.throws(() => decodeErrorCode(new Uint8Array([0, 0, 4])), { code: 'STUN_MALFORMED' }, 'short')
})

t.test(
  'random bytes never throw anything but StunError, and never crash the server or a transaction',
  async (t) => {
    const server = new StunServer({ primary: { host: '192.0.2.1', port: 3478 } })
    const { bytes, transactionId } = createBindingRequest()
    const tx = new ClientTransaction(
      { request: bytes, transactionId, destination: { host: '192.0.2.1', port: 3478 } },
      0,
    )
    tx.pollTransmit(0)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (input) => {
        const code = malformedCode(input)
        if (code !== undefined && code !== 'STUN_MALFORMED') return false
        server.handle(input, { host: '198.51.100.1', port: 1 })
        tx.receive(input, { host: '192.0.2.1', port: 3478 }, 1)
        return !tx.done
      }),
      { numRuns: 2000 },
    )
    t.equal(tx.nextEvent(), null, 'random bytes never completed the transaction')
  },
)

t.test('mutated vectors: decode or STUN_MALFORMED, server answers or drops, no other outcome', async (t) => {
  const server = new StunServer({ primary: { host: '192.0.2.1', port: 3478 } })
  const mutation = fc.record({
    sample: fc.integer({ min: 0, max: samples.length - 1 }),
    edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }),
    cut: fc.option(fc.nat()),
  })
  fc.assert(
    fc.property(mutation, ({ sample, edits, cut }) => {
      const bytes = samples[sample]!.slice()
      for (const [at, value] of edits) bytes[at % bytes.length] = value
      const input = cut === null ? bytes : bytes.subarray(0, cut % (bytes.length + 1))
      const code = malformedCode(input)
      const reply = server.handle(input, { host: '198.51.100.1', port: 1 })
      const replyOk = reply === null || tryDecodeMessage(reply, { allowClassic: true }) !== null
      return (code === undefined || code === 'STUN_MALFORMED') && replyOk
    }),
    { numRuns: 3000 },
  )
  t.pass('3000 mutations held the property')
})

t.test('decode ∘ encode is the identity on random well-formed messages', async (t) => {
  const attribute = fc.record({
    type: fc.integer({ min: 0, max: 0xffff }),
    value: fc.uint8Array({ maxLength: 40 }),
  })
  const message = fc.record({
    method: fc.integer({ min: 0, max: 0xfff }),
    cls: fc.constantFrom(0, 1, 2, 3) as fc.Arbitrary<0 | 1 | 2 | 3>,
    transactionId: fc.uint8Array({ minLength: 12, maxLength: 12 }),
    attributes: fc.array(attribute, { maxLength: 6 }),
  })
  fc.assert(
    fc.property(message, (m) => {
      const bytes = encodeMessage(m)
      const back = decodeMessage(bytes)
      return (
        isStunMessage(bytes) &&
        back.method === m.method &&
        back.cls === m.cls &&
        back.attributes.length === m.attributes.length &&
        back.attributes.every((a, i) => a.type === m.attributes[i]!.type) &&
        Buffer.compare(encodeMessage(back), bytes) === 0
      )
    }),
    { numRuns: 500 },
  )
  t.pass('500 round trips')
})

t.test('XOR-MAPPED-ADDRESS round-trips any IPv4/IPv6 endpoint', async (t) => {
  const endpoint = fc.record({
    host: fc.oneof(fc.ipV4(), fc.ipV6()),
    port: fc.integer({ min: 0, max: 65535 }),
  })
  fc.assert(
    fc.property(endpoint, fc.uint8Array({ minLength: 12, maxLength: 12 }), (e, id) => {
      const back = decodeAddress(encodeAddress(e, id), id)
      return back.port === e.port && decodeAddress(encodeAddress(back)).host === back.host
    }),
  )
  t.same(decodeAddress(encodeAddress({ host: '2001:DB8:0:0:1::1', port: 9 })).host, '2001:db8::1:0:0:1')
})

t.test(
  'the TCP framer splits and joins messages at any chunking, and rejects non-STUN streams',
  async (t) => {
    const stream = new Uint8Array([...samples[0]!, ...samples[1]!, ...samples[2]!])
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1 }), (sizes) => {
        const framer = new StreamFramer()
        const out: Uint8Array[] = []
        for (let at = 0, i = 0; at < stream.length; i++) {
          const size = sizes[i % sizes.length]!
          framer.push(stream.subarray(at, at + size))
          at += size
          for (let m = framer.next(); m; m = framer.next()) out.push(m)
        }
        return out.length === 3 && out.every((m, i) => Buffer.compare(m, samples[i]!) === 0)
      }),
    )
    const framer = new StreamFramer()
    framer.push(new TextEncoder().encode('GET / HTTP/1.1\r\n'))
    t.throws(() => framer.next(), { code: 'STUN_MALFORMED' })
  },
)

t.test('unknown attribute in a request is reported back, never thrown', async (t) => {
  const server = new StunServer({ primary: { host: '192.0.2.1', port: 3478 } })
  const bytes = encodeMessage({
    method: 1,
    cls: 0,
    transactionId: new Uint8Array(12),
    attributes: [{ type: Attr.padding, value: new Uint8Array(8) }],
  })
  const reply = decodeMessage(server.handle(bytes, { host: '198.51.100.1', port: 1 })!)
  t.equal(reply.cls, 3)
})
