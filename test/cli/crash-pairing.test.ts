import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import { instanceDir, startDaemons } from '../transfer/helpers/daemons.js'
import { startCli } from './helpers/cli.js'
import { inspectAfterKill, Outcomes, restartAfterKill, seededRandom } from './helpers/crash.js'
import { deviceIdOf } from './helpers/pairing.js'

// kill -9 of a daemon at a random moment of `pairctl generate` / `pairctl join`: 10 kills, alternately of
// the joining and the generating side. Each round starts from a pairing, so "committed" means the
// round's new pairing (its pairedAt and presence secret) replaced the previous one in the store.
const KILLS = 10
t.setTimeout(480_000)

type Name = 'alice' | 'bob'

t.test(
  `kill -9 mid-pairing, ${KILLS} times: the store and identity load, the lock is recovered, no half device, both sides consistent or repaired by pairing again`,
  async (t) => {
    const random = seededRandom(t)
    const daemons = await startDaemons(t)
    const ids = { alice: await deviceIdOf(daemons.home, 'alice'), bob: await deviceIdOf(daemons.home, 'bob') }
    const peerOf = (name: Name): Name => (name === 'alice' ? 'bob' : 'alice')
    /** `name`'s stored pairing with its peer, as on disk. */
    const stored = async (name: Name) =>
      (await PairedDeviceStore.open(instanceDir(daemons.home, name))).get(ids[peerOf(name)])

    /** generate on alice, join on bob; with `kill`, SIGKILL of its victim `delayMs` after join started. */
    const pairing = async (kill?: { victim: Name; delayMs: number }) => {
      const generate = startCli(t, daemons.home, ['--instance', 'alice', 'generate', '--json'])
      const { code } = await generate.waitFor((record) => record.type === 'code', 60_000)
      const started = Date.now()
      const join = startCli(t, daemons.home, ['--instance', 'bob', 'join', String(code), '--json'])
      if (kill === undefined) {
        const [joined, generated] = await Promise.all([join.exited, generate.exited])
        t.ok(joined.code === 0 && generated.code === 0, 'paired with no kill')
        return Date.now() - started
      }
      await sleep(kill.delayMs)
      await daemons.kill(kill.victim)
      // The command whose daemon survived may wait for a peer that is gone: Ctrl-C, as a person would.
      for (const command of [generate, join]) command.child.kill('SIGINT')
      await Promise.all([generate.exited, join.exited])
      return Date.now() - started
    }

    const pairingMs = await pairing()
    t.comment(
      `a pairing takes ${pairingMs} ms from join to done; kills land in 0-${Math.round(pairingMs * 1.25)} ms`,
    )
    const outcomes = new Outcomes()
    for (let round = 0; round < KILLS; round++) {
      const victim: Name = round % 2 === 0 ? 'bob' : 'alice'
      const survivor = peerOf(victim)
      const since = Date.now()
      const delayMs = Math.floor(random() * pairingMs * 1.25)
      const killed = daemons.pids[victim]
      await pairing({ victim, delayMs })
      const { devices } = await inspectAfterKill(t, daemons, victim, killed, ids[victim])
      t.same(
        devices.map((device) => device.deviceId),
        [ids[survivor]],
        `round ${round}: ${victim} holds exactly its one pairing`,
      )
      await restartAfterKill(t, daemons, victim, devices)
      const [mine, theirs] = [await stored(victim), await stored(survivor)]
      const committed = (device: typeof mine) => (device?.pairedAt ?? 0) >= since
      const outcome = `${committed(mine) ? 'after' : 'before'} ${victim}'s commit, ${committed(theirs) ? 'after' : 'before'} ${survivor}'s`
      outcomes.add(outcome)
      t.comment(`round ${round}: ${victim} killed ${delayMs} ms into the join: ${outcome}`)
      if (!Buffer.from(mine!.presenceSecret!).equals(theirs!.presenceSecret!)) {
        // One side committed the new pairing, the other kept the old one: pairing again repairs it.
        await pairing()
        const [again, other] = [await stored(victim), await stored(survivor)]
        t.ok(
          committed(again) &&
            committed(other) &&
            Buffer.from(again!.presenceSecret!).equals(other!.presenceSecret!),
          `round ${round}: the sides disagreed; pairing again made them consistent`,
        )
      }
    }
    t.equal(outcomes.total, KILLS)
    outcomes.report(t, 'pairing')
  },
)
