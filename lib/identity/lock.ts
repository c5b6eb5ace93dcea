import { readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { IdentityError } from './device-id.js'
import { writeExclusive } from './files.js'

/** File name of the instance lock inside an instance directory. */
export const LOCK_FILE = 'instance.lock'

/** A held instance lock; `release()` removes it (idempotent). */
export interface InstanceLock {
  readonly path: string
  release(): Promise<void>
}

/**
 * Takes the lock of the instance in `dir` (`spec/identity.md` §5) so that two processes never own one
 * instance. The lock file holds the owner's PID; a lock whose PID no longer runs (a killed process) is
 * recovered. Throws `IDENTITY_INSTANCE_LOCKED` naming the owning PID otherwise.
 */
export async function lockInstance(dir: string): Promise<InstanceLock> {
  const path = join(dir, LOCK_FILE)
  for (let attempt = 0; attempt < 3; attempt++) {
    if (await writeExclusive(path, `${process.pid}\n`)) return heldLock(path)
    const owner = await readOwner(path)
    if (owner !== null && isRunning(owner)) {
      throw new IdentityError(
        'IDENTITY_INSTANCE_LOCKED',
        `the instance at ${dir} is in use by process ${owner}`,
      )
    }
    await removeIfUnchanged(path, owner)
  }
  throw new IdentityError('IDENTITY_INSTANCE_LOCKED', `could not take the lock ${path}: it keeps changing`)
}

function heldLock(path: string): InstanceLock {
  let released = false
  return {
    path,
    async release() {
      if (released) return
      released = true
      if ((await readOwner(path)) === process.pid) await unlink(path).catch(() => undefined)
    },
  }
}

async function readOwner(path: string): Promise<number | null> {
  const text = await readFile(path, 'utf8').catch(() => '')
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isSafeInteger(pid) && pid > 0 ? pid : null
}

/** True while process `pid` exists (signal 0 succeeds, or fails only for lack of permission). */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes a stale lock only if it still names the same dead owner (another process may have replaced it). */
async function removeIfUnchanged(path: string, owner: number | null): Promise<void> {
  if ((await readOwner(path)) === owner) await unlink(path).catch(() => undefined)
}
