/** Property tests of the control API's request handling (`spec/control.md` §3) against arbitrary text. */
import fc from 'fast-check'
import t from 'tap'
import { CONTROL_MAX_MESSAGE_BYTES } from '../../lib/control/constants.js'
import { dispatch } from '../../lib/control/dispatcher.js'
import { METHODS, type MethodHandlers, type MethodName, ResponseMessage } from '../../lib/control/protocol.js'
import { cborValue, jsonText, mutationOf, runs } from '../fuzz/helpers/arbitraries.js'

/** Handlers that record each call and answer `{}`: what reaches them passed validation. */
function recordingHandlers(calls: { method: MethodName; params: unknown }[]): MethodHandlers {
  return Object.fromEntries(
    Object.keys(METHODS).map((method) => [
      method,
      async (params: unknown) => {
        calls.push({ method: method as MethodName, params })
        return {}
      },
    ]),
  ) as unknown as MethodHandlers
}

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 64 }))
const validRequests = fc.oneof(
  fc.record({ id, method: fc.constant('status' as const), params: fc.constant({}) }),
  fc.record({
    id,
    method: fc.constant('devices.remove' as const),
    params: fc.record({ device: fc.string({ maxLength: 128 }) }),
  }),
  fc.record({
    id,
    method: fc.constant('pairing.confirm' as const),
    params: fc.record({ sessionId: fc.string({ minLength: 1, maxLength: 32 }), accept: fc.boolean() }),
  }),
  fc.record({
    id,
    method: fc.constant('messages.send' as const),
    params: fc.record({
      device: fc.string({ maxLength: 128 }),
      text: fc.string({ minLength: 1, maxLength: 200 }),
    }),
  }),
)
/** JSON-able stand-ins for CBOR values (byte strings become arrays of numbers). */
const jsonValue = cborValue.map((value) => JSON.parse(jsonText(value)))
const text = fc.oneof(
  fc.string({ maxLength: 300, unit: 'binary' }),
  validRequests.chain((request) =>
    mutationOf([Buffer.from(JSON.stringify(request))]).map((bytes) => Buffer.from(bytes).toString('utf8')),
  ),
  fc
    .tuple(validRequests, fc.constantFrom('id', 'method', 'params', 'extra'), jsonValue)
    .map(([request, key, value]) => JSON.stringify({ ...request, [key]: value })),
  fc
    .tuple(validRequests, fc.string({ minLength: 1, maxLength: 12 }), jsonValue)
    .map(([request, key, value]) =>
      JSON.stringify({ ...request, params: { ...request.params, [key]: value } }),
    ),
)

t.test('valid requests reach their handler with their params and get their id back', async (t) => {
  const calls: { method: MethodName; params: unknown }[] = []
  const handlers = recordingHandlers(calls)
  await fc.assert(
    fc.asyncProperty(validRequests, async (request) => {
      const response = await dispatch(JSON.stringify(request), handlers)
      const call = calls.pop()
      return (
        'result' in response &&
        response.id === request.id &&
        call?.method === request.method &&
        JSON.stringify(call.params) === JSON.stringify(request.params)
      )
    }),
    runs(300),
  )
  t.pass('300 valid requests were dispatched as sent')
})

t.test(
  'any text gets one response the client accepts: a typed error, or a result after validation',
  async (t) => {
    const calls: { method: MethodName; params: unknown }[] = []
    const handlers = recordingHandlers(calls)
    let errors = 0
    await fc.assert(
      fc.asyncProperty(text, async (input) => {
        const response = await dispatch(input, handlers)
        const wire = JSON.stringify(response)
        if (
          !ResponseMessage.safeParse(JSON.parse(wire)).success ||
          Buffer.byteLength(wire) > CONTROL_MAX_MESSAGE_BYTES
        )
          return false
        if ('error' in response) {
          errors++
          return ['CONTROL_BAD_MESSAGE', 'CONTROL_UNKNOWN_METHOD'].includes(response.error.code)
        }
        const call = calls.pop()
        return call !== undefined && METHODS[call.method].params.safeParse(call.params).success
      }),
      runs(2000),
    )
    t.ok(errors > 1000, `most inputs were refused (${errors} of 2000)`)
  },
)

t.test('a request with thousands of unknown params still gets an error the client accepts', async (t) => {
  const params = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`key${i}`, 1]))
  const request = JSON.stringify({ id: 1, method: 'status', params })
  t.ok(Buffer.byteLength(request) < CONTROL_MAX_MESSAGE_BYTES, 'the request itself is within the limit')
  const response = await dispatch(request, recordingHandlers([]))
  t.match(response, { id: 1, error: { code: 'CONTROL_BAD_MESSAGE' } })
  t.ok(ResponseMessage.safeParse(response).success, 'its message fits the error body the client parses')
})
