/**
 * Durable writes of small state files, shared by every store (identity, lock, config, paired devices,
 * used codes, transfer state, routing table, contacts). Each writes a temporary file (mode 0600,
 * exclusive) and fsyncs it before it is linked or renamed into place, then fsyncs the directory, so a
 * reader or a restart after a crash or power loss sees the old file or the new one, never half of
 * either. They throw the file system's own errors; each caller turns them into its typed error.
 * @module
 */
import { link, open, readdir, rename, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { randomBytes, toHex } from './crypto/index.js'

/** Replaces `path` with `content`: temporary file, fsync, rename, fsync of the directory. */
export async function replaceFile(path: string, content: string | Uint8Array): Promise<void> {
  const temporary = temporaryName(path)
  try {
    await writeSynced(temporary, content)
    await rename(temporary, path)
  } catch (err) {
    await unlink(temporary).catch(() => undefined)
    throw err
  }
  await syncDirectory(dirname(path))
}

/**
 * Creates `path` with `content` only if it does not exist: the temporary file is hard-linked into place,
 * so two concurrent creators cannot both win. False when `path` already existed.
 */
export async function createFile(path: string, content: string | Uint8Array): Promise<boolean> {
  const temporary = temporaryName(path)
  try {
    await writeSynced(temporary, content)
    await link(temporary, path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await unlink(temporary).catch(() => undefined)
  }
  await syncDirectory(dirname(path))
  return true
}

/**
 * Moves a file that did not load out of the way, keeping its bytes for inspection, as
 * `<path>.corrupt-<UTC time>` (with `-2`, `-3`, … when that name is taken: a second corrupt copy never
 * replaces the first, however close in time). Returns the path it is kept at.
 */
export async function setAside(path: string, now = new Date()): Promise<string> {
  const stem = `${path}.corrupt-${now.toISOString().replaceAll(':', '-')}`
  for (let copy = 1; ; copy++) {
    const keptAs = copy === 1 ? stem : `${stem}-${copy}`
    try {
      await link(path, keptAs)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue
      throw err
    }
    await unlink(path)
    await syncDirectory(dirname(path))
    return keptAs
  }
}

/** A temporary file's name, as {@link temporaryName} makes it; group 1 is the writer's pid. */
const TEMPORARY_NAME = /\.tmp-(\d+)-[0-9a-f]{8}$/

/**
 * Removes the temporary files a killed writer left in `dir` (killed between writing one and renaming or
 * linking it into place): those whose writer, the pid in the name, no longer runs. A live writer's are
 * kept, its write may be in progress. Returns the names removed; a missing `dir` has none.
 */
export async function sweepTemporaries(dir: string, isRunning: (pid: number) => boolean): Promise<string[]> {
  const names = await readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return []
    throw err
  })
  const left = names.filter((name) => {
    const pid = TEMPORARY_NAME.exec(name)?.[1]
    return pid !== undefined && !isRunning(Number(pid))
  })
  for (const name of left) await unlink(join(dir, name)).catch(() => undefined)
  return left
}

/** Makes the entries created, renamed or removed in `dir` durable. */
export async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  await handle.sync().finally(() => handle.close())
}

function temporaryName(path: string): string {
  return `${path}.tmp-${process.pid}-${toHex(randomBytes(4))}`
}

async function writeSynced(path: string, content: string | Uint8Array): Promise<void> {
  const handle = await open(path, 'wx', 0o600)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
}
