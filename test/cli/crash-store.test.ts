import { watch } from 'node:fs'
import { readdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { Ed25519KeyPair } from '../../lib/crypto/index.js'
import { deviceIdFromPublicKey } from '../../lib/identity/index.js'
import { type PairedDevice, PairedDeviceStore, STORE_FILE } from '../../lib/pairing/store.js'
import { instanceDir, startDaemons } from '../transfer/helpers/daemons.js'
import { inspectAfterKill, Outcomes, restartAfterKill, seededRandom } from './helpers/crash.js'
import { deviceIdOf } from './helpers/pairing.js'

// kill -9 of the daemon while it writes its paired-device store: 40 kills. alice's store starts with
// 50 devices; each round asks her daemon to remove one (the request `pairctl unpair` sends) and kills
// the daemon 0-3 ms after the store's temporary file appears, i.e. inside the write (data, fsync,
// rename, directory fsync) or just after it.
const KILLS = 40
const DEVICES = 50
t.setTimeout(480_000)

function device(index: number): PairedDevice {
  const identityKey = Ed25519KeyPair.generate().publicKey
  return {
    deviceId: deviceIdFromPublicKey(identityKey),
    identityKey,
    name: `device-${index}`,
    type: 'phone',
    pairedAt: index + 1,
    addresses: [],
  }
}

t.test(
  `kill -9 inside a write of the paired-device store, ${KILLS} times: the store holds the old or the new list, never a torn one, and the lock is recovered`,
  async (t) => {
    const random = seededRandom(t)
    const seeded = Array.from({ length: DEVICES }, (_, index) => device(index))
    const daemons = await startDaemons(t, async (home) => {
      const store = await PairedDeviceStore.open(instanceDir(home, 'alice'))
      for (const entry of seeded) await store.add(entry)
    })
    const dir = instanceDir(daemons.home, 'alice')
    const aliceId = await deviceIdOf(daemons.home, 'alice')
    const expected = new Set(seeded.map((entry) => entry.deviceId))
    const outcomes = new Outcomes()
    let temporariesLeft = 0
    for (let round = 0; round < KILLS; round++) {
      const target = seeded[round]!.deviceId
      const client = await daemons.connect('alice')
      const writing = new Promise<void>((resolve) => {
        const watcher = watch(dir, (_event, file) => {
          if (!String(file).startsWith(`${STORE_FILE}.tmp-`)) return
          watcher.close()
          resolve()
        })
      })
      const delayMs = random() * 3
      const killed = daemons.pids.alice
      void client.request('devices.remove', { device: target }).catch(() => undefined)
      await writing
      await sleep(delayMs)
      await daemons.kill('alice')
      const { devices, leftovers } = await inspectAfterKill(t, daemons, 'alice', killed, aliceId)
      temporariesLeft += leftovers.length
      const removed = !devices.some((entry) => entry.deviceId === target)
      if (removed) expected.delete(target)
      t.same(
        devices.map((entry) => entry.deviceId).sort(),
        [...expected].sort(),
        `round ${round}: the store is the list before the write or after it, whole`,
      )
      const outcome = removed ? 'after the commit (removed)' : 'before the commit (kept)'
      outcomes.add(outcome)
      t.comment(
        `round ${round}: killed ${delayMs.toFixed(2)} ms after the temporary file appeared: ${outcome}`,
      )
      await restartAfterKill(t, daemons, 'alice', devices)
      t.same(
        (await readdir(dir)).filter((file) => file.includes('.tmp-')),
        [],
        `round ${round}: the restarted daemon removed the temporary files the kill left`,
      )
      if (!removed) {
        const again = await (await daemons.connect('alice')).request('devices.remove', { device: target })
        t.equal(
          again.removed.deviceId,
          target,
          `round ${round}: the kept device is removed by unpairing again`,
        )
        expected.delete(target)
      }
    }
    t.same(
      (await PairedDeviceStore.open(dir))
        .list()
        .map((entry) => entry.deviceId)
        .sort(),
      [...expected].sort(),
      'the devices never removed are all still paired',
    )
    t.equal(expected.size, DEVICES - KILLS)
    t.equal(outcomes.total, KILLS)
    outcomes.report(t, 'store writes')
    t.comment(`temporary store files left by kills, each removed by the next start: ${temporariesLeft}`)
  },
)
