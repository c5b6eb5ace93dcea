import t from 'tap'
import { dispatch } from '../../lib/control/dispatcher.js'
import type { MethodHandlers } from '../../lib/control/protocol.js'
import { PairctlError } from '../../lib/errors.js'

const calls: unknown[] = []
const handlers = {
  'devices.remove': async (params: unknown) => {
    calls.push(params)
    throw new PairctlError('NODE_UNKNOWN_DEVICE', 'no such device')
  },
  'pairing.cancel': async (params: unknown) => {
    calls.push(params)
    return {}
  },
  'devices.list': async () => {
    throw new TypeError('boom')
  },
} as unknown as MethodHandlers

t.test('a valid request reaches its handler with validated params', async (t) => {
  const response = await dispatch(
    JSON.stringify({ id: 7, method: 'pairing.cancel', params: { sessionId: 'ab' } }),
    handlers,
  )
  t.same(response, { id: 7, result: {} })
  t.same(calls.pop(), { sessionId: 'ab' })
})

t.test('malformed messages become error responses, never throws', async (t) => {
  t.same(await dispatch('{nope', handlers), {
    id: null,
    error: { code: 'CONTROL_BAD_MESSAGE', message: 'malformed control message: not JSON' },
  })
  t.match(await dispatch(JSON.stringify({ method: 'status' }), handlers), {
    id: null,
    error: { code: 'CONTROL_BAD_MESSAGE' },
  })
  t.match(await dispatch(JSON.stringify({ id: 1, method: 'status', extra: 1 }), handlers), {
    id: null,
    error: { code: 'CONTROL_BAD_MESSAGE' },
  })
})

t.test('unknown methods and bad params are refused before any handler runs', async (t) => {
  const before = calls.length
  t.match(await dispatch(JSON.stringify({ id: 2, method: 'toString' }), handlers), {
    id: 2,
    error: { code: 'CONTROL_UNKNOWN_METHOD' },
  })
  t.match(
    await dispatch(JSON.stringify({ id: 3, method: 'pairing.cancel', params: { sessionId: 5 } }), handlers),
    {
      id: 3,
      error: { code: 'CONTROL_BAD_MESSAGE' },
    },
  )
  t.match(
    await dispatch(
      JSON.stringify({ id: 4, method: 'pairing.cancel', params: { sessionId: 'a', x: 1 } }),
      handlers,
    ),
    { id: 4, error: { code: 'CONTROL_BAD_MESSAGE' } },
  )
  t.equal(calls.length, before)
})

t.test('handler errors keep their code; foreign errors become INTERNAL', async (t) => {
  t.same(
    await dispatch(
      JSON.stringify({ id: 'x', method: 'devices.remove', params: { device: 'bob' } }),
      handlers,
    ),
    {
      id: 'x',
      error: { code: 'NODE_UNKNOWN_DEVICE', message: 'no such device' },
    },
  )
  t.match(await dispatch(JSON.stringify({ id: 5, method: 'devices.list' }), handlers), {
    id: 5,
    error: { code: 'INTERNAL' },
  })
})
