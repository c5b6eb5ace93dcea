/**
 * Transfer state on disk (`spec/transfer.md` §6): one JSON record per transfer and its manifest, in
 * `<instance dir>/transfers/`, each written atomically (temporary file, fsync, rename, fsync of the
 * directory), so a `kill -9` at any moment leaves the previous or the next state, never half of one.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import createDebug from 'debug'
import { z } from 'zod'
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

  /** Every record that parses; an unreadable one is kept aside as `.corrupt` and skipped. */
  async load(): Promise<TransferRecord[]> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const records: TransferRecord[] = []
    for (const name of await readdir(this.dir)) {
      if (!name.endsWith('.json')) continue
      const path = join(this.dir, name)
      try {
        records.push(TransferRecord.parse(JSON.parse(await readFile(path, 'utf8'))))
      } catch (err) {
        debug('transfer state %s unreadable, kept as .corrupt: %s', name, (err as Error).message)
        await rename(path, `${path}.corrupt`).catch(() => {})
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

  /** Temporary file (0600, exclusive) + fsync + rename + fsync of the directory. */
  async #write(name: string, content: string | Uint8Array): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    const path = join(this.dir, name)
    const temp = `${path}.${randomBytes(4).toString('hex')}.tmp`
    try {
      const file = await open(temp, 'wx', 0o600)
      try {
        await file.writeFile(content)
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(temp, path)
      const directory = await open(this.dir, 'r')
      await directory.sync().finally(() => directory.close())
    } catch (err) {
      await unlink(temp).catch(() => {})
      throw ioError(`cannot save transfer state ${name}`, err)
    }
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
