/**
 * The sending side of file transfers (`spec/transfer.md` §5): hashes what is offered into a manifest,
 * commits to its root in the offer, then serves what the receiver asks for: the manifest, then the
 * chunks it lacks, each read afresh from the source file. Re-offers unfinished transfers on every new
 * link, so a transfer resumes whichever side restarted.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { type FileHandle, open } from 'node:fs/promises'
import createDebug from 'debug'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { fromHex, toHex } from '../crypto/index.js'
import { PairctlError } from '../errors.js'
import { type Book, Entry } from './book.js'
import { CHUNK_SIZE } from './constants.js'
import { TransferError } from './errors.js'
import { chunkCount, chunkLength, encodeManifest, manifestRoot, scanSources } from './manifest.js'
import type { OutgoingStream } from './mux.js'
import type { TransferRecord } from './store.js'
import { Answer, Get, parseBody, StateReply, TRANSFER_ID_LENGTH } from './wire.js'

const debug = createDebug('pairctl:transfer:sender')

/** What the sender counted, for tests and debugging. */
export interface SenderCounters {
  /** Chunks written to streams, over all transfers. */
  chunksSent: number
}

/** The outgoing side of an instance's transfers. */
export class Sender {
  readonly counters: SenderCounters = { chunksSent: 0 }
  readonly #book: Book
  readonly #manifests = new Map<string, Uint8Array>()

  constructor(book: Book) {
    this.#book = book
    book.streams.handleRequests('get', (deviceId, body) => this.#get(deviceId, body))
    book.streams.handleRequests('answer', (deviceId, body) => this.#answered(deviceId, body))
  }

  /** Loads a persisted outgoing transfer. */
  async restore(record: TransferRecord): Promise<Entry> {
    const entry = new Entry(record, null)
    if (!entry.final) this.#manifests.set(record.id, await this.#book.store.loadManifest(record.id))
    if (record.state === 'active') record.state = 'paused'
    entry.transferred = record.state === 'done' ? record.bytes : 0
    return entry
  }

  /** Drops the manifest bytes kept to serve transfer `id`, which has ended. */
  forget(id: string): void {
    this.#manifests.delete(id)
  }

  /** Hashes `paths`, persists the offer and sends it when the device is linked. */
  async offer(deviceId: string, paths: readonly string[]): Promise<Entry> {
    if (paths.length === 0)
      throw new TransferError('TRANSFER_BAD_OFFER', 'nothing to send: give at least one --file')
    const { manifest, sources } = await scanSources(paths)
    const bytes = encodeManifest(manifest)
    const id = toHex(randomBytes(TRANSFER_ID_LENGTH))
    const record: TransferRecord = {
      v: 1,
      id,
      direction: 'send',
      deviceId,
      state: 'offering',
      root: toHex(manifestRoot(bytes)),
      label: manifest.files[0]?.path.split('/')[0] ?? manifest.dirs[0] ?? '',
      files: manifest.files.length,
      bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
      createdAt: Date.now(),
      sources,
    }
    await this.#book.store.saveManifest(id, bytes)
    const entry = new Entry(record, null)
    entry.manifest = manifest
    this.#manifests.set(id, bytes)
    this.#book.entries.set(id, entry)
    await this.#book.save(entry).catch((err) => {
      this.#book.entries.delete(id)
      this.#manifests.delete(id)
      return this.#book.store.abandonFiling(id, err)
    })
    void this.#offerNow(entry)
    return entry
  }

  /** The device has a new link: re-offer what is unfinished, tell it of cancels it missed. */
  linked(deviceId: string): void {
    for (const entry of this.#book.entries.values()) {
      if (entry.record.direction !== 'send' || entry.record.deviceId !== deviceId) continue
      if (entry.record.state === 'cancelled' && entry.record.told !== true) void this.#tellCancel(entry)
      else if (!entry.final) void this.#offerNow(entry)
    }
  }

  /** Cancels an outgoing transfer: serving stops at once, the receiver deletes its partial files. */
  async cancel(entry: Entry): Promise<void> {
    if (entry.final) return
    entry.abort.abort()
    await this.#book.setState(entry, 'cancelled', {
      code: 'TRANSFER_CANCELLED',
      message: 'cancelled by the sender',
    })
    await this.#tellCancel(entry)
  }

  async #tellCancel(entry: Entry): Promise<void> {
    try {
      await this.#book.streams.request(entry.record.deviceId, { t: 'cancel', id: fromHex(entry.id) })
      entry.record.told = true
      await this.#book.save(entry)
    } catch (err) {
      debug('cancel of %s not delivered yet: %s', entry.id, (err as Error).message)
    }
  }

  async #offerNow(entry: Entry): Promise<void> {
    const { record } = entry
    const size = this.#manifests.get(entry.id)!.length
    try {
      const reply = await this.#book.streams.request(record.deviceId, {
        t: 'offer',
        id: fromHex(record.id),
        root: fromHex(record.root),
        size,
      })
      const { state } = decodeCbor(StateReply, reply)
      await this.#follow(entry, state)
    } catch (err) {
      if (err instanceof PairctlError && !['STREAM_LINK_CLOSED', 'STREAM_TIMEOUT'].includes(err.code))
        await this.#book.setState(entry, 'failed', { code: err.code, message: err.message })
      else debug('offer %s not delivered yet: %s', entry.id, (err as Error).message)
    }
  }

  /** Takes on the receiver's state (final ones are final here too). */
  async #follow(entry: Entry, state: TransferRecord['state'], error?: { code: string; message: string }) {
    if (entry.final || state === 'paused' || state === 'offering') return
    if (state === 'active' && entry.record.state === 'active') return
    if (state === 'done') entry.transferred = entry.record.bytes
    await this.#book.setState(entry, state, error)
  }

  async #answered(deviceId: string, body: Record<string, unknown>): Promise<unknown> {
    const answer = parseBody(Answer, body)
    const entry = this.#own(deviceId, toHex(answer.id))
    const error = answer.code === undefined ? undefined : { code: answer.code, message: answer.message ?? '' }
    await this.#follow(entry, answer.state, error)
    return {}
  }

  #own(deviceId: string, id: string): Entry {
    const entry = this.#book.entries.get(id)
    if (entry === undefined || entry.record.deviceId !== deviceId || entry.record.direction !== 'send')
      throw TransferError.notFound(id)
    return entry
  }

  async #get(deviceId: string, body: Record<string, unknown>): Promise<unknown> {
    const get = parseBody(Get, body)
    const entry = this.#own(deviceId, toHex(get.id))
    if (entry.record.state === 'cancelled')
      throw new TransferError('TRANSFER_CANCELLED', 'the sender cancelled this transfer')
    if (entry.final)
      throw new TransferError('TRANSFER_BAD_OFFER', `transfer ${entry.id} is ${entry.record.state}`)
    const ranges = get.chunks ?? []
    if (get.manifest !== true) this.#checkRanges(entry, ranges)
    const mux = this.#book.streams.mux(deviceId)
    if (mux === undefined) throw TransferError.linkClosed()
    const stream = mux.open(encodeCbor({ t: 'part', id: get.id, nonce: get.nonce }))
    if (get.manifest === true) {
      void stream.write(this.#manifests.get(entry.id)!).then(
        () => stream.end(),
        () => {},
      )
      return {}
    }
    if (entry.record.state !== 'active') await this.#book.setState(entry, 'active')
    void this.#serve(entry, stream, ranges)
    return {}
  }

  #checkRanges(entry: Entry, ranges: [number, number, number][]): void {
    const sources = entry.record.sources ?? []
    for (const [file, first, count] of ranges) {
      const source = sources[file]
      if (source === undefined || count === 0 || first + count > chunkCount(source.size))
        throw TransferError.protocol(
          `a request for chunks ${first}+${count} of file ${file}, not in the offer`,
        )
    }
  }

  /** Writes the requested chunks, read from the sources; a changed source resets the stream. */
  async #serve(entry: Entry, stream: OutgoingStream, ranges: [number, number, number][]): Promise<void> {
    const sources = entry.record.sources!
    let requested = 0
    for (const [file, first, count] of ranges)
      for (let chunk = first; chunk < first + count; chunk++)
        requested += chunkLength(sources[file]!.size, chunk)
    let sent = entry.record.bytes - requested
    const onAbort = () => stream.reset('TRANSFER_CANCELLED', 'the sender cancelled this transfer')
    entry.abort.signal.addEventListener('abort', onAbort)
    try {
      for (const [file, first, count] of ranges) {
        const source = sources[file]!
        const handle = await openSource(source)
        // The next chunk is read while this one is written, so the disk and the link overlap; its failure
        // is seen when it is awaited (handled at once: it may fail while a write is still waited on).
        const read = (chunk: number) => {
          const reading = readChunk(handle, source, chunk)
          reading.catch(() => {})
          return reading
        }
        let next: Promise<Buffer> | null = read(first)
        try {
          for (let chunk = first; next !== null; chunk++) {
            const buffer: Buffer = await next
            next = chunk + 1 < first + count ? read(chunk + 1) : null
            await stream.write(buffer)
            this.counters.chunksSent++
            entry.countSent(file, chunk, chunkCount(source.size), buffer.length)
            sent += buffer.length
            this.#book.moved(entry, sent)
          }
        } finally {
          await next?.catch(() => {})
          await handle.close()
        }
      }
      stream.end()
    } catch (err) {
      if (err instanceof TransferError && err.code === 'TRANSFER_SOURCE_CHANGED')
        stream.reset(err.code, err.message)
      else if (!(err instanceof TransferError)) stream.reset('TRANSFER_IO', 'the sender cannot read its file')
      debug('serving %s stopped: %s', entry.id, (err as Error).message)
    } finally {
      entry.abort.signal.removeEventListener('abort', onAbort)
    }
  }
}

async function openSource(source: { path: string; size: number; mtimeMs: number }): Promise<FileHandle> {
  const handle = await open(source.path, 'r').catch(() => {
    throw sourceChanged(source.path)
  })
  const info = await handle.stat()
  if (info.size !== source.size || info.mtimeMs !== source.mtimeMs) {
    await handle.close()
    throw sourceChanged(source.path)
  }
  return handle
}

/** Reads chunk `chunk` of `source` whole (TRANSFER_SOURCE_CHANGED when the file got shorter). */
async function readChunk(handle: FileHandle, source: { path: string; size: number }, chunk: number) {
  const length = chunkLength(source.size, chunk)
  const buffer = Buffer.allocUnsafe(length)
  const { bytesRead } = await handle.read(buffer, 0, length, chunk * CHUNK_SIZE)
  if (bytesRead !== length) throw sourceChanged(source.path)
  return buffer
}

function sourceChanged(path: string): TransferError {
  return new TransferError('TRANSFER_SOURCE_CHANGED', `${path} changed or went away since it was offered`)
}
