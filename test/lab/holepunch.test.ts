/**
 * Every network shape without a router mapping (spec/holepunch.md): both devices behind port-preserving
 * cone NATs pair by TCP hole punching; with a symmetric NAT on one side or both, both sides are told
 * within seconds that a relay is needed. Paired across two cone NATs, the daemons link by hole punching
 * too and a message goes through. rtrA's miniupnpd is stopped, so nothing can be mapped. The
 * README's commands, no extra flags. Needs root; run with `npm run test:lab`.
 */
import t, { type Test } from 'tap'
import { startCli, tempHome } from '../cli/helpers/cli.js'
import { type Host, runOn, startDaemon, statusUntil } from './helpers/daemon.js'
import { pairAcross, peerConnected, startBootstrap } from './helpers/pairing.js'
import { withLab } from './helpers/suite.js'

/** "Within seconds": from the join command's start (a CLI start and a DHT lookup included). */
const TOLD_WITHIN_MS = 30_000
/** From the daemons' start to both links up: a presence lookup, then a punch. */
const LINKED_WITHIN_MS = 90_000

// Pairing, then two daemons and their commands, each a process started through tsx in a namespace.
t.setTimeout(600_000)

await withLab('hp', async (lab) => {
  lab.script(['upnp', 'off'])

  const shape = (a: 'plain' | 'random', b: 'plain' | 'random') => {
    lab.script(['nat-a', a])
    lab.script(['nat-b', b])
  }

  t.test('both behind plain cone NATs, no mapping: they pair by hole punching', async (t) => {
    shape('plain', 'plain')
    const home = await tempHome(t)
    const network = await startBootstrap(t, lab, home, 4000)
    const { alice, bob } = await pairAcross(t, lab, home, network)
    t.equal(bob.code, 0, bob.stdout + bob.stderr)
    t.equal(alice.code, 0, alice.stdout + alice.stderr)
    t.match(peerConnected(bob), { path: 'holepunch', address: /^203\.0\.113\.2:\d+$/ }, 'bob punched to rtrA')
    t.match(
      peerConnected(alice),
      { path: 'holepunch', address: /^203\.0\.113\.3:\d+$/ },
      'alice punched to rtrB',
    )
    t.match(bob.records.at(-1), { type: 'paired', device: { name: 'alice' } })
    t.match(alice.records.at(-1), { type: 'paired', device: { name: 'bob' } })

    // Reconnects punch too (spec/holepunch.md §4.1): with no relay anywhere, the daemons link only so.
    const hostA: Host = { lab, home, node: 'hostA', instance: 'alice' }
    const hostB: Host = { lab, home, node: 'hostB', instance: 'bob' }
    await Promise.all([startDaemon(t, hostA, network), startDaemon(t, hostB, network)])
    const online = (s: Record<string, unknown>) =>
      (s.paired as { online: boolean | null }[]).some((peer) => peer.online === true)
    const [aliceStatus, bobStatus] = await Promise.all([
      statusUntil(t, hostA, online, LINKED_WITHIN_MS),
      statusUntil(t, hostB, online, LINKED_WITHIN_MS),
    ])
    // Both ends know the link was punched: the dialer from its strategy, the answerer from its punch.
    t.match(
      aliceStatus.paired,
      [{ name: 'bob', online: true, path: 'holepunch' }],
      'alice: bob online, punched',
    )
    t.notOk((aliceStatus.paired as { relayed?: boolean }[])[0]?.relayed, 'not relayed: there is no relay')
    t.match(
      bobStatus.paired,
      [{ name: 'alice', online: true, path: 'holepunch' }],
      'bob: alice online, punched',
    )
    const listen = startCli(t, home, ['--instance', 'bob', 'listen', '--json'], {}, lab.ns('hostB'))
    await listen.waitFor((record) => record.type === 'listening', 60_000)
    const text = 'over a hole-punched reconnect'
    const sent = await runOn(t, hostA, ['send', 'bob', text, '--json'])
    t.match(sent.records, [{ type: 'sent', text }], 'alice: sent and acknowledged')
    t.match(
      await listen.waitFor((record) => record.type === 'message', 30_000),
      { type: 'message', name: 'alice', text },
      'bob received it',
    )
  })

  const relayNeeded =
    (aliceNat: 'plain' | 'random', bobNat: 'plain' | 'random', port: number) => async (t: Test) => {
      shape(aliceNat, bobNat)
      const home = await tempHome(t)
      const network = await startBootstrap(t, lab, home, port)
      const { alice, bob } = await pairAcross(t, lab, home, network)
      for (const [name, side] of [
        ['bob', bob],
        ['alice', alice],
      ] as const) {
        t.not(side.code, 0, `${name} fails`)
        t.match(
          side.records.at(-1),
          {
            type: 'error',
            code: 'PAIRING_UNREACHABLE',
            message: /no direct path between the two networks: a relay is needed/,
          },
          `${name} is told a relay is needed`,
        )
        t.ok(side.endedAfterMs < TOLD_WITHIN_MS, `${name} knew after ${side.endedAfterMs} ms`)
        t.notOk(peerConnected(side), `${name} never connected`)
      }
      return { alice, bob }
    }

  t.test('alice behind a symmetric NAT, bob behind a cone: both told a relay is needed', async (t) => {
    const { alice, bob } = await relayNeeded('random', 'plain', 4100)(t)
    t.match(
      alice.records.at(-1),
      { message: /this device is behind a symmetric NAT/ },
      'alice learns it is her NAT',
    )
    t.match(
      bob.records.at(-1),
      { message: /the other device is behind a symmetric NAT/ },
      'bob learns it is hers',
    )
  })

  t.test('both behind symmetric NATs: both told a relay is needed', async (t) => {
    const { bob } = await relayNeeded('random', 'random', 4200)(t)
    t.match(bob.records.at(-1), { message: /this device is behind a symmetric NAT/ })
  })
})
