import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import { instanceDir, pair, pairedDaemons } from '../transfer/helpers/daemons.js'
import { startCli } from './helpers/cli.js'
import { inspectAfterKill, Outcomes, restartAfterKill, seededRandom } from './helpers/crash.js'
import { deviceIdOf } from './helpers/pairing.js'

// kill -9 of alice's daemon at a random moment of `pairctl unpair bob`: 20 kills. A kill before the
// commit must leave both sides paired; after it, alice has forgotten bob and pairing again recovers.
const KILLS = 20
t.setTimeout(480_000)

t.test(
  `kill -9 mid-unpair, ${KILLS} times: the device is whole or gone, the lock is recovered, and the pair is consistent or repaired by pairing again`,
  async (t) => {
    const random = seededRandom(t)
    const daemons = await pairedDaemons(t)
    const ids = { alice: await deviceIdOf(daemons.home, 'alice'), bob: await deviceIdOf(daemons.home, 'bob') }
    const holds = async (name: 'alice' | 'bob', deviceId: string) =>
      (await PairedDeviceStore.open(instanceDir(daemons.home, name))).get(deviceId) !== undefined
    const unpair = () => startCli(t, daemons.home, ['--instance', 'alice', 'unpair', 'bob', '--json'])

    const started = Date.now()
    const calibration = await unpair().exited
    const unpairMs = Date.now() - started
    t.ok(calibration.code === 0 && !(await holds('alice', ids.bob)), 'an unpair with no kill removes bob')
    t.comment(`pairctl unpair takes ${unpairMs} ms; kills land in 0-${Math.round(unpairMs * 1.25)} ms`)
    await pair(t, daemons)

    const outcomes = new Outcomes()
    for (let round = 0; round < KILLS; round++) {
      const delayMs = Math.floor(random() * unpairMs * 1.25)
      const killed = daemons.pids.alice
      const command = unpair()
      await sleep(delayMs)
      await daemons.kill('alice')
      await command.exited
      const { devices } = await inspectAfterKill(t, daemons, 'alice', killed, ids.alice)
      const removed = !devices.some((device) => device.deviceId === ids.bob)
      const outcome = removed ? 'after the commit (removed)' : 'before the commit (kept)'
      outcomes.add(outcome)
      t.comment(`round ${round}: alice killed ${delayMs} ms into the unpair: ${outcome}`)
      await restartAfterKill(t, daemons, 'alice', devices)
      if (!removed) {
        t.ok(await holds('bob', ids.alice), `round ${round}: alice kept bob, and bob still holds alice`)
        continue
      }
      await pair(t, daemons)
      t.ok(
        (await holds('alice', ids.bob)) && (await holds('bob', ids.alice)),
        `round ${round}: after the unpair committed, pairing again pairs both sides`,
      )
    }
    t.equal(outcomes.total, KILLS)
    outcomes.report(t, 'unpair')
  },
)
