import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { randomBytes, toHex } from '../crypto/index.js'
import { IdentityError } from './device-id.js'

/**
 * Creates `path` with `content` (mode 0600) only if it does not exist, atomically: the content is
 * written and fsynced to a temporary file first, then hard-linked into place, so a concurrent reader
 * never sees a half-written file and two concurrent creators cannot both win. Returns false when
 * `path` already existed.
 */
export async function writeExclusive(path: string, content: string): Promise<boolean> {
  const temporary = `${path}.tmp-${process.pid}-${toHex(randomBytes(4))}`
  try {
    const handle = await open(temporary, 'wx', 0o600)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await link(temporary, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw new IdentityError('IDENTITY_IO', `cannot create ${path}: ${(err as Error).message}`, { cause: err })
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
}

/**
 * Replaces `path` with `content` (mode 0600) atomically: written and fsynced to a temporary file, then
 * renamed over it, so a reader sees the old file or the new one, never half of either.
 */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const temporary = `${path}.tmp-${process.pid}-${toHex(randomBytes(4))}`
  try {
    const handle = await open(temporary, 'wx', 0o600)
    try {
      await handle.writeFile(content)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
  } catch (err) {
    await unlink(temporary).catch(() => undefined)
    throw new IdentityError('IDENTITY_IO', `cannot write ${path}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * Creates `dir` and its missing parents (mode 0700), one level at a time. Unlike
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
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false
}
