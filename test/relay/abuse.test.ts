/**
 * Slow and stuck clients on the relay (issue #17, `spec/relay.md` §5): upgrades that never finish, too
 * many of them from one address, and a circuit end that never reads. Each is bounded in time or memory
 * while well-behaved clients keep being served.
 */
import type { Duplex } from 'node:stream'
import t from 'tap'
import { dialRelay, type RelayAddress, Reservation, relayConstants } from '../../lib/relay/index.js'
import { rawConnect, upgrade, upgradeHead } from '../helpers/raw-client.js'
import { startRelay } from './helpers/relays.js'

type Teardown = { teardown(fn: () => unknown): void }
const { MAX_DATA_MESSAGE, RELAY_PATH } = relayConstants
/** What the adapter lets wait towards one connection before it stops reading the sender (§5). */
const HIGH_WATER = 1024 * 1024

/** A relay client that reserves `token` and connects; proof that the relay still serves. */
async function served(t: Teardown, relay: RelayAddress, fill: number): Promise<void> {
  const token = new Uint8Array(32).fill(fill)
  const reservation = new Reservation(relay, [token]).start()
  t.teardown(() => reservation.close())
  const accepted = new Promise<Duplex>((resolve) =>
    reservation.once('circuit', ({ stream }) => resolve(stream)),
  )
  await new Promise<void>((resolve) => reservation.once('reserved', () => resolve()))
  const dialer = await dialRelay(relay, token)
  const listener = await accepted
  dialer.write('ping')
  const [chunk] = (await new Promise((resolve) => listener.once('data', (data) => resolve([data])))) as [
    Buffer,
  ]
  t.teardown(() => {
    dialer.destroy()
    listener.destroy()
  })
  if (chunk.toString() !== 'ping') throw new Error(`relayed ${chunk.toString()}`)
}

t.test('an upgrade request trickled header by header is closed at the upgrade timeout', async (t) => {
  const { address } = await startRelay(t, { limits: { upgradeTimeoutMs: 300 } })
  const slow = rawConnect(address.port)
  slow.socket.write(upgradeHead(RELAY_PATH))
  const drip = setInterval(() => slow.socket.write('X-Drip: 1\r\n'), 50)
  t.teardown(() => clearInterval(drip))
  const ms = await slow.closed
  t.ok(ms >= 250 && ms < 3_000, `closed after ${Math.round(ms)} ms`)
  await served(t, address, 1)
  t.pass('a real client is relayed afterwards')
})

t.test('a connection that sends nothing is closed at the upgrade timeout', async (t) => {
  const { address } = await startRelay(t, { limits: { upgradeTimeoutMs: 300 } })
  const silent = rawConnect(address.port)
  const answer = new Promise<string>((resolve) => silent.socket.once('data', (d) => resolve(d.toString())))
  const ms = await silent.closed
  t.ok(ms >= 250 && ms < 3_000, `closed after ${Math.round(ms)} ms`)
  t.match(await answer, /^HTTP\/1\.1 408 /, 'told why: 408 Request Timeout')
})

t.test('a plain HTTP request gets 426 and the path to use', async (t) => {
  const { address } = await startRelay(t)
  const response = await fetch(`http://127.0.0.1:${address.port}/`)
  t.equal(response.status, 426)
  t.match(await response.text(), RELAY_PATH)
})

t.test('upgrades per address are capped with 429; other addresses and finished upgrades go on', async (t) => {
  const upgradesPerIp = 4
  const { address } = await startRelay(t, { limits: { upgradesPerIp } })
  const stuck = Array.from({ length: upgradesPerIp }, () => rawConnect(address.port))
  for (const client of stuck) {
    client.socket.write(upgradeHead(RELAY_PATH))
    t.teardown(() => client.socket.destroy())
  }
  await new Promise((resolve) => setTimeout(resolve, 100))
  const extra = rawConnect(address.port)
  const answer = await new Promise<string>((resolve) =>
    extra.socket.once('data', (d) => resolve(d.toString())),
  )
  t.match(answer, /^HTTP\/1\.1 429 /, 'one more from the same address is refused')
  await extra.closed

  const other = rawConnect(address.port, '127.0.0.2')
  await upgrade(other, RELAY_PATH)
  t.pass('a client from another address upgrades')
  other.socket.destroy()

  stuck[0]?.socket.write('\r\n')
  await new Promise((resolve) => setTimeout(resolve, 100))
  const next = rawConnect(address.port)
  await upgrade(next, RELAY_PATH)
  t.pass('once one upgrade finishes, the address may start another')
  next.socket.destroy()
})

t.test('a circuit end that never reads holds at most 1 MiB on the relay, then is closed idle', async (t) => {
  const { server, address } = await startRelay(t, { limits: { idleTimeoutMs: 1_000 } })
  const token = new Uint8Array(32).fill(7)
  const reservation = new Reservation(address, [token]).start()
  t.teardown(() => reservation.close())
  const accepted = new Promise<Duplex>((resolve) =>
    reservation.once('circuit', ({ stream }) => resolve(stream)),
  )
  await new Promise<void>((resolve) => reservation.once('reserved', () => resolve()))
  const dialer = await dialRelay(address, token)
  const reader = await accepted // never read: its stream fills, then its WebSocket stops reading
  const dialerError = new Promise((resolve) => dialer.once('error', resolve))
  reader.on('error', () => {})

  const chunk = Buffer.alloc(MAX_DATA_MESSAGE)
  let written = 0
  let peak = 0
  const sample = setInterval(() => (peak = Math.max(peak, server.queuedBytes)), 5)
  t.teardown(() => clearInterval(sample))
  const stalled = new Promise<void>((resolve) => {
    let last = -1
    const watch = setInterval(() => {
      if (written === last) {
        clearInterval(watch)
        resolve()
      }
      last = written
    }, 300)
  })
  const pump = () => {
    while (written < 256 * HIGH_WATER && dialer.write(chunk)) written += chunk.length
    dialer.once('drain', () => {
      written += chunk.length
      pump()
    })
  }
  pump()
  await stalled
  t.ok(written < 64 * HIGH_WATER, `the writer was stopped after ${(written / HIGH_WATER).toFixed(1)} MiB`)
  t.ok(
    // The sender's messages already read off its socket when it was paused still arrive: allow two.
    peak <= HIGH_WATER + 2 * MAX_DATA_MESSAGE,
    `the relay held at most ${(peak / HIGH_WATER).toFixed(2)} MiB towards the stuck reader`,
  )
  t.match(await dialerError, { code: 'RELAY_CLOSED' }, 'the stalled circuit is closed as idle')
  const deadline = Date.now() + 10_000
  while (server.core.connectionCount > 1 && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 100))
  t.equal(server.core.connectionCount, 1, 'only the reservation is left')
  t.equal(server.queuedBytes, 0, 'and nothing is queued')
  await served(t, address, 8)
  t.pass('the relay still relays')
})
