/**
 * Every network shape without a router mapping (spec/holepunch.md): both devices behind port-preserving
 * cone NATs pair by TCP hole punching; with a symmetric NAT on one side or both, both sides are told
 * within seconds that a relay is needed. rtrA's miniupnpd is stopped, so nothing can be mapped. The
 * README's commands, no extra flags. Needs root; run with `npm run test:lab`.
 */
import t, { type Test } from 'tap'
import { tempHome } from '../cli/helpers/cli.js'
import { pairAcross, peerConnected, startBootstrap } from './helpers/pairing.js'
import { withLab } from './helpers/suite.js'

/** "Within seconds": from the join command's start (a CLI start and a DHT lookup included). */
const TOLD_WITHIN_MS = 30_000

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
