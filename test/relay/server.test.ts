import type { Duplex } from 'node:stream'
import t from 'tap'
import { WebSocket, WebSocketServer } from 'ws'
import {
  CLOSE,
  dialRelay,
  encodeClientMessage,
  type RelayAddress,
  RelayError,
  RelayStream,
  Reservation,
  relayUrl,
} from '../../lib/relay/index.js'
import { startRelay } from './helpers/relays.js'

type Teardown = { teardown(fn: () => unknown): void }
const token = (fill: number) => new Uint8Array(32).fill(fill)

interface RawSocket {
  ws: WebSocket
  /** The close code and reason it gets. */
  closed: Promise<{ code: number; reason: string }>
}

/** Opens a raw WebSocket to the relay; resolves once open. */
function rawSocket(url: string): Promise<RawSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url)
    const closed = new Promise<{ code: number; reason: string }>((done) =>
      ws.once('close', (code, reason) => done({ code, reason: reason.toString() })),
    )
    ws.once('open', () => resolve({ ws, closed }))
    ws.once('error', reject)
  })
}

/** Reserves `tokens`; circuits it accepts ignore errors and are destroyed at teardown. */
async function reserved(t: Teardown, relay: RelayAddress, tokens: Uint8Array[]): Promise<Reservation> {
  const reservation = new Reservation(relay, tokens).start()
  t.teardown(() => reservation.close())
  reservation.on('circuit', ({ stream }) => {
    stream.on('error', () => {})
    t.teardown(() => stream.destroy())
  })
  await new Promise<void>((resolve) => reservation.once('reserved', () => resolve()))
  return reservation
}

/** Dials, keeping the stream quiet at teardown (the relay closing it then is expected). */
async function dial(t: Teardown, relay: RelayAddress, tk: Uint8Array): Promise<Duplex> {
  const stream = await dialRelay(relay, tk)
  t.teardown(() => {
    stream.on('error', () => {})
    stream.destroy()
  })
  return stream
}

const errorOf = (stream: Duplex) => new Promise((resolve) => stream.once('error', resolve))

t.test('every limit reaches a real client as a close code and reason, never a hang', async (t) => {
  await t.test('no reservation', async (t) => {
    const { address } = await startRelay(t)
    const error = await dialRelay(address, token(1)).catch((err: unknown) => err)
    t.ok(error instanceof RelayError)
    t.match(error, {
      code: 'RELAY_CLOSED',
      closeCode: CLOSE.noReservation,
      message: /no reservation for this token/,
    })
  })
  await t.test('connections per IP', async (t) => {
    const { address } = await startRelay(t, { limits: { connectionsPerIp: 2 } })
    const open = [await rawSocket(relayUrl(address)), await rawSocket(relayUrl(address))]
    const third = await rawSocket(relayUrl(address))
    t.same(await third.closed, {
      code: CLOSE.tooManyConnections,
      reason: 'more than 2 connections from your address',
    })
    for (const { ws } of open) ws.close()
  })
  await t.test('circuits per IP', async (t) => {
    const { address } = await startRelay(t, { limits: { circuitsPerIp: 1 } })
    await reserved(t, address, [token(2)])
    await dial(t, address, token(2))
    const error = await dialRelay(address, token(2)).catch((err: unknown) => err)
    t.match(error, { code: 'RELAY_CLOSED', closeCode: CLOSE.tooManyCircuits })
  })
  await t.test('total circuits', async (t) => {
    const { address } = await startRelay(t, { limits: { maxCircuits: 1 } })
    await reserved(t, address, [token(2)])
    await dial(t, address, token(2))
    const error = await dialRelay(address, token(2)).catch((err: unknown) => err)
    t.match(error, { code: 'RELAY_CLOSED', closeCode: CLOSE.relayFull, message: /relay full: 1 circuits/ })
  })
  await t.test('idle circuit', async (t) => {
    const { address } = await startRelay(t, { limits: { idleTimeoutMs: 300 } })
    await reserved(t, address, [token(3)])
    const stream = await dial(t, address, token(3))
    t.match(await errorOf(stream), {
      code: 'RELAY_CLOSED',
      closeCode: CLOSE.idle,
      message: /no data for 300 ms/,
    })
  })
  await t.test('circuit lifetime', async (t) => {
    const { address } = await startRelay(t, { limits: { circuitLifetimeMs: 400 } })
    await reserved(t, address, [token(4)])
    const stream = await dial(t, address, token(4))
    const ticker = setInterval(() => stream.write('x'), 50)
    const error = await errorOf(stream)
    clearInterval(ticker)
    t.match(error, { code: 'RELAY_CLOSED', closeCode: CLOSE.circuitLifetime })
  })
  await t.test('reservation lifetime', async (t) => {
    const { address } = await startRelay(t, { limits: { reservationLifetimeMs: 300 } })
    const { ws, closed } = await rawSocket(relayUrl(address))
    ws.send(encodeClientMessage({ v: 1, t: 'reserve', tks: [token(5)] }))
    t.same(await closed, { code: CLOSE.reservationExpired, reason: 'reservation not renewed' })
  })
  await t.test('a Reservation renews itself before its lifetime ends', async (t) => {
    const { server, address } = await startRelay(t, { limits: { reservationLifetimeMs: 400 } })
    const reservation = await reserved(t, address, [token(6)])
    let renewals = 0
    reservation.on('reserved', () => renewals++)
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    t.ok(renewals >= 2, `renewed ${renewals} times`)
    t.equal(server.core.counters.reservationExpired, 0)
  })
})

t.test(
  "a write that meets the relay's close frame fails with the relay's reason, not a socket error",
  async (t) => {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 })
    t.teardown(() => server.close())
    await new Promise((resolve) => server.once('listening', resolve))
    server.on('connection', (ws) =>
      ws.once('message', () => ws.close(CLOSE.circuitLifetime, 'circuit lifetime over')),
    )
    const { port } = server.address() as { port: number }
    const ws = new WebSocket(`ws://127.0.0.1:${port}`)
    await new Promise((resolve) => ws.once('open', resolve))
    const stream = new RelayStream(ws)
    // ws answers a close frame by calling close(): from then on readyState is CLOSING until 'close', a
    // round trip later. Writing right there is the window a circuit's last writes fall into.
    const writeResult = new Promise<unknown>((resolve) => {
      const close = ws.close.bind(ws)
      ws.close = (code?: number, reason?: string | Buffer) => {
        close(code, reason)
        t.equal(ws.readyState, ws.CLOSING)
        stream.write('x', resolve)
      }
    })
    stream.write('first')
    const [error, written] = await Promise.all([errorOf(stream), writeResult])
    const relayClosed = {
      code: 'RELAY_CLOSED',
      closeCode: CLOSE.circuitLifetime,
      message: /circuit lifetime over/,
    }
    t.match(error, relayClosed)
    t.match(written, relayClosed)
  },
)

t.test('a circuit carries bytes at its byte rate, in order and complete', async (t) => {
  const { address } = await startRelay(t, { limits: { bytesPerSecond: 200_000 } })
  const reservation = await reserved(t, address, [token(7)])
  const accepted = new Promise<Duplex>((resolve) =>
    reservation.once('circuit', ({ stream }) => resolve(stream)),
  )
  const dialer = await dial(t, address, token(7))
  const listener = await accepted
  const payload = Buffer.alloc(600_000)
  for (let i = 0; i < payload.length; i++) payload[i] = i % 251
  const chunks: Buffer[] = []
  listener.on('data', (chunk: Buffer) => chunks.push(chunk))
  const start = Date.now()
  const ended = new Promise((resolve) => listener.once('end', resolve))
  dialer.end(payload)
  await ended
  const elapsed = Date.now() - start
  t.ok(Buffer.concat(chunks).equals(payload), '600 kB arrived intact and in order')
  // 200 kB of burst, then 400 kB at 200 kB/s: 2 s, less the last 64 KiB message (forwarded, then paused).
  t.ok(elapsed >= 1_600, `took ${elapsed} ms at 200 kB/s`)
  listener.end()
})

t.test('memory stays bounded under many connections from one address', async (t) => {
  const { server, address } = await startRelay(t, { limits: { connectionsPerIp: 50, maxConnections: 100 } })
  const sockets = await Promise.all(
    Array.from({ length: 300 }, () => rawSocket(relayUrl(address)).catch(() => null)),
  )
  const settled = await Promise.all(
    sockets.map((socket) =>
      socket === null
        ? null
        : Promise.race([socket.closed, new Promise((resolve) => setTimeout(resolve, 2_000, 'open'))]),
    ),
  )
  const refused = settled.filter(
    (close) => (close as { code?: number } | null)?.code === CLOSE.tooManyConnections,
  )
  t.equal(server.core.connectionCount, 50, 'the core keeps state for 50 only')
  t.equal(refused.length, 250, 'the other 250 were told why')
  for (const socket of sockets) socket?.ws.terminate()
})
