import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ControlClient } from '../../lib/control/client.js'
import {
  type MessageInfo,
  PairingEventData,
  type PairingProgress,
  PeerStatus,
} from '../../lib/control/protocol.js'
import { createNode, startDaemon } from '../../lib/node/index.js'

t.test(
  'a daemon pairs on request, asks for SAS confirmation over the socket, then lists the device',
  async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'pairctl-daemon-'))
    const seed = await createNode({ dir: join(dir, 'seed'), host: '127.0.0.1' })
    const bootstrap = [`127.0.0.1:${seed.status('test').listen[0]!.port}`]
    const options = (name: string) => ({
      dir: join(dir, name),
      host: '127.0.0.1',
      bootstrap,
      deviceInfo: { name, type: 'test' },
    })
    const alice = await createNode(options('alice'))
    const bob = await createNode(options('bob'))
    const daemon = await startDaemon(alice, '0.0.0-test')
    const client = await ControlClient.connect(daemon.socketPath, 'alice')
    t.teardown(async () => {
      await client.close()
      await daemon.close()
      await Promise.all([alice.close(), bob.close()])
      await seed.close()
      await rm(dir, { recursive: true, force: true })
    })
    const events = client.events()
    const presence = client.events()
    const { sessionId } = await client.request('pairing.generate', { confirm: true })
    await t.rejects(client.request('pairing.confirm', { sessionId, accept: true }), {
      code: 'CONTROL_UNKNOWN_SESSION',
    })
    const steps: PairingProgress[] = []
    let bobSas = ''
    for await (const { event, data } of events) {
      const parsed = PairingEventData.safeParse(data)
      if (event !== 'pairing' || !parsed.success || parsed.data.sessionId !== sessionId) continue
      const step = parsed.data.progress
      steps.push(step)
      if (step.type === 'code') {
        bob.join(step.code, {
          confirm: async (sas) => {
            bobSas = sas
            return true
          },
        })
      }
      if (step.type === 'sas') await client.request('pairing.confirm', { sessionId, accept: true })
      if (step.type === 'paired' || step.type === 'failed') break
    }
    t.match(steps.at(-1), { type: 'paired', device: { deviceId: bob.deviceId, name: 'bob' } })
    t.equal(steps.find((step) => step.type === 'sas')?.sas, bobSas, 'both sides showed the same SAS')
    t.same(
      (await client.request('devices.list', {})).devices.map((d) => d.deviceId),
      [bob.deviceId],
    )
    t.match(await nextOf(presence, 'devices.online'), { deviceId: bob.deviceId, name: 'bob', online: true })
    const status = await client.request('status', {})
    t.match(status, { deviceId: alice.deviceId, paired: [{ deviceId: bob.deviceId, online: true }] })
    t.type(status.paired[0]?.lastSeen, 'string')
    t.ok(status.dht.routingTableSize >= 1)

    const received = new Promise<MessageInfo>((resolve) => bob.once('message', resolve))
    t.match(await client.request('messages.send', { device: 'bob', text: 'hi bob' }), {
      to: { deviceId: bob.deviceId },
    })
    t.match(await received, { deviceId: alice.deviceId, name: 'alice', text: 'hi bob' })
    await t.rejects(client.request('messages.send', { device: 'nobody', text: 'x' }), {
      code: 'NODE_UNKNOWN_DEVICE',
    })
    await bob.close()
    t.match(await nextOf(presence, 'devices.offline'), { deviceId: bob.deviceId, online: false })
    await t.rejects(client.request('messages.send', { device: 'bob', text: 'x' }), {
      code: 'PRESENCE_OFFLINE',
    })
    await presence.return?.()
  },
)

/** The data of the next `name` event. */
async function nextOf(events: AsyncIterator<{ event: string; data: unknown }>, name: string) {
  for (let next = await events.next(); next.done !== true; next = await events.next())
    if (next.value.event === name) return PeerStatus.parse(next.value.data)
  throw new Error(`the event stream ended before ${name}`)
}
