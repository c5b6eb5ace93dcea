import t from 'tap'
import {
  Attr,
  addFingerprint,
  addMessageIntegrity,
  ClientTransaction,
  createBindingRequest,
  decodeAddress,
  decodeErrorCode,
  decodeMessage,
  decodeText,
  decodeUnknownAttributes,
  encodeMessage,
  findAttribute,
  isStunMessage,
  readBindingResponse,
  StunClass,
  StunServer,
  shortTermKey,
  verifyFingerprint,
} from '../../lib/stun/index.js'

const primary = { host: '192.0.2.1', port: 3478 }
const client = { host: '198.51.100.9', port: 51000 }
const twoAddress = () => new StunServer({ primary, alternate: { host: '192.0.2.2', port: 3479 } })

function request(changeRequest?: { ip?: boolean; port?: boolean }) {
  return createBindingRequest({ changeRequest })
}

t.test(
  'a Binding request gets XOR-MAPPED-ADDRESS, RESPONSE-ORIGIN, OTHER-ADDRESS, SOFTWARE, FINGERPRINT',
  async (t) => {
    const server = twoAddress()
    const { bytes, transactionId } = request()
    const reply = server.respond(bytes, client, primary)!
    t.same(reply.source, primary)
    t.same(reply.to, client)
    const message = decodeMessage(reply.bytes)
    t.equal(message.cls, StunClass.successResponse)
    t.same(message.transactionId, transactionId)
    t.ok(verifyFingerprint(message))
    const result = readBindingResponse(message, reply.source, 0)
    t.same(result.mapped, { ...client, family: 'IPv4' })
    t.same(result.responseOrigin, { ...primary, family: 'IPv4' })
    t.same(result.otherAddress, { host: '192.0.2.2', port: 3479, family: 'IPv4' })
    t.equal(result.software, 'pairctl')
    t.same(server.counters, { answered: 1, errors: 0, dropped: 0 })
  },
)

t.test('four local endpoints; OTHER-ADDRESS flips both IP and port of the receiving one', async (t) => {
  const server = twoAddress()
  t.same(server.localEndpoints(), [
    { host: '192.0.2.1', port: 3478 },
    { host: '192.0.2.1', port: 3479 },
    { host: '192.0.2.2', port: 3478 },
    { host: '192.0.2.2', port: 3479 },
  ])
  const local = { host: '192.0.2.2', port: 3478 }
  const reply = server.respond(request().bytes, client, local)!
  const other = findAttribute(decodeMessage(reply.bytes), Attr.otherAddress)!
  t.same(decodeAddress(other.value), { host: '192.0.2.1', port: 3479, family: 'IPv4' })
})

t.test('CHANGE-REQUEST: the reply leaves from the changed IP and/or port (RFC 5780 §6.1)', async (t) => {
  const server = twoAddress()
  const cases = [
    [
      { ip: true, port: true },
      { host: '192.0.2.2', port: 3479 },
    ],
    [{ port: true }, { host: '192.0.2.1', port: 3479 }],
    [{ ip: true }, { host: '192.0.2.2', port: 3478 }],
    [{}, primary],
  ] as const
  for (const [change, source] of cases) {
    const reply = server.respond(request(change).bytes, client, primary)!
    t.same(reply.source, source, JSON.stringify(change))
    const origin = findAttribute(decodeMessage(reply.bytes), Attr.responseOrigin)!
    t.same(decodeAddress(origin.value), { ...source, family: 'IPv4' }, 'RESPONSE-ORIGIN is the real source')
  }
})

t.test('CHANGE-REQUEST that cannot be honoured gets 420 listing CHANGE-REQUEST', async (t) => {
  const single = new StunServer({ primary })
  const checks = [
    single.respond(request({ ip: true }).bytes, client)!.bytes,
    twoAddress().handle(request({ port: true }).bytes, client)!, // single-socket path
  ]
  for (const bytes of checks) {
    const message = decodeMessage(bytes)
    t.equal(message.cls, StunClass.errorResponse)
    t.equal(decodeErrorCode(findAttribute(message, Attr.errorCode)!.value).code, 420)
    t.same(decodeUnknownAttributes(findAttribute(message, Attr.unknownAttributes)!.value), [
      Attr.changeRequest,
    ])
  }
  t.notOk(
    findAttribute(decodeMessage(single.handle(request().bytes, client)!), Attr.otherAddress),
    'no OTHER',
  )
})

t.test(
  'unknown comprehension-required attributes get 420 with UNKNOWN-ATTRIBUTES; optional ones are ignored',
  async (t) => {
    const server = new StunServer({ primary })
    const { transactionId } = request()
    const bytes = encodeMessage({
      method: 1,
      cls: StunClass.request,
      transactionId,
      attributes: [
        { type: 0x7777, value: new Uint8Array(2) },
        { type: 0xc0de, value: new Uint8Array(4) },
        { type: Attr.responsePort, value: new Uint8Array(4) },
      ],
    })
    const message = decodeMessage(server.handle(bytes, client)!)
    t.equal(message.cls, StunClass.errorResponse)
    t.same(decodeUnknownAttributes(findAttribute(message, Attr.unknownAttributes)!.value), [
      0x7777,
      Attr.responsePort,
    ])
    t.equal(server.counters.errors, 1)
  },
)

t.test('non-Binding methods get 400', async (t) => {
  const server = new StunServer({ primary })
  const { transactionId } = request()
  const bytes = encodeMessage({ method: 0x003, cls: StunClass.request, transactionId, attributes: [] })
  const error = findAttribute(decodeMessage(server.handle(bytes, client)!), Attr.errorCode)!
  t.equal(decodeErrorCode(error.value).code, 400)
})

t.test('responses, indications, bad fingerprints and garbage are dropped and counted', async (t) => {
  const server = new StunServer({ primary })
  const { bytes, transactionId } = request()
  const corrupted = bytes.slice()
  corrupted[corrupted.length - 1]! ^= 0xff
  const inputs = [
    encodeMessage({ method: 1, cls: StunClass.successResponse, transactionId, attributes: [] }),
    encodeMessage({ method: 1, cls: StunClass.indication, transactionId, attributes: [] }),
    corrupted,
    new Uint8Array([1, 2, 3]),
    new TextEncoder().encode('d1:ad2:id20:aaaaaaaaaaaaaaaaaaaae1:q4:ping1:t2:aa1:y1:qe'),
  ]
  for (const input of inputs) t.equal(server.handle(input, client), null)
  t.same(server.counters, { answered: 0, errors: 0, dropped: inputs.length })
})

t.test(
  'classic RFC 3489 requests (no cookie) get MAPPED-ADDRESS, SOURCE-ADDRESS, CHANGED-ADDRESS',
  async (t) => {
    const server = twoAddress()
    // As sent by the Debian `stun` client: 16 random id bytes, CHANGE-REQUEST 0.
    const classic = Uint8Array.from(
      Buffer.from('00010008013d0952b34a483e768d2f1f6b710a0b0003000400000000', 'hex'),
    )
    t.notOk(isStunMessage(classic), 'not demultiplexed as RFC 5389 STUN')
    const reply = server.respond(classic, client, primary)!
    t.same(reply.bytes.subarray(4, 20), classic.subarray(4, 20), 'the 128-bit id is echoed')
    const message = decodeMessage(reply.bytes, { allowClassic: true })
    t.same(decodeAddress(findAttribute(message, Attr.mappedAddress)!.value), { ...client, family: 'IPv4' })
    t.same(decodeAddress(findAttribute(message, Attr.sourceAddress)!.value).host, primary.host)
    t.same(decodeAddress(findAttribute(message, Attr.changedAddress)!.value).port, 3479)
    t.notOk(findAttribute(message, Attr.fingerprint), 'no FINGERPRINT for classic clients')
    t.equal(decodeText(findAttribute(message, Attr.software)!.value), 'pairctl')
  },
)

t.test(
  'IPv6 clients get an IPv6 XOR-MAPPED-ADDRESS; wildcard local addresses are not advertised',
  async (t) => {
    const server = new StunServer({ primary: { host: '::', port: 3478 } })
    const v6client = { host: '2001:db8::42', port: 4242 }
    const message = decodeMessage(server.handle(request().bytes, v6client)!)
    t.same(readBindingResponse(message, v6client, 0).mapped, { ...v6client, family: 'IPv6' })
    t.notOk(findAttribute(message, Attr.responseOrigin), 'no RESPONSE-ORIGIN for ::')
    const mapped = server.handle(request().bytes, { host: '::ffff:198.51.100.9', port: 1 })!
    t.same(
      readBindingResponse(decodeMessage(mapped), client, 0).mapped.host,
      client.host,
      'IPv4-mapped is IPv4',
    )
  },
)

t.test('our client transaction and our server core, back to back in memory', async (t) => {
  const server = twoAddress()
  const { bytes, transactionId } = request()
  const tx = new ClientTransaction({ request: bytes, transactionId, destination: primary }, 0)
  const out = tx.pollTransmit(0)!
  const reply = server.respond(out.bytes, client, out.to)!
  t.ok(tx.receive(reply.bytes, reply.source, 12))
  const event = tx.nextEvent()
  if (event?.type !== 'response') throw new Error('expected a response')
  t.same(readBindingResponse(event.message, event.from, event.rttMs).mapped.port, client.port)
})

t.test('isStunMessage: first two bits, length and cookie', async (t) => {
  const { bytes } = request()
  t.ok(isStunMessage(bytes))
  t.ok(isStunMessage(addFingerprint(bytes.subarray(0, 20))))
  const highBits = bytes.slice()
  highBits[0] = 0x40
  t.notOk(isStunMessage(highBits))
  const badCookie = bytes.slice()
  badCookie[4] = 0
  t.notOk(isStunMessage(badCookie))
  t.notOk(isStunMessage(bytes.subarray(0, bytes.length - 4)), 'length mismatch')
  t.notOk(isStunMessage(bytes.subarray(0, 19)))
})

t.test('an unknown attribute after MESSAGE-INTEGRITY is ignored by the server', async (t) => {
  const server = new StunServer({ primary })
  const { transactionId } = request()
  const base = encodeMessage({ method: 1, cls: StunClass.request, transactionId, attributes: [] })
  const signed = decodeMessage(addMessageIntegrity(base, shortTermKey('k')))
  const bytes = encodeMessage({
    ...signed,
    attributes: [...signed.attributes, { type: 0x7777, value: new Uint8Array(4) }],
  })
  t.equal(decodeMessage(server.handle(bytes, client)!).cls, StunClass.successResponse)
})
