import { PassThrough } from 'node:stream'
import t from 'tap'
import type { AdvertAddress } from '../../lib/pairing/advert.js'
import { type Connector, connectFirst, type Securer } from '../../lib/pairing/connect.js'
import type { PairingChannel } from '../../lib/pairing/types.js'

const addr = (port: number): AdvertAddress => ({ host: '192.0.2.1', port, transport: 'tcp' })

/** A connector whose behaviour per port is scripted: 'hang' never connects, 'refuse' fails at once. */
function scripted(plan: Record<number, 'hang' | 'refuse' | 'ok'>, log: string[]): Connector {
  return (address, signal) =>
    new Promise((resolve, reject) => {
      log.push(`start ${address.port}`)
      signal.addEventListener('abort', () => {
        log.push(`abort ${address.port}`)
        reject(new Error('aborted'))
      })
      if (plan[address.port] === 'refuse') reject(new Error('ECONNREFUSED'))
      if (plan[address.port] === 'ok') resolve(new PassThrough())
    })
}

const secure: Securer = async () =>
  ({
    handshakeHash: new Uint8Array(32),
    localStaticKey: new Uint8Array(32),
    remoteStaticKey: new Uint8Array(32),
    send: async () => {},
    messages: () => [][Symbol.iterator]() as unknown as AsyncIterable<Uint8Array>,
    close: () => {},
    destroy: () => {},
  }) satisfies PairingChannel

t.test(
  'a hanging first address: the second starts after the stagger and wins; the first is aborted',
  async (t) => {
    const log: string[] = []
    const started = Date.now()
    const { address } = await connectFirst(
      [addr(1), addr(2)],
      scripted({ 1: 'hang', 2: 'ok' }, log),
      secure,
      new AbortController().signal,
    )
    t.equal(address.port, 2)
    t.ok(Date.now() - started >= 240, 'waited for the stagger')
    t.same(log, ['start 1', 'start 2', 'abort 1'])
  },
)

t.test('a refused first address moves on to the next one', async (t) => {
  const log: string[] = []
  const { address } = await connectFirst(
    [addr(1), addr(2)],
    scripted({ 1: 'refuse', 2: 'ok' }, log),
    secure,
    new AbortController().signal,
  )
  t.equal(address.port, 2)
  t.same(
    log.filter((line) => line.startsWith('start')),
    ['start 1', 'start 2'],
  )
})

t.test('nothing reachable: two rounds, then PAIRING_UNREACHABLE', async (t) => {
  const log: string[] = []
  await t.rejects(
    connectFirst(
      [addr(1), addr(2)],
      scripted({ 1: 'refuse', 2: 'refuse' }, log),
      secure,
      new AbortController().signal,
    ),
    { code: 'PAIRING_UNREACHABLE' },
  )
  t.same(
    log.filter((line) => line.startsWith('start')),
    ['start 1', 'start 2', 'start 1', 'start 2'],
  )
})

t.test('abort cancels every attempt with PAIRING_CANCELLED', async (t) => {
  const log: string[] = []
  const controller = new AbortController()
  const pending = connectFirst([addr(1)], scripted({ 1: 'hang' }, log), secure, controller.signal)
  setTimeout(() => controller.abort(), 20)
  await t.rejects(pending, { code: 'PAIRING_CANCELLED' })
  t.same(log, ['start 1', 'abort 1'])
})
