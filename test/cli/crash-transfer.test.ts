import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import t from 'tap'
import { PARTIAL_DIR } from '../../lib/transfer/receiver.js'
import { instanceDir, pairedDaemons } from '../transfer/helpers/daemons.js'
import { fileHash, randomFile } from '../transfer/helpers/files.js'
import { startCli } from './helpers/cli.js'
import { inspectAfterKill, Outcomes, restartAfterKill, seededRandom } from './helpers/crash.js'
import { deviceIdOf } from './helpers/pairing.js'

// kill -9 of the receiving daemon at a random moment of `pairctl send bob --file …`: 30 kills, each in
// a new transfer of a 1-5 MiB file. After each kill the downloads directory holds only complete files
// under final names (partials only under .pairctl-partial); restarted, the receiver finishes the file.
const KILLS = 30
const MiB = 1024 * 1024
t.setTimeout(480_000)

t.test(
  `kill -9 of the receiver mid-transfer, ${KILLS} times: only complete, verified files under final names; the lock is recovered and the transfer completes`,
  async (t) => {
    const random = seededRandom(t)
    const daemons = await pairedDaemons(t)
    const bobId = await deviceIdOf(daemons.home, 'bob')
    const downloads = join(instanceDir(daemons.home, 'bob'), 'downloads')
    const outbox = join(daemons.home, 'outbox')
    await mkdir(outbox)
    const sent = new Map<string, string>()

    /** Every entry of the downloads directory but the partials is a file sent, whole. */
    const finalNames = async (when: string) => {
      const names = (await readdir(downloads).catch(() => [])).filter((name) => name !== PARTIAL_DIR)
      for (const name of names)
        t.equal(
          await fileHash(join(downloads, name)),
          sent.get(name),
          `${when}: ${name} is a whole file sent`,
        )
      return names
    }

    /** Sends a new file; with `delayMs`, kills bob's daemon that long after `pairctl send` started. */
    const transfer = async (round: number, delayMs?: number) => {
      const name = `round-${round}.bin`
      const path = join(outbox, name)
      await randomFile(path, MiB + Math.floor(random() * 4 * MiB))
      sent.set(name, await fileHash(path))
      const started = Date.now()
      const sending = startCli(t, daemons.home, [
        '--instance',
        'alice',
        'send',
        'bob',
        '--file',
        path,
        '--json',
      ])
      let placedAtKill: boolean | undefined
      if (delayMs !== undefined) {
        await sleep(delayMs)
        const killed = daemons.pids.bob
        await daemons.kill('bob')
        placedAtKill = (await finalNames(`round ${round}, killed`)).includes(name)
        const { devices } = await inspectAfterKill(t, daemons, 'bob', killed, bobId)
        await restartAfterKill(t, daemons, 'bob', devices)
      }
      const end = await sending.waitFor((record) => record.type !== 'progress', 120_000)
      t.equal(end.type, 'done', `round ${round}: the transfer completes`)
      t.same(
        (await finalNames(`round ${round}, done`)).sort(),
        [...sent.keys()].sort(),
        `round ${round}: each file sent is in the downloads once, under its own name`,
      )
      return { ms: Date.now() - started, placedAtKill }
    }

    const { ms } = await transfer(0)
    t.comment(`a transfer takes ${ms} ms from send to done; kills land in 0-${Math.round(ms * 1.25)} ms`)
    const outcomes = new Outcomes()
    for (let round = 1; round <= KILLS; round++) {
      const delayMs = Math.floor(random() * ms * 1.25)
      const { placedAtKill } = await transfer(round, delayMs)
      const outcome = placedAtKill ? 'after the file was placed' : 'before the file was placed'
      outcomes.add(outcome)
      t.comment(`round ${round}: bob killed ${delayMs} ms into the send: ${outcome}`)
    }
    t.same(await readdir(downloads).then((names) => names.includes(PARTIAL_DIR)), false, 'no partial left')
    t.equal(outcomes.total, KILLS)
    outcomes.report(t, 'transfer')
  },
)
