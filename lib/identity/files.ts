import { mkdir, stat } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { createFile, replaceFile, syncDirectory } from '../files.js'
import { IdentityError } from './device-id.js'

/**
 * Creates `path` with `content` (mode 0600) only if it does not exist, durably and atomically
 * (`lib/files.ts`): a concurrent reader never sees a half-written file and two concurrent creators
 * cannot both win. Returns false when `path` already existed.
 */
export async function writeExclusive(path: string, content: string): Promise<boolean> {
  return createFile(path, content).catch((err: unknown) => {
    throw ioError(`cannot create ${path}`, err)
  })
}

/**
 * Replaces `path` with `content` (mode 0600) durably and atomically (`lib/files.ts`): a reader, or a
 * restart after a crash or power loss, sees the old file or the new one, never half of either.
 */
export async function writeAtomic(path: string, content: string): Promise<void> {
  await replaceFile(path, content).catch((err: unknown) => {
    throw ioError(`cannot write ${path}`, err)
  })
}

function ioError(what: string, cause: unknown): IdentityError {
  return new IdentityError('IDENTITY_IO', `${what}: ${(cause as Error).message}`, { cause })
}

/**
 * Creates `dir` and its missing parents (mode 0700), one level at a time, fsyncing each parent after
 * the creation. Unlike
 * `mkdir(…, { recursive: true })`, which spins forever where a parent refuses creation with ENOENT
 * (e.g. under /proc), every failure ends in `IDENTITY_IO` naming the directory and the reason.
 */
export async function ensureDir(dir: string): Promise<void> {
  const missing: string[] = []
  for (let current = resolve(dir); ; current = dirname(current)) {
    if (await isDirectory(current)) break
    missing.unshift(current)
    if (dirname(current) === current) break
  }
  for (const path of missing) {
    try {
      await mkdir(path, { mode: 0o700 })
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && (await isDirectory(path))) continue
      throw new IdentityError(
        'IDENTITY_IO',
        `cannot create the directory ${path}: ${(err as Error).message}; check PAIRCTL_HOME`,
        { cause: err },
      )
    }
    // The new directory's entry in its parent must survive a power loss with the identity made in it.
    await syncDirectory(dirname(path)).catch((err: unknown) => {
      throw ioError(`cannot create the directory ${path}`, err)
    })
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false
}
