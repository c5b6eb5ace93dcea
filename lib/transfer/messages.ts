/**
 * Acknowledged text messages (`spec/transfer.md` §3): a message is a `msg` request on the link's streams
 * and counts as sent only when the peer's response acknowledges it. One not acknowledged when its link
 * closes or is replaced is sent again, with the same id, over the device's next link within a retry
 * window, and reported `MESSAGE_UNDELIVERED` after it; the receiver shows each id once.
 * @module
 */
import { randomBytes } from 'node:crypto'
import { EventEmitter } from 'node:events'
import { z } from 'zod'
import { encodeCbor } from '../cbor.js'
import { toHex } from '../crypto/index.js'
import { hasCode } from '../errors.js'
import { PresenceError, presenceConstants } from '../presence/index.js'
import { MESSAGE_RETRY_WINDOW_MS, SEEN_MESSAGE_IDS } from './constants.js'
import type { DeviceStreams } from './device-streams.js'
import { TransferError } from './errors.js'
import type { LinkMux } from './mux.js'
import { parseBody } from './wire.js'

/** Bytes of a message id. */
const MESSAGE_ID_LENGTH = 16
/** Time for one attempt's acknowledgement before it is tried again. */
const ACK_TIMEOUT_MS = 10_000

const MessageRequest = z.object({
  t: z.literal('msg'),
  id: z.instanceof(Uint8Array).refine((id) => id.length === MESSAGE_ID_LENGTH, 'a 16-byte id'),
  text: z
    .string()
    .refine((text) => Buffer.byteLength(text) <= presenceConstants.MAX_TEXT_BYTES, 'text too long'),
})

/** A message the peer acknowledged receiving, as handed to the application once per id. */
export interface DeliveredMessage {
  deviceId: string
  text: string
  /** Hex of the sender's message id. */
  id: string
}

/** Sends and receives acknowledged messages over {@link DeviceStreams}; emits `message` once per id. */
export class Messages extends EventEmitter<{ message: [DeliveredMessage] }> {
  readonly #streams: DeviceStreams
  readonly #seen = new Set<string>()
  /** Attempts that were sent again after their link closed or their acknowledgement timed out. */
  retries = 0

  constructor(streams: DeviceStreams) {
    super()
    this.#streams = streams
    streams.handleRequests('msg', async (deviceId, body) => {
      const { id, text } = parseBody(MessageRequest, body)
      const key = `${deviceId}/${toHex(id)}`
      if (this.#remember(key)) this.emit('message', { deviceId, text, id: toHex(id) })
      return {}
    })
  }

  /**
   * Sends `text` and resolves once the peer acknowledged it. `PRESENCE_OFFLINE` when the device has no
   * link now; `MESSAGE_UNDELIVERED` when the link closed and no acknowledgement came within the window.
   */
  async send(deviceId: string, text: string, retryWindowMs = MESSAGE_RETRY_WINDOW_MS): Promise<void> {
    if (Buffer.byteLength(text) > presenceConstants.MAX_TEXT_BYTES)
      throw PresenceError.badOption(`a message is at most ${presenceConstants.MAX_TEXT_BYTES} bytes of UTF-8`)
    if (this.#streams.mux(deviceId) === undefined) throw PresenceError.offline(deviceId)
    const request = encodeMessage(randomBytes(MESSAGE_ID_LENGTH), text)
    const deadline = Date.now() + retryWindowMs
    for (let attempt = 0; ; attempt++) {
      const mux = await this.#streams.nextLink(deviceId, Math.max(0, deadline - Date.now()))
      if (mux === null) throw undelivered(deviceId, retryWindowMs)
      if (attempt > 0) this.retries++
      if (await this.#attempt(deviceId, mux, request)) return
      if (Date.now() >= deadline) throw undelivered(deviceId, retryWindowMs)
    }
  }

  /**
   * One attempt over `mux`: true once acknowledged, false when it is to be made again because the link
   * closed, the acknowledgement timed out, or the device got a new link meanwhile. The last matters when
   * the old link died without knowing it (its router changed the mapping under it): the peer relinks,
   * and the message goes out on the new link at once instead of waiting out its timeout on the dead one.
   */
  async #attempt(deviceId: string, mux: LinkMux, request: Uint8Array): Promise<boolean> {
    let onLinked: ((id: string, next: LinkMux) => void) | undefined
    const relinked = new Promise<false>((resolve) => {
      onLinked = (id, next) => id === deviceId && next !== mux && resolve(false)
      this.#streams.on('linked', onLinked)
    })
    const acknowledged = mux.request(request, ACK_TIMEOUT_MS).then(
      () => true,
      (err: unknown) => {
        if (hasCode(err, 'STREAM_LINK_CLOSED') || hasCode(err, 'STREAM_TIMEOUT')) return false
        throw err
      },
    )
    try {
      return await Promise.race([acknowledged, relinked])
    } finally {
      this.#streams.off('linked', onLinked!)
      // An attempt left for a new link may still fail; the message's outcome is decided elsewhere.
      acknowledged.catch(() => {})
    }
  }

  /** True the first time `key` is seen; remembers the last {@link SEEN_MESSAGE_IDS}. */
  #remember(key: string): boolean {
    if (this.#seen.has(key)) return false
    this.#seen.add(key)
    if (this.#seen.size > SEEN_MESSAGE_IDS) this.#seen.delete(this.#seen.values().next().value!)
    return true
  }
}

function encodeMessage(id: Uint8Array, text: string): Uint8Array {
  return encodeCbor({ t: 'msg', id, text })
}

function undelivered(deviceId: string, windowMs: number): TransferError {
  return new TransferError(
    'MESSAGE_UNDELIVERED',
    `the message to ${deviceId} was not acknowledged within ${Math.round(windowMs / 1000)} s; it may not have arrived`,
  )
}
