/**
 * Transfer state on disk (`spec/transfer.md` §6): one JSON record per transfer and its manifest, in
 * `<instance dir>/transfers/`, each written atomically (temporary file, fsync, rename, fsync of the
 * directory), so a `kill -9` at any moment leaves the previous or the next state, never half of one. The
 * record is the commit point: a manifest is written before its record and removed after it, and a
 * manifest left without a record (a crash in between) is swept when the store is loaded.
 * @module
 */
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import createDebug from 'debug'
import { z } from 'zod'
import { replaceFile, setAside, sweepTemporaries, syncDirectory } from '../files.js'
import { isRunning } from '../identity/index.js'
import { TransferError } from './errors.js'

const debug = createDebug('pairctl:transfer:store')

/** Where a transfer is (`spec/transfer.md` §6.1). */
export const TRANSFER_STATES = [
  'offering',
  'pending',
  'active',
  'paused',
  'done',
  'rejected',
  'cancelled',
  'failed',
] as const
export type TransferState = (typeof TRANSFER_STATES)[number]
/** States a transfer never leaves. */
export const FINAL_STATES: readonly TransferState[] = ['done', 'rejected', 'cancelled', 'failed']

const hex = (length: number) => z.string().regex(new RegExp(`^[0-9a-f]{${length}}$`))

/** One transfer as persisted. */
export const TransferRecord = z.strictObject({
  v: z.literal(1),
  id: hex(32),
  direction: z.enum(['send', 'receive']),
  deviceId: z.string().max(128),
  state: z.enum(TRANSFER_STATES),
  root: hex(64),
  label: z.string().max(4096),
  files: z.number().int().min(0),
  bytes: z.number().int().min(0),
  createdAt: z.number().int(),
  error: z.strictObject({ code: z.string(), message: z.string() }).optional(),
  /** Sender: the local file behind each manifest file. */
  sources: z
    .array(z.strictObject({ path: z.string(), size: z.number().int(), mtimeMs: z.number() }))
    .optional(),
  /** Receiver: base64 bitmap of verified chunks, per file. */
  verified: z.array(z.string()).optional(),
  /** Receiver: the name each top-level entry gets in the downloads directory. */
  targets: z.record(z.string(), z.string()).optional(),
  /** Receiver: files already in their final place. */
  placed: z.array(z.number().int()).optional(),
  /** Receiver: the sender has been told the final state. */
  told: z.boolean().optional(),
})
export type TransferRecord = z.output<typeof TransferRecord>

/** The transfers of one instance. */
export class TransferStore {
  readonly dir: string

  constructor(instanceDir: string) {
    this.dir = join(instanceDir, 'transfers')
  }

  /**
   * Every record that parses; an unreadable one is set aside (`<id>.json.corrupt-<time>`) and skipped.
   * Manifests with no record (filing or removal interrupted) are deleted, and so are the temporary files
   * of writers no longer running.
   */
  async load(): Promise<TransferRecord[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await sweepTemporaries(this.dir, isRunning)
    const records: TransferRecord[] = []
    const names = await readdir(this.dir)
    for (const name of names) {
      if (name.endsWith('.manifest')) {
        const id = name.slice(0, -'.manifest'.length)
        if (!names.some((other) => other === `${id}.json` || other.startsWith(`${id}.json.corrupt`)))
          await this.#unlink(name).catch((err) => debug('orphan manifest %s kept: %s', name, err.message))
        continue
      }
      if (!name.endsWith('.json')) continue
      const path = join(this.dir, name)
      try {
        records.push(TransferRecord.parse(JSON.parse(await readFile(path, 'utf8'))))
      } catch (err) {
        debug('transfer state %s unreadable, set aside: %s', name, (err as Error).message)
        await setAside(path).catch(() => {})
      }
    }
    return records.sort((a, b) => a.createdAt - b.createdAt)
  }

  save(record: TransferRecord): Promise<void> {
    return this.#write(`${record.id}.json`, JSON.stringify(record))
  }

  saveManifest(id: string, bytes: Uint8Array): Promise<void> {
    return this.#write(`${id}.manifest`, bytes)
  }

  async loadManifest(id: string): Promise<Uint8Array> {
    try {
      return new Uint8Array(await readFile(join(this.dir, `${id}.manifest`)))
    } catch (err) {
      throw new TransferError('TRANSFER_STATE_CORRUPT', `the manifest of transfer ${id} is missing`, {
        cause: err,
      })
    }
  }

  /**
   * Deletes transfer `id`'s record, then its manifest, then syncs the directory: once the record is gone
   * the transfer is gone, even if a crash leaves the manifest (then swept by {@link load}). Removing what
   * does not exist is no error; a failure is `TRANSFER_IO` (or `TRANSFER_DISK_FULL`).
   */
  async remove(id: string): Promise<void> {
    await this.#unlink(`${id}.json`)
    await this.#unlink(`${id}.manifest`)
    await syncDirectory(this.dir).catch((err: unknown) => {
      throw ioError(`cannot remove transfer state ${id}`, err)
    })
  }

  /**
   * Filing transfer `id` failed with `err` after its manifest (perhaps its record) was written: removes
   * what was written and throws `err`; a failure to remove is logged, the sweep of {@link load} is the
   * backstop.
   */
  async abandonFiling(id: string, err: unknown): Promise<never> {
    await this.remove(id).catch((removal) => debug('state of %s not removed: %s', id, removal.message))
    throw err
  }

  async #unlink(name: string): Promise<void> {
    try {
      await unlink(join(this.dir, name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
        throw ioError(`cannot remove transfer state ${name}`, err)
    }
  }

  /** Written durably (`lib/files.ts`). */
  async #write(name: string, content: string | Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await replaceFile(join(this.dir, name), content).catch((err: unknown) => {
      throw ioError(`cannot save transfer state ${name}`, err)
    })
  }
}

/** A file-system failure as a typed error: `TRANSFER_DISK_FULL` for ENOSPC/EDQUOT, else `TRANSFER_IO`. */
export function ioError(what: string, err: unknown): TransferError {
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return new TransferError('TRANSFER_DISK_FULL', `${what}: the disk is full; free space and it resumes`, {
      cause: err,
    })
  return new TransferError('TRANSFER_IO', `${what}: ${(err as Error).message}`, { cause: err })
}
