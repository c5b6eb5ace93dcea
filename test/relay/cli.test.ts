import t from 'tap'
import { Reservation } from '../../lib/relay/index.js'
import { startCli, tempHome } from '../cli/helpers/cli.js'
import { channelsThrough, drain } from './helpers/channels.js'
import { pairThroughRelay, type RelayOnlyDevice, relayOnlyDevice } from './helpers/devices.js'

/** Resolves once `check` holds, polling; rejects after `ms`. */
async function until(check: () => boolean, ms: number, what: string): Promise<void> {
  const start = Date.now()
  while (!check()) {
    if (Date.now() - start > ms) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

const linked = (a: RelayOnlyDevice, b: RelayOnlyDevice) =>
  a.links.isOnline(b.identity.deviceId) && b.links.isOnline(a.identity.deviceId)

t.test(
  'pairctl relay announces itself; devices find it with no flag, survive its crash and reconnect',
  async (t) => {
    const home = await tempHome(t)
    // Generous waits: a loaded machine can take many seconds to start a process under tsx.
    const seed = startCli(t, home, ['bootstrap', '--host', '127.0.0.1', '--port', '0', '--json'])
    const bootstrap = `127.0.0.1:${(await seed.waitFor((record) => record.type === 'listening', 90_000)).port}`
    const relayArgs = (port: number) => [
      'relay',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--bootstrap',
      bootstrap,
      '--json',
    ]
    const first = startCli(t, home, relayArgs(0))
    const listening = await first.waitFor((record) => record.type === 'listening', 90_000)
    const port = listening.port as number
    t.match(listening, { type: 'listening', host: '127.0.0.1', announced: [`127.0.0.1:${port}`] })

    const alice = await relayOnlyDevice(t, 'alice', [bootstrap], [])
    const bob = await relayOnlyDevice(t, 'bob', [bootstrap], [])
    await pairThroughRelay(alice, bob)
    t.match(
      bob.events.find((event) => event.type === 'peer-connected'),
      { address: `127.0.0.1:${port}`, relayed: true },
    )
    await until(() => linked(alice, bob), 60_000, 'links through the announced relay')
    t.ok(alice.links.isRelayed(bob.identity.deviceId), 'the link is relayed')

    const [dialer, listener] = await channelsThrough(t, { host: '127.0.0.1', port })
    const reading = drain(listener)
    await dialer.send(Buffer.from('before the crash'))
    const watcher = new Reservation({ host: '127.0.0.1', port }, [new Uint8Array(32).fill(1)]).start()
    t.teardown(() => watcher.close())
    await new Promise<void>((resolve) => watcher.once('reserved', () => resolve()))
    const lost = new Promise((resolve) => watcher.once('lost', resolve))

    first.child.kill('SIGKILL')
    const { delivered, error } = await reading
    t.same(delivered, ['before the crash'])
    t.match(
      error,
      { code: 'CHANNEL_IO', cause: { code: 'RELAY_UNREACHABLE', closeCode: 1006 } },
      'a clear error on the circuit',
    )
    t.match(await lost, { code: 'RELAY_UNREACHABLE' }, 'and on the reservation')
    await until(() => !alice.links.isOnline(bob.identity.deviceId), 30_000, 'the link to drop')

    const second = startCli(t, home, relayArgs(port))
    await second.waitFor((record) => record.type === 'listening', 90_000)
    await until(() => linked(alice, bob), 120_000, 'links again once the relay is back')
    const received = new Promise<string>((resolve) => bob.links.once('message', ({ text }) => resolve(text)))
    await alice.links.send(bob.identity.deviceId, 'after the crash')
    t.equal(await received, 'after the crash', 'messages flow through the restarted relay')
  },
)
