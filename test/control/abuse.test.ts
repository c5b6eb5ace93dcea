/**
 * Slow and stuck clients on the control socket (issue #17, `spec/control.md` §2): a client that stops
 * reading, one stuck in the middle of a frame, one that never finishes its upgrade request. Each is
 * disconnected within its bound while a well-behaved client keeps being served.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ControlClient } from '../../lib/control/client.js'
import { CONTROL_PATH } from '../../lib/control/constants.js'
import type { MethodHandlers } from '../../lib/control/protocol.js'
import { type ControlLimits, ControlServer } from '../../lib/control/server.js'
import { HALF_FRAME, rawConnect, upgrade, upgradeHead } from '../helpers/raw-client.js'

const hello = { protocol: 1, version: '0.0.0-test', instance: 'test', deviceId: 'DEV', pid: process.pid }
const limits: ControlLimits = { maxQueuedBytes: 256 * 1024, heartbeatMs: 200, upgradeTimeoutMs: 300 }

async function serve(t: { teardown(fn: () => Promise<void>): void }) {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-control-'))
  const socketPath = join(dir, 'control.sock')
  const handlers = { 'devices.list': async () => ({ devices: [] }) } as Partial<MethodHandlers>
  const server = await ControlServer.listen({
    socketPath,
    hello,
    handlers: handlers as MethodHandlers,
    limits,
  })
  const client = await ControlClient.connect(socketPath, 'test')
  t.teardown(async () => {
    client.close()
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { server, socketPath, client }
}

t.test('a client that stops reading is cut off at its queue bound; another gets every event', async (t) => {
  const { server, socketPath, client } = await serve(t)
  const stuck = rawConnect(socketPath)
  await upgrade(stuck, CONTROL_PATH)
  stuck.socket.pause()
  const events = client.events()
  const payload = 'x'.repeat(32 * 1024)
  const count = 200
  for (let i = 0; i < count; i++) {
    server.broadcast('transfers.progress', { i, payload })
    // Let the writes reach the kernel, so what is queued is what the stuck client did not read.
    await new Promise((resolve) => setImmediate(resolve))
  }
  const seen: number[] = []
  for (let i = 0; i < count; i++) seen.push(((await events.next()).value as { data: { i: number } }).data.i)
  t.same(
    seen,
    Array.from({ length: count }, (_, i) => i),
    'the reading client got every event, in order',
  )
  stuck.socket.resume()
  await stuck.closed
  const sent = count * payload.length
  t.ok(
    stuck.received() < sent / 4,
    `the stuck client got ${stuck.received()} of ${sent} bytes, then was closed`,
  )
  t.same(await client.request('devices.list', {}), { devices: [] }, 'the other client is still answered')
})

t.test('a client stuck in the middle of a frame is disconnected within two heartbeats', async (t) => {
  const { socketPath, client } = await serve(t)
  const stuck = rawConnect(socketPath)
  await upgrade(stuck, CONTROL_PATH)
  stuck.socket.write(HALF_FRAME)
  await stuck.closed
  t.same(await client.request('devices.list', {}), { devices: [] }, 'the well-behaved client answered pings')
})

t.test('an upgrade request never finished is closed at the upgrade timeout', async (t) => {
  const { socketPath, client } = await serve(t)
  const slow = rawConnect(socketPath)
  slow.socket.write(upgradeHead(CONTROL_PATH))
  const drip = setInterval(() => slow.socket.write('X-Drip: 1\r\n'), 50)
  t.teardown(() => clearInterval(drip))
  await slow.closed
  t.same(await client.request('devices.list', {}), { devices: [] })
})
