import { createHash } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import {
  deviceIdFromPublicKey,
  isRunning,
  LOCK_FILE,
  loadOrCreateIdentity,
} from '../../../lib/identity/index.js'
import { type PairedDevice, PairedDeviceStore, STORE_FILE } from '../../../lib/pairing/store.js'
import { type Daemons, instanceDir } from '../../transfer/helpers/daemons.js'
import { jsonLines, runCli } from './cli.js'

type Asserts = {
  ok(value: unknown, message: string): void
  pass(message: string): void
  equal(found: unknown, wanted: unknown, message: string): void
  same(found: unknown, wanted: unknown, message: string): void
  comment(message: string): void
}

/**
 * A reproducible random source in [0, 1): SHA-256 of the seed and a counter. The seed is
 * `PAIRCTL_CRASH_SEED` when set, else fresh; it is printed so a failing run can be replayed.
 */
export function seededRandom(t: Pick<Asserts, 'comment'>): () => number {
  const seed = process.env.PAIRCTL_CRASH_SEED ?? String(Date.now() % 1_000_000_000)
  t.comment(`random seed ${seed} (replay with PAIRCTL_CRASH_SEED=${seed})`)
  let counter = 0
  return () => createHash('sha256').update(`${seed}:${counter++}`).digest().readUInt32BE(0) / 2 ** 32
}

/** Counts how often each outcome happened; {@link report} prints them as a test comment. */
export class Outcomes {
  readonly #counts = new Map<string, number>()

  add(outcome: string): void {
    this.#counts.set(outcome, (this.#counts.get(outcome) ?? 0) + 1)
  }

  get total(): number {
    return [...this.#counts.values()].reduce((sum, count) => sum + count, 0)
  }

  report(t: Pick<Asserts, 'comment'>, title: string): void {
    const parts = [...this.#counts].map(([outcome, count]) => `${outcome}: ${count}`)
    t.comment(`${title}: ${this.total} kills; ${parts.join(', ')}`)
  }
}

/**
 * What a `kill -9` of `name`'s daemon (pid `killed`) left on disk, checked before anything restarts:
 * the lock still names a process that is gone (so the next start must recover it), the identity loads and is
 * `deviceId`, and the paired-device store loads (no `STORE_CORRUPT`) with every entry whole: its
 * identity key is 32 bytes and is the key of its device ID, and its presence secret (if any) 32 bytes.
 * Resolves with the stored devices and the temporary files the kill left beside the store.
 */
export async function inspectAfterKill(
  t: Asserts,
  daemons: Daemons,
  name: 'alice' | 'bob',
  killed: number,
  deviceId: string,
): Promise<{ devices: PairedDevice[]; leftovers: string[] }> {
  const dir = instanceDir(daemons.home, name)
  // Usually the daemon's; a `pairctl join` that found no daemon (killed first) runs an embedded node under
  // the lock, and its Ctrl-C may leave the lock behind as well. A command that found no daemon and ended
  // on its own (`pairctl unpair` killed into before it connected) recovered the stale lock and released it.
  const lock = await readFile(join(dir, LOCK_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return null
    throw err
  })
  if (lock === null) t.pass(`${name}: no lock left: the command ran without the daemon and released it`)
  else {
    const owner = Number(lock.trim())
    t.ok(owner === killed || !isRunning(owner), `${name}: a stale lock is left (pid ${owner}, not running)`)
  }
  t.equal((await loadOrCreateIdentity(dir)).deviceId, deviceId, `${name}: the identity loads, unchanged`)
  const devices = (await PairedDeviceStore.open(dir)).list()
  for (const device of devices)
    t.ok(
      device.identityKey.length === 32 &&
        deviceIdFromPublicKey(device.identityKey) === device.deviceId &&
        (device.presenceSecret === undefined || device.presenceSecret.length === 32),
      `${name}: ${device.name} is stored whole (a key matching its ID, any presence secret 32 bytes)`,
    )
  const leftovers = (await readdir(dir)).filter((file) => file.startsWith(`${STORE_FILE}.`))
  t.same(
    leftovers.filter((file) => !file.startsWith(`${STORE_FILE}.tmp-`)),
    [],
    `${name}: nothing beside the store but temporary files (no .corrupt)`,
  )
  return { devices, leftovers }
}

/**
 * `pairctl start` of `name` after a kill, with no cleanup in between: it must recover the stale lock and
 * come up with the same identity; then `pairctl devices` (answered by the daemon) must list the same
 * devices as the store on disk. Resolves with the new daemon's pid.
 */
export async function restartAfterKill(
  t: Asserts,
  daemons: Daemons,
  name: 'alice' | 'bob',
  stored: readonly PairedDevice[],
): Promise<number> {
  const pid = await daemons.start(name)
  const dir = instanceDir(daemons.home, name)
  t.equal(
    (await readFile(join(dir, LOCK_FILE), 'utf8')).trim(),
    String(pid),
    `${name}: restarted, it holds the lock`,
  )
  const listed = await runCli(daemons.home, ['devices', '--instance', name, '--json'])
  const [record] = jsonLines(listed.stdout)
  t.same(
    (record?.devices as { deviceId: string }[] | undefined)?.map((device) => device.deviceId).sort(),
    stored.map((device) => device.deviceId).sort(),
    `${name}: pairctl devices works and lists what the store holds`,
  )
  return pid
}
