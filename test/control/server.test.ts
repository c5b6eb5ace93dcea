import { mkdtemp, rm, stat } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { WebSocket } from 'ws'
import { ControlClient } from '../../lib/control/client.js'
import type { MethodHandlers } from '../../lib/control/protocol.js'
import { ControlServer } from '../../lib/control/server.js'

const hello = { protocol: 1, version: '0.0.0-test', instance: 'test', deviceId: 'DEV', pid: process.pid }
const device = { deviceId: 'AAAA', name: 'bob', type: 'desktop', pairedAt: '2026-01-01T00:00:00.000Z' }

async function serve(t: { teardown(fn: () => Promise<void>): void }, handlers: Partial<MethodHandlers> = {}) {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-control-'))
  const socketPath = join(dir, 'control.sock')
  const server = await ControlServer.listen({ socketPath, hello, handlers: handlers as MethodHandlers })
  t.teardown(async () => {
    await server.close()
    await rm(dir, { recursive: true, force: true })
  })
  return { server, socketPath }
}

t.test('the socket is mode 0600 and removed on close', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'pairctl-control-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const socketPath = join(dir, 'control.sock')
  const server = await ControlServer.listen({ socketPath, hello, handlers: {} as MethodHandlers })
  const info = await stat(socketPath)
  t.ok(info.isSocket())
  t.equal(info.mode & 0o777, 0o600)
  await server.close()
  await t.rejects(stat(socketPath), { code: 'ENOENT' })
})

t.test('a client gets the hello, request results and broadcast events', async (t) => {
  const { server, socketPath } = await serve(t, { 'devices.list': async () => ({ devices: [device] }) })
  const client = await ControlClient.connect(socketPath, 'test')
  t.teardown(() => client.close())
  t.same(client.hello, hello)
  t.same(await client.request('devices.list', {}), { devices: [device] })
  const events = client.events()
  server.broadcast('devices.added', device)
  t.same((await events.next()).value, { event: 'devices.added', data: device })
})

t.test('daemon errors reject with their code; an invalid result is refused by the client', async (t) => {
  const { socketPath } = await serve(t, {
    status: async () => ({ nonsense: true }) as never,
    'devices.list': async () => ({ devices: [] }),
  })
  const client = await ControlClient.connect(socketPath, 'test')
  t.teardown(() => client.close())
  await t.rejects(client.request('pairing.cancel', { sessionId: 'x' }), { code: 'INTERNAL', remote: true })
  await t.rejects(client.request('status', {}), { code: 'CONTROL_BAD_MESSAGE' })
  t.same(await client.request('devices.list', {}), { devices: [] }, 'the connection survives')
})

t.test('no daemon: CONTROL_NOT_RUNNING naming the instance', async (t) => {
  await t.rejects(ControlClient.connect(join(tmpdir(), 'pairctl-nothing-here.sock'), 'ghost'), {
    code: 'CONTROL_NOT_RUNNING',
    message: /instance "ghost"/,
  })
})

t.test('another protocol version path and browser origins are refused', async (t) => {
  const { socketPath } = await serve(t)
  const status = (path: string, headers: Record<string, string>) =>
    new Promise<number | undefined>((resolve, reject) => {
      const ws = new WebSocket(`ws+unix://${socketPath}:${path}`, { headers })
      ws.on('unexpected-response', (_req, res) => {
        resolve(res.statusCode)
        ws.terminate()
      })
      ws.on('open', () => reject(new Error('accepted')))
      ws.on('error', () => undefined)
    })
  t.equal(await status('/v2', {}), 404)
  t.equal(await status('/v1', { origin: 'https://evil.example' }), 403)
  const plain = await new Promise<number | undefined>((resolve) =>
    request({ socketPath, path: '/v1' }, (res) => {
      res.resume()
      resolve(res.statusCode)
    }).end(),
  )
  t.equal(plain, 426, 'plain HTTP gets "upgrade required"')
})
