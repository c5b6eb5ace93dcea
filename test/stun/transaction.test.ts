import t from 'tap'
import {
  Attr,
  addFingerprint,
  addMessageIntegrity,
  ClientTransaction,
  createBindingRequest,
  decodeMessage,
  encodeAddress,
  encodeErrorCode,
  encodeMessage,
  encodeUnknownAttributes,
  readBindingResponse,
  type StunAttribute,
  StunClass,
  StunError,
  StunMethod,
  shortTermKey,
  significantAttributes,
} from '../../lib/stun/index.js'
import { runToEnd } from './helpers/schedule.js'

const server = { host: '192.0.2.10', port: 3478 }
const mapped = { host: '198.51.100.7', port: 40000 }

function transaction(options: Partial<ConstructorParameters<typeof ClientTransaction>[0]> = {}) {
  const request = createBindingRequest()
  return new ClientTransaction(
    { request: request.bytes, transactionId: request.transactionId, destination: server, ...options },
    0,
  )
}

function response(
  tx: ClientTransaction,
  attributes: StunAttribute[],
  cls: 0 | 1 | 2 | 3 = StunClass.successResponse,
) {
  return encodeMessage({ method: StunMethod.binding, cls, transactionId: tx.transactionId, attributes })
}

const xorMapped = (tx: ClientTransaction): StunAttribute => ({
  type: Attr.xorMappedAddress,
  value: encodeAddress(mapped, tx.transactionId),
})

t.test('UDP schedule: RFC 8489 §6.2.1 — sends at 0, 500, 1500, …, 31500; fails at 39500', async (t) => {
  const tx = transaction()
  t.same(runToEnd(tx), [0, 500, 1500, 3500, 7500, 15500, 31500, 39500])
  const event = tx.nextEvent()
  t.equal(event?.type, 'failed')
  t.equal(event?.type === 'failed' && event.error.code, 'STUN_TIMEOUT')
  t.equal(tx.pollTimeout(), null)
})

t.test('TCP: one send, Ti = 39.5 s, no retransmission', async (t) => {
  const tx = transaction({ transport: 'tcp' })
  t.same(runToEnd(tx), [0, 39500])
  t.equal(tx.pollTimeout(), null)
  t.equal(tx.nextEvent()?.type, 'failed')
})

t.test('a custom RTO/Rc/Rm changes the schedule', async (t) => {
  t.same(runToEnd(transaction({ rto: 100, rc: 3, rm: 4 })), [0, 100, 300, 700])
})

t.test('the matching response completes with the mapped address and RTT', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  tx.pollTransmit(500)
  t.ok(tx.receive(addFingerprint(response(tx, [xorMapped(tx)])), server, 620))
  const event = tx.nextEvent()
  if (event?.type !== 'response') throw new Error('expected a response')
  t.equal(event.rttMs, 620)
  t.same(readBindingResponse(event.message, event.from, event.rttMs).mapped, { ...mapped, family: 'IPv4' })
  t.equal(tx.nextEvent(), null)
})

t.test('MAPPED-ADDRESS fallback when there is no XOR-MAPPED-ADDRESS', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  tx.receive(response(tx, [{ type: Attr.mappedAddress, value: encodeAddress(mapped) }]), server, 1)
  const event = tx.nextEvent()
  if (event?.type !== 'response') throw new Error('expected a response')
  t.same(readBindingResponse(event.message, server, 1).mapped.port, mapped.port)
})

t.test('a wrong transaction id is not consumed; a wrong source is consumed and dropped', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  const other = transaction()
  t.notOk(tx.receive(response(other, [xorMapped(other)]), server, 1), 'other id: left for someone else')
  t.ok(tx.receive(response(tx, [xorMapped(tx)]), { host: '192.0.2.66', port: 3478 }, 2), 'consumed')
  t.equal(tx.nextEvent(), null, 'but not accepted')
  t.equal(tx.counters.otherTransaction, 1)
  t.equal(tx.counters.unexpectedSource, 1)
  t.ok(tx.receive(response(tx, [xorMapped(tx)]), { host: '::ffff:192.0.2.10', port: 3478 }, 3), 'mapped v4')
  t.equal(tx.nextEvent()?.type, 'response')
})

t.test('non-STUN bytes and malformed datagrams are ignored, never thrown', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  t.notOk(tx.receive(new Uint8Array([0x64, 0x31, 0x3a]), server, 1))
  const truncated = response(tx, [xorMapped(tx)]).subarray(0, 30)
  t.notOk(tx.receive(truncated, server, 1))
  t.equal(tx.counters.notStun, 2)
  t.equal(tx.nextEvent(), null)
})

t.test('a bad FINGERPRINT is dropped and the transaction keeps waiting', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  const bytes = addFingerprint(response(tx, [xorMapped(tx)]))
  bytes[bytes.length - 1]! ^= 1
  t.ok(tx.receive(bytes, server, 1))
  t.equal(tx.counters.badFingerprint, 1)
  t.equal(tx.nextEvent(), null)
  t.equal(tx.done, false)
})

t.test('an error response fails with STUN_ERROR_RESPONSE and its code', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  const attrs = [
    { type: Attr.errorCode, value: encodeErrorCode(420, 'Unknown Attribute') },
    { type: Attr.unknownAttributes, value: encodeUnknownAttributes([0x0003]) },
  ]
  tx.receive(response(tx, attrs, StunClass.errorResponse), server, 1)
  const event = tx.nextEvent()
  if (event?.type !== 'failed') throw new Error('expected a failure')
  t.equal(event.error.code, 'STUN_ERROR_RESPONSE')
  t.equal(event.error.errorCode, 420)
  t.same(event.error.unknownAttributes, [3])
})

t.test('an error response without ERROR-CODE is STUN_MALFORMED', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  tx.receive(response(tx, [], StunClass.errorResponse), server, 1)
  const event = tx.nextEvent()
  t.equal(event?.type === 'failed' && event.error.code, 'STUN_MALFORMED')
})

t.test(
  'unknown comprehension-required attribute in a success response: STUN_UNKNOWN_ATTRIBUTE',
  async (t) => {
    const tx = transaction()
    tx.pollTransmit(0)
    const unknown = { type: 0x7f01, value: new Uint8Array(4) }
    const optional = { type: 0xc001, value: new Uint8Array(4) }
    tx.receive(response(tx, [xorMapped(tx), optional, unknown]), server, 1)
    const event = tx.nextEvent()
    if (event?.type !== 'failed') throw new Error('expected a failure')
    t.equal(event.error.code, 'STUN_UNKNOWN_ATTRIBUTE')
    t.same(event.error.unknownAttributes, [0x7f01], 'comprehension-optional 0xc001 is ignored')
  },
)

t.test(
  'integrity: a response with the wrong key is dropped; timeout reports STUN_INTEGRITY_FAILED',
  async (t) => {
    const key = shortTermKey('secret')
    const tx = transaction({ integrityKey: key, rc: 1, rm: 1 })
    tx.pollTransmit(0)
    t.ok(tx.receive(addMessageIntegrity(response(tx, [xorMapped(tx)]), shortTermKey('wrong')), server, 1))
    t.equal(tx.nextEvent(), null)
    tx.handleTimeout(500)
    const event = tx.nextEvent()
    t.equal(event?.type === 'failed' && event.error.code, 'STUN_INTEGRITY_FAILED')
    const good = transaction({ integrityKey: key })
    good.pollTransmit(0)
    good.receive(addMessageIntegrity(response(good, [xorMapped(good)]), key), server, 1)
    t.equal(good.nextEvent()?.type, 'response')
  },
)

t.test('CHANGE-REQUEST transactions accept a response from another source', async (t) => {
  const tx = transaction({ acceptAnySource: true })
  tx.pollTransmit(0)
  tx.receive(response(tx, [xorMapped(tx)]), { host: '192.0.2.11', port: 3479 }, 5)
  t.equal(tx.nextEvent()?.type, 'response')
})

t.test('cancel ends the transaction once', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  tx.cancel(StunError.aborted())
  tx.receive(response(tx, [xorMapped(tx)]), server, 1)
  t.equal(tx.nextEvent()?.type, 'failed')
  t.equal(tx.nextEvent(), null)
})

t.test('attributes after MESSAGE-INTEGRITY are ignored, so an unknown one there does not fail', async (t) => {
  const tx = transaction()
  tx.pollTransmit(0)
  const signed = addMessageIntegrity(response(tx, [xorMapped(tx)]), shortTermKey('k'))
  const message = decodeMessage(signed)
  const trailing = encodeMessage({
    ...message,
    attributes: [...message.attributes, { type: 0x7f01, value: new Uint8Array(4) }],
  })
  tx.receive(trailing, server, 1)
  t.equal(tx.nextEvent()?.type, 'response')
  t.same(
    significantAttributes(decodeMessage(trailing).attributes).map((a) => a.type),
    [Attr.xorMappedAddress, Attr.messageIntegrity],
  )
})
