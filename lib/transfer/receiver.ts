/**
 * The receiving side of file transfers (`spec/transfer.md` §5-§6): takes offers, fetches and checks the
 * manifest against the committed root, then pulls the chunks it lacks, verifies each against its hash
 * and writes only verified chunks to a partial file; a file complete and verified is fsynced and linked
 * to a free name in the downloads directory (never over an existing file). Resumes from its persisted
 * chunk maps after a lost link or a restart.
 * @module
 */
import { createHash, timingSafeEqual } from 'node:crypto'
import { chmod, type FileHandle, link, lstat, mkdir, open, rm, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import createDebug from 'debug'
import { fromHex, toHex } from '../crypto/index.js'
import { PairctlError } from '../errors.js'
import { syncDirectory } from '../files.js'
import { type Book, ChunkMap, Entry } from './book.js'
import {
  CHUNK_SIZE,
  DEFAULT_REQUEST_TIMEOUT_MS,
  MAX_CHUNK_FAILURES,
  PERSIST_INTERVAL_MS,
} from './constants.js'
import { TransferError } from './errors.js'
import {
  chunkCount,
  chunkLength,
  decodeManifest,
  expectedHash,
  type Manifest,
  manifestRoot,
} from './manifest.js'
import type { IncomingStream } from './mux.js'
import { freeName } from './paths.js'
import { ioError, type TransferRecord } from './store.js'
import { Cancel, type Get, Offer, PartHeader, parseBody } from './wire.js'

const debug = createDebug('pairctl:transfer:receiver')
/** Offers whose manifest is being fetched at once, over all devices. */
const MAX_FETCHING = 8
/** Verified chunks a receive may hold in memory waiting for the disk (1 MiB each). */
const WRITES_AHEAD = 4
/** Chunk writes given to the file system at once. */
const WRITES_AT_ONCE = 2
/** The hidden directory in the downloads directory holding partial files, one folder per transfer. */
export const PARTIAL_DIR = '.pairctl-partial'

/** Whether offers from paired devices start at once or wait in the inbox. */
export type ReceivePolicy = 'accept' | 'ask'

/** What the receiver counted, for tests and debugging. */
export interface ReceiverCounters {
  /** Chunks whose bytes did not match their hash: never written. */
  badChunks: number
  /** Streams or bytes nobody asked for: stopped, dropped. */
  unrequested: number
  /** Chunks found verified in partial files after a restart, beyond the persisted maps. */
  recovered: number
}

interface Waiting {
  deviceId: string
  resolve: (stream: IncomingStream) => void
  reject: (err: unknown) => void
}

/** The incoming side of an instance's transfers. */
export class Receiver {
  readonly counters: ReceiverCounters = { badChunks: 0, unrequested: 0, recovered: 0 }
  readonly #book: Book
  readonly #downloads: string
  readonly #policy: ReceivePolicy
  readonly #onIncoming: (entry: Entry) => void
  readonly #expected = new Map<string, Waiting>()
  readonly #fetching = new Set<string>()
  /** Partial files being opened, by path. */
  readonly #opening = new Map<string, Promise<FileHandle>>()
  readonly #handles = new Map<string, Map<number, FileHandle>>()
  readonly #persistedAt = new Map<string, number>()
  /** The checkpoint running beside a transfer's receive loop; it never rejects (see `#persistFailed`). */
  readonly #persisting = new Map<string, Promise<void>>()
  readonly #persistFailed = new Map<string, unknown>()
  readonly #runs = new Set<Promise<void>>()
  #nonce = 1

  constructor(
    book: Book,
    options: { downloads: string; policy: ReceivePolicy; onIncoming: (entry: Entry) => void },
  ) {
    this.#book = book
    this.#downloads = options.downloads
    this.#policy = options.policy
    this.#onIncoming = options.onIncoming
    book.streams.handleRequests('offer', (deviceId, body) => this.#offer(deviceId, body))
    book.streams.handleRequests('cancel', (deviceId, body) => this.#cancelled(deviceId, body))
    book.streams.handleStreams('part', (deviceId, header, stream) => this.#part(deviceId, header, stream))
    book.streams.on('unlinked', (deviceId) => this.#unlinked(deviceId))
  }

  get downloads(): string {
    return this.#downloads
  }

  /** Loads a persisted incoming transfer and finds verified chunks its partial files hold beyond the maps. */
  async restore(record: TransferRecord): Promise<Entry> {
    const entry = new Entry(record, this.#downloads)
    if (record.state === 'pending' || !entry.final) {
      entry.manifest = decodeManifest(await this.#book.store.loadManifest(record.id))
      entry.maps = entry.manifest.files.map((file, index) =>
        ChunkMap.fromBase64(chunkCount(file.size), record.verified?.[index] ?? ''),
      )
      await this.#recover(entry)
      entry.transferred = entry.verifiedBytes()
      if (record.state === 'active') entry.record.state = 'paused'
    } else entry.transferred = record.bytes
    return entry
  }

  /** The device has a new link: tell it final states it missed, resume what is unfinished. */
  linked(deviceId: string): void {
    for (const entry of this.#book.entries.values()) {
      if (entry.record.direction !== 'receive' || entry.record.deviceId !== deviceId) continue
      if (entry.final && entry.record.told !== true) void this.#answer(entry)
      else if (entry.record.state === 'active' || entry.record.state === 'paused') void this.#run(entry)
    }
  }

  /** Accepts a pending offer, or retries a paused one (after a full disk was cleared). */
  async accept(entry: Entry): Promise<void> {
    if (entry.final)
      throw new TransferError('TRANSFER_BAD_OFFER', `transfer ${entry.id} is ${entry.record.state}`)
    if (entry.record.state === 'pending') {
      await this.#book.setState(entry, 'active')
      void this.#answer(entry)
    }
    void this.#run(entry)
  }

  /** Refuses an offer (or abandons an incoming transfer): the partial files are deleted. */
  async reject(entry: Entry): Promise<void> {
    if (entry.final) return
    await this.#end(entry, 'rejected')
    void this.#answer(entry)
  }

  /** Closes open partial files (their verified chunks stay for the next run). */
  async close(): Promise<void> {
    for (const entry of this.#book.entries.values())
      if (entry.record.direction === 'receive') entry.abort.abort()
    for (const waiting of this.#expected.values()) waiting.reject(TransferError.linkClosed())
    await Promise.allSettled(this.#runs)
    for (const entry of this.#book.entries.values())
      if (entry.record.direction === 'receive' && !entry.final) await this.#checkpoint(entry).catch(() => {})
    for (const id of this.#handles.keys()) await this.#closeHandles(id)
  }

  async #offer(deviceId: string, body: Record<string, unknown>): Promise<unknown> {
    const offer = parseBody(Offer, body)
    const id = toHex(offer.id)
    const known = this.#book.entries.get(id)
    if (known !== undefined) return this.#reoffered(deviceId, known, toHex(offer.root))
    if (this.#fetching.has(id)) return { state: 'offering' }
    if (this.#fetching.size >= MAX_FETCHING)
      throw new TransferError('TRANSFER_BAD_OFFER', 'too many offers at once; try again later', {
        remote: true,
      })
    this.#fetching.add(id)
    this.#track(
      this.#fetchOffer(deviceId, id, offer.root, offer.size).finally(() => this.#fetching.delete(id)),
    )
    return { state: 'offering' }
  }

  async #reoffered(deviceId: string, entry: Entry, root: string): Promise<unknown> {
    if (entry.record.deviceId !== deviceId || entry.record.direction !== 'receive')
      throw TransferError.notFound(entry.id)
    if (entry.record.root !== root)
      throw new TransferError('TRANSFER_BAD_OFFER', 'a known transfer id with another root', { remote: true })
    if (entry.final) {
      entry.record.told = true
      await this.#book.save(entry)
    } else void this.#run(entry)
    return { state: entry.record.state }
  }

  /**
   * Fetches the manifest, checks it against the root and every path, then files the offer. Whatever
   * fails (a bad manifest, a local disk error) is answered to the sender and never thrown.
   */
  async #fetchOffer(deviceId: string, id: string, root: Uint8Array, size: number): Promise<void> {
    try {
      const bytes = await this.#readAll(await this.#pull(deviceId, id, { manifest: true }), size)
      if (bytes.length !== size || !timingSafeEqual(manifestRoot(bytes), root))
        throw new TransferError('TRANSFER_BAD_OFFER', 'the manifest does not match the root of the offer', {
          remote: true,
        })
      await this.#file(deviceId, id, toHex(root), decodeManifest(bytes), bytes)
    } catch (err) {
      debug('offer %s from %s refused: %s', id, deviceId, (err as Error).message)
      this.#book.entries.delete(id)
      const { code, message } = err instanceof PairctlError ? err : TransferError.protocol(String(err))
      await this.#book.streams
        .request(deviceId, { t: 'answer', id: fromHex(id), state: 'failed', code, message })
        .catch(() => {})
    }
  }

  async #file(
    deviceId: string,
    id: string,
    root: string,
    manifest: Manifest,
    bytes: Uint8Array,
  ): Promise<void> {
    const record: TransferRecord = {
      v: 1,
      id,
      direction: 'receive',
      deviceId,
      state: this.#policy === 'accept' ? 'active' : 'pending',
      root,
      label: manifest.files[0]?.path.split('/')[0] ?? manifest.dirs[0] ?? '',
      files: manifest.files.length,
      bytes: manifest.files.reduce((sum, file) => sum + file.size, 0),
      createdAt: Date.now(),
      verified: [],
      targets: {},
      placed: [],
    }
    const entry = new Entry(record, this.#downloads)
    entry.manifest = manifest
    entry.maps = manifest.files.map((file) => new ChunkMap(chunkCount(file.size)))
    record.verified = entry.maps.map((map) => map.toBase64())
    await this.#book.store.saveManifest(id, bytes)
    this.#book.entries.set(id, entry)
    await this.#book.save(entry).catch((err) => {
      this.#book.entries.delete(id)
      return this.#book.store.abandonFiling(id, err)
    })
    this.#onIncoming(entry)
    void this.#answer(entry)
    if (record.state === 'active') void this.#run(entry)
  }

  /** Asks the sender for a part on a new stream; resolves with that stream. */
  async #pull(deviceId: string, id: string, part: Omit<Get, 't' | 'id' | 'nonce'>): Promise<IncomingStream> {
    const nonce = this.#nonce++
    const key = `${id}/${nonce}`
    let timer: NodeJS.Timeout | undefined
    const opened = new Promise<IncomingStream>((resolve, reject) => {
      this.#expected.set(key, { deviceId, resolve, reject })
      timer = setTimeout(
        () => reject(TransferError.timeout('a part request', DEFAULT_REQUEST_TIMEOUT_MS)),
        DEFAULT_REQUEST_TIMEOUT_MS,
      )
    })
    opened.catch(() => {})
    try {
      await this.#book.streams.request(deviceId, { t: 'get', id: fromHex(id), nonce, ...part })
      return await opened
    } finally {
      clearTimeout(timer)
      this.#expected.delete(key)
    }
  }

  /** The device's link closed: a part it had agreed to send will not come on it. */
  #unlinked(deviceId: string): void {
    for (const waiting of this.#expected.values())
      if (waiting.deviceId === deviceId) waiting.reject(TransferError.linkClosed())
  }

  /** A stream for a part we asked for, or else one to refuse. */
  #part(deviceId: string, header: Record<string, unknown>, stream: IncomingStream): void {
    const parsed = PartHeader.safeParse(header)
    const key = parsed.success ? `${toHex(parsed.data.id)}/${parsed.data.nonce}` : ''
    const waiting = this.#expected.get(key)
    const entry = this.#book.entries.get(key.split('/')[0] ?? '')
    if (waiting === undefined || (entry !== undefined && entry.record.deviceId !== deviceId)) {
      this.counters.unrequested++
      return void stream.stop('TRANSFER_UNREQUESTED', 'no such request')
    }
    this.#expected.delete(key)
    waiting.resolve(stream)
  }

  async #readAll(stream: IncomingStream, size: number): Promise<Uint8Array> {
    const pieces: Uint8Array[] = []
    let total = 0
    for await (const piece of stream) {
      total += piece.length
      if (total > size) {
        this.counters.unrequested++
        stream.stop('TRANSFER_UNREQUESTED', 'more bytes than the offer declared')
        throw new TransferError('TRANSFER_UNREQUESTED', 'the manifest is longer than the offer said', {
          remote: true,
        })
      }
      pieces.push(piece)
    }
    return Buffer.concat(pieces)
  }

  /** Pulls missing chunks until every file is placed, the link is gone or the transfer ends. */
  #run(entry: Entry): Promise<void> {
    if (entry.running || entry.final || entry.record.state === 'pending') return Promise.resolve()
    entry.running = true
    return this.#track(this.#runLoop(entry))
  }

  /** Keeps `work` until it settles, so that `close` waits for it. */
  #track(work: Promise<void>): Promise<void> {
    const tracked = work.finally(() => this.#runs.delete(tracked))
    this.#runs.add(tracked)
    return tracked
  }

  async #runLoop(entry: Entry): Promise<void> {
    try {
      await this.#loop(entry)
    } catch (err) {
      await this.#failed(entry, err)
    } finally {
      entry.running = false
      if (!entry.final) await this.#checkpoint(entry).catch(() => {})
    }
    // Paused by a closing link while another one is open (two links raced and the one it ran on lost,
    // its successor's `linked` came while this run was still on): nothing else would resume it.
    if (this.#pausedWithLink(entry)) void this.#run(entry)
  }

  #pausedWithLink(entry: Entry): boolean {
    const { state, error, deviceId } = entry.record
    return (
      !entry.final &&
      state === 'paused' &&
      error === undefined &&
      this.#book.streams.mux(deviceId) !== undefined
    )
  }

  async #loop(entry: Entry): Promise<void> {
    let stalls = 0
    while (!entry.final && !entry.abort.signal.aborted) {
      await this.#placeComplete(entry)
      const wanted = this.#missing(entry)
      if (wanted.length === 0) return this.#finish(entry)
      if (this.#book.streams.mux(entry.record.deviceId) === undefined)
        return this.#book.setState(entry, 'paused')
      if (entry.record.state !== 'active' || entry.record.error !== undefined)
        await this.#book.setState(entry, 'active')
      const before = entry.transferred
      await this.#receiveChunks(entry, wanted)
      stalls = entry.transferred > before ? 0 : stalls + 1
      if (stalls >= MAX_CHUNK_FAILURES)
        throw new TransferError(
          'TRANSFER_SOURCE_CHANGED',
          'the sender’s data does not match what it committed to (the files changed while being sent?)',
          { remote: true },
        )
    }
  }

  /** Missing chunk runs over all files, as `get` ranges `[file, first, count]`. */
  #missing(entry: Entry): [number, number, number][] {
    const ranges: [number, number, number][] = []
    entry.maps.forEach((map, file) => {
      for (const [first, count] of map.missing()) ranges.push([file, first, count])
    })
    return ranges
  }

  /**
   * Reads one requested stream chunk by chunk: each verified chunk is written ({@link ChunkWrites}: beside
   * the reading, so the link is not idle while the disk works), a bad one dropped.
   */
  async #receiveChunks(entry: Entry, wanted: [number, number, number][]): Promise<void> {
    const stream = await this.#pull(entry.record.deviceId, entry.id, { chunks: wanted })
    const chunks = expectedChunks(entry.manifest!, wanted)
    const writes = new ChunkWrites()
    let current = chunks.next()
    let buffer = writes.buffer()
    let filled = 0
    let hash = createHash('sha256')
    try {
      for await (const piece of stream) {
        if (entry.abort.signal.aborted) return stream.stop('TRANSFER_CANCELLED', 'the transfer ended')
        for (let offset = 0; offset < piece.length; ) {
          if (current.done === true) {
            this.counters.unrequested++
            return stream.stop('TRANSFER_UNREQUESTED', 'more bytes than requested')
          }
          const at = current.value
          const take = Math.min(piece.length - offset, at.length - filled)
          const part = piece.subarray(offset, offset + take)
          buffer.set(part, filled)
          hash.update(part)
          filled += take
          offset += take
          if (filled < at.length) continue
          const data = buffer.subarray(0, at.length)
          const digest = hash.digest()
          await writes.add(buffer, () => this.#chunk(entry, at, data, digest))
          current = chunks.next()
          buffer = writes.buffer()
          filled = 0
          hash = createHash('sha256')
        }
      }
      await writes.drain()
    } finally {
      await writes.settle()
    }
  }

  async #chunk(entry: Entry, at: ChunkAt, data: Buffer, digest: Buffer): Promise<void> {
    // Queued before the transfer ended (its partial files may be gone): nothing to write it to.
    if (entry.abort.signal.aborted) return
    const file = entry.manifest!.files[at.file]!
    if (!timingSafeEqual(digest, expectedHash(file, at.chunk))) {
      this.counters.badChunks++
      debug('chunk %d of %s failed its hash: dropped, asked again', at.chunk, file.path)
      return
    }
    const handle = await this.#handle(entry, at.file)
    try {
      await writeAll(handle, data, at.chunk * CHUNK_SIZE)
    } catch (err) {
      throw ioError(`cannot write ${file.path}`, err)
    }
    entry.maps[at.file]!.set(at.chunk)
    this.#book.moved(entry, entry.transferred + data.length)
    this.#checkpointDue(entry)
  }

  /**
   * Starts a checkpoint once one is due. It runs beside the receive loop, one at a time: the datasync of
   * a second's writes took the loop that long, during which nothing was read. A failed one fails the
   * next chunk.
   */
  #checkpointDue(entry: Entry): void {
    this.#throwPersistFailure(entry)
    if (this.#persisting.has(entry.id)) return
    if (Date.now() - (this.#persistedAt.get(entry.id) ?? 0) < PERSIST_INTERVAL_MS) return
    const running = this.#persist(entry)
      .catch((err: unknown) => void this.#persistFailed.set(entry.id, err))
      .finally(() => this.#persisting.delete(entry.id))
    this.#persisting.set(entry.id, running)
  }

  /** A checkpoint now, after the one running beside the loop. */
  async #checkpoint(entry: Entry): Promise<void> {
    await this.#persisting.get(entry.id)
    this.#throwPersistFailure(entry)
    await this.#persist(entry)
  }

  #throwPersistFailure(entry: Entry): void {
    const failure = this.#persistFailed.get(entry.id)
    if (failure === undefined) return
    this.#persistFailed.delete(entry.id)
    throw failure
  }

  /**
   * Persists the chunk maps once the data they claim is on disk: the maps are taken first, then every
   * partial file is datasynced, then the record saved, so chunks written meanwhile are never claimed.
   */
  async #persist(entry: Entry): Promise<void> {
    this.#persistedAt.set(entry.id, Date.now())
    const verified = entry.maps.map((map) => map.toBase64())
    for (const handle of this.#handles.get(entry.id)?.values() ?? []) await handle.datasync()
    entry.record.verified = verified
    await this.#book.save(entry)
  }

  #partialPath(id: string, file: number): string {
    return join(this.#downloads, PARTIAL_DIR, id, `${file}.part`)
  }

  /** The open partial file `file` of `entry`; two writes asking at once share one open. */
  async #handle(entry: Entry, file: number): Promise<FileHandle> {
    const handles = this.#handles.get(entry.id) ?? new Map<number, FileHandle>()
    this.#handles.set(entry.id, handles)
    const open_ = handles.get(file)
    if (open_ !== undefined) return open_
    const path = this.#partialPath(entry.id, file)
    const opening = this.#opening.get(path) ?? this.#openPartial(entry.id, path)
    this.#opening.set(path, opening)
    try {
      const handle = await opening
      handles.set(file, handle)
      return handle
    } finally {
      this.#opening.delete(path)
    }
  }

  async #openPartial(id: string, path: string): Promise<FileHandle> {
    try {
      await mkdir(join(this.#downloads, PARTIAL_DIR, id), { recursive: true, mode: 0o700 })
      return await open(path, 'r+').catch((err) => {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return open(path, 'wx+', 0o600)
        throw err
      })
    } catch (err) {
      throw ioError(`cannot open ${path}`, err)
    }
  }

  async #closeHandles(id: string): Promise<void> {
    const handles = this.#handles.get(id)
    this.#handles.delete(id)
    for (const handle of handles?.values() ?? []) await handle.close().catch(() => {})
  }

  /** Finds chunks verified on disk that the persisted maps do not list yet (a crash between checkpoints). */
  async #recover(entry: Entry): Promise<void> {
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
    for (const [index, file] of entry.manifest!.files.entries()) {
      if (entry.record.placed?.includes(index)) continue
      const map = entry.maps[index]!
      const handle = await open(this.#partialPath(entry.id, index), 'r').catch(() => null)
      if (handle === null) continue
      try {
        for (const [first, count] of map.missing()) {
          let chunk = first
          for (; chunk < first + count; chunk++) {
            const length = chunkLength(file.size, chunk)
            const { bytesRead } = await handle.read(buffer, 0, length, chunk * CHUNK_SIZE)
            const digest = createHash('sha256').update(buffer.subarray(0, bytesRead)).digest()
            if (bytesRead !== length || !timingSafeEqual(digest, expectedHash(file, chunk))) break
            map.set(chunk)
            this.counters.recovered++
          }
          if (chunk < first + count) break
        }
      } finally {
        await handle.close()
      }
    }
  }

  /**
   * Every complete file not yet placed: fsync, mode, link to a free name (its directory fsynced),
   * record it placed, then unlink the partial. A crash after the link leaves the partial with two
   * links: the restart records it placed without linking it again; a crash after the record leaves a
   * partial that the transfer's end removes. So a final name only ever holds a complete file, once.
   */
  async #placeComplete(entry: Entry): Promise<void> {
    const manifest = entry.manifest!
    entry.record.placed ??= []
    const placed = entry.record.placed
    for (const [index, file] of manifest.files.entries()) {
      if (placed.includes(index) || !entry.maps[index]!.complete) continue
      const partial = this.#partialPath(entry.id, index)
      const handle = await this.#handle(entry, index)
      try {
        if ((await handle.stat()).nlink < 2) {
          await handle.datasync()
          await chmod(partial, (file.mode & 0o777) | 0o600)
          await this.#place(entry, partial, file.path)
        }
        await handle.close()
        this.#handles.get(entry.id)?.delete(index)
        placed.push(index)
        await this.#book.save(entry)
        await unlink(partial)
      } catch (err) {
        throw err instanceof TransferError ? err : ioError(`cannot place ${file.path}`, err)
      }
    }
  }

  /** Links `partial` as `path` under the downloads directory, in a fresh name; never replaces a file. */
  async #place(entry: Entry, partial: string, path: string): Promise<void> {
    const parts = path.split('/')
    const name = parts.pop()!
    const dir = await this.#directory(entry, parts)
    for (;;) {
      const target = join(dir, await freeName(dir, name))
      try {
        await link(partial, target)
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
    }
    await syncDirectory(dir)
  }

  /** The directory for `parts` (relative): the top one in a fresh name, none of them a symbolic link. */
  async #directory(entry: Entry, parts: string[]): Promise<string> {
    if (parts.length === 0) return this.#downloads
    entry.record.targets ??= {}
    const targets = entry.record.targets
    let top = targets[parts[0]!]
    if (top === undefined) {
      top = await freeName(this.#downloads, parts[0]!)
      targets[parts[0]!] = top
      await this.#book.save(entry)
    }
    let dir = this.#downloads
    for (const part of [top, ...parts.slice(1)]) {
      dir = join(dir, part)
      await mkdir(dir, { mode: 0o755 }).catch((err) => {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      })
      if (!(await lstat(dir)).isDirectory())
        throw TransferError.badPath(parts.join('/'), `${dir} is not a directory (a symbolic link?)`)
    }
    return dir
  }

  async #finish(entry: Entry): Promise<void> {
    for (const dir of entry.manifest!.dirs) await this.#directory(entry, dir.split('/'))
    await this.#end(entry, 'done')
    await this.#answer(entry)
  }

  /** A final state: partial files closed and deleted, the record saved. */
  async #end(
    entry: Entry,
    state: 'done' | 'rejected' | 'cancelled' | 'failed',
    error?: PairctlError,
  ): Promise<void> {
    entry.abort.abort()
    await this.#persisting.get(entry.id)
    this.#persistFailed.delete(entry.id)
    await this.#closeHandles(entry.id)
    await rm(join(this.#downloads, PARTIAL_DIR, entry.id), { recursive: true, force: true })
    await rmdir(join(this.#downloads, PARTIAL_DIR)).catch(() => {})
    entry.record.verified = []
    await this.#book.setState(entry, state, error && { code: error.code, message: error.message })
  }

  async #failed(entry: Entry, err: unknown): Promise<void> {
    const typed = err instanceof PairctlError ? err : ioError('receiving', err)
    debug('transfer %s: %s', entry.id, typed.message)
    const { code } = typed
    if (code === 'STREAM_LINK_CLOSED' || code === 'STREAM_TIMEOUT')
      return this.#book.setState(entry, 'paused')
    if (code === 'TRANSFER_CANCELLED') return this.#end(entry, 'cancelled')
    if (code === 'TRANSFER_DISK_FULL' || code === 'TRANSFER_IO')
      return this.#book.setState(entry, 'paused', { code: typed.code, message: typed.message })
    await this.#end(entry, 'failed', typed)
    await this.#answer(entry)
  }

  async #cancelled(deviceId: string, body: Record<string, unknown>): Promise<unknown> {
    const id = toHex(parseBody(Cancel, body).id)
    const entry = this.#book.entries.get(id)
    if (entry === undefined || entry.record.deviceId !== deviceId || entry.record.direction !== 'receive')
      throw TransferError.notFound(id)
    if (!entry.final) await this.#end(entry, 'cancelled')
    entry.record.told = true
    await this.#book.save(entry)
    return {}
  }

  /** Tells the sender our state; a final state is remembered as told once it arrived. */
  async #answer(entry: Entry): Promise<void> {
    const { record } = entry
    const body = { t: 'answer', id: fromHex(record.id), state: record.state, ...(record.error ?? {}) }
    try {
      await this.#book.streams.request(record.deviceId, body)
      if (entry.final && record.told !== true) {
        record.told = true
        await this.#book.save(entry)
      }
    } catch (err) {
      debug('could not tell %s about %s: %s', record.deviceId, record.id, (err as Error).message)
    }
  }
}

/**
 * Writes all of `data` at `position`. A file system that fills up mid-chunk writes part of it and fails
 * only the next call: without continuing, a chunk would count as verified with its tail missing.
 */
async function writeAll(handle: FileHandle, data: Uint8Array, position: number): Promise<void> {
  for (let written = 0; written < data.length; ) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written)
    if (bytesWritten === 0) throw Object.assign(new Error('the file system wrote nothing'), { code: 'EIO' })
    written += bytesWritten
  }
}

/**
 * Verified chunks written in stream order beside the reading (`spec/transfer.md` §5), {@link
 * WRITES_AT_ONCE} at a time, so the next write is with the kernel while the event loop gets round to the
 * end of the last: one at a time, the disk waited for the loop after every chunk (1 GiB: a median of 222
 * against 172 MiB/s in bench/transfer's setting, 12 runs each, interleaved). At most {@link WRITES_AHEAD}
 * wait, and their buffers are reused once written.
 */
class ChunkWrites {
  readonly #queued: Promise<void>[] = []
  readonly #spare: Buffer[] = []
  #failure: { error: unknown } | undefined

  /** A buffer for the next chunk. */
  buffer(): Buffer {
    return this.#spare.pop() ?? Buffer.allocUnsafe(CHUNK_SIZE)
  }

  /**
   * Queues `write` (of a chunk held in `buffer`) to start once the write {@link WRITES_AT_ONCE} before it
   * ended; waits while too many are queued. Once a write failed no queued one starts (each fails with
   * its error), and the first `add` or `drain` that waits for one of them throws it.
   */
  async add(buffer: Buffer, write: () => Promise<void>): Promise<void> {
    const queued = (this.#queued.at(-WRITES_AT_ONCE) ?? Promise.resolve()).then(() => {
      if (this.#failure !== undefined) throw this.#failure.error
      return write()
    })
    queued.then(
      () => this.#spare.push(buffer),
      (error: unknown) => {
        this.#failure ??= { error }
      },
    )
    this.#queued.push(queued)
    if (this.#queued.length > WRITES_AHEAD) await this.#queued.shift()
  }

  /** Waits for every queued write; throws the first failure. */
  async drain(): Promise<void> {
    await Promise.all(this.#queued)
  }

  /** Waits for every queued write, failed or not (none starts once one failed). */
  async settle(): Promise<void> {
    await Promise.allSettled(this.#queued)
  }
}

interface ChunkAt {
  file: number
  chunk: number
  length: number
}

/** The chunks a `get` asked for, in the order the sender sends them. */
function* expectedChunks(manifest: Manifest, wanted: [number, number, number][]): Generator<ChunkAt> {
  for (const [file, first, count] of wanted) {
    const size = manifest.files[file]!.size
    for (let chunk = first; chunk < first + count; chunk++)
      yield { file, chunk, length: chunkLength(size, chunk) }
  }
}
