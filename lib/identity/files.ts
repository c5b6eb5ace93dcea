import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { randomBytes, toHex } from '../crypto/index.js'
import { IdentityError } from './device-id.js'

/**
 * Creates `path` with `content` (mode 0600) only if it does not exist, atomically: the content is
 * written and fsynced to a temporary file first, then hard-linked into place, so a concurrent reader
 * never sees a half-written file and two concurrent creators cannot both win. The directory is fsynced
 * after the link and the temporary file's removal, so a created file survives a power loss. Returns
 * false when `path` already existed.
 */
export async function writeExclusive(path: string, content: string): Promise<boolean> {
  const temporary = temporaryName(path)
  let created = false
  try {
    await writeSynced(temporary, content)
    await link(temporary, path)
    created = true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError(`cannot create ${path}`, err)
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
  if (created) await syncDirectory(dirname(path), `cannot create ${path}`)
  return created
}

/**
 * Replaces `path` with `content` (mode 0600) atomically: written and fsynced to a temporary file, then
 * renamed over it and the directory fsynced, so a reader (or a restart after a crash or power loss)
 * sees the old file or the new one, never half of either.
 */
export async function writeAtomic(path: string, content: string): Promise<void> {
  const temporary = temporaryName(path)
  try {
    await writeSynced(temporary, content)
    await rename(temporary, path)
  } catch (err) {
    await unlink(temporary).catch(() => undefined)
    throw ioError(`cannot write ${path}`, err)
  }
  await syncDirectory(dirname(path), `cannot write ${path}`)
}

function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${toHex(randomBytes(4))}`
}

/** Creates `path` exclusively (mode 0600) with `content`, fsynced before it is closed. */
async function writeSynced(path: string, content: string): Promise<void> {
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Makes the entries created, renamed or removed in `dir` durable; `what` prefixes the `IDENTITY_IO` error. */
async function syncDirectory(dir: string, what: string): Promise<void> {
  try {
    const handle = await open(dir, 'r')
    await handle.sync().finally(() => handle.close())
  } catch (err) {
    throw ioError(what, err)
  }
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
    await syncDirectory(dirname(path), `cannot create the directory ${path}`)
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false
}
