/**
 * One {@link LinkMux} per linked device, over `lib/node`'s device links (`spec/transfer.md` §2): routes
 * the peer's requests and streams by their `t` (type) to the service that registered it, and lets callers
 * wait for a device's next link.
 * @module
 */
import { EventEmitter } from 'node:events'
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import type { LinkTenant, LinkTenantFactory } from '../node/links.js'
import { TransferError } from './errors.js'
import { type IncomingStream, LinkMux } from './mux.js'

const Typed = z.looseObject({ t: z.string().max(32) })

/** Answers one type of request from `deviceId`; returns the CBOR value of the response. */
export type RequestHandler = (deviceId: string, body: Record<string, unknown>) => Promise<unknown>
/** Takes one type of stream from `deviceId`. */
export type StreamHandler = (
  deviceId: string,
  header: Record<string, unknown>,
  stream: IncomingStream,
) => void

/** Events of {@link DeviceStreams}. */
export interface DeviceStreamsEvents {
  /** A device's new link carries streams (also when a link replaced another). */
  linked: [string, LinkMux]
  /** A device's link closed (its requests and streams failed with STREAM_LINK_CLOSED). */
  unlinked: [string]
}

/** The streams of every linked device. */
export class DeviceStreams extends EventEmitter<DeviceStreamsEvents> {
  readonly #muxes = new Map<string, LinkMux>()
  readonly #requests = new Map<string, RequestHandler>()
  readonly #streams = new Map<string, StreamHandler>()
  /** Frames and requests of peers that broke the protocol or asked for an unknown type. */
  refused = 0
  /** Links cut because a request timed out while the peer said nothing (`spec/transfer.md` §2.4). */
  silentLinks = 0

  /** The factory to give `DeviceLinks.carry`. */
  readonly tenants: LinkTenantFactory = (deviceId, link) => this.#attach(deviceId, link)

  /** Routes requests whose `t` is `type` to `handler`. */
  handleRequests(type: string, handler: RequestHandler): void {
    this.#requests.set(type, handler)
  }

  /** Routes streams whose header `t` is `type` to `handler`. */
  handleStreams(type: string, handler: StreamHandler): void {
    this.#streams.set(type, handler)
  }

  /** The device's current link, if it has one. */
  mux(deviceId: string): LinkMux | undefined {
    return this.#muxes.get(deviceId)
  }

  /** The device's link now, or its next one within `timeoutMs`; null when none came or `signal` aborted. */
  async nextLink(deviceId: string, timeoutMs: number, signal?: AbortSignal): Promise<LinkMux | null> {
    const current = this.#muxes.get(deviceId)
    if (current !== undefined && !current.closed) return current
    return new Promise((resolve) => {
      const finish = (mux: LinkMux | null) => {
        clearTimeout(timer)
        this.off('linked', onLinked)
        signal?.removeEventListener('abort', onAbort)
        resolve(mux)
      }
      const onLinked = (id: string, mux: LinkMux) => id === deviceId && finish(mux)
      const onAbort = () => finish(null)
      const timer = setTimeout(() => finish(null), timeoutMs)
      this.on('linked', onLinked)
      signal?.addEventListener('abort', onAbort, { once: true })
    })
  }

  /** Sends a typed request over the device's current link (STREAM_LINK_CLOSED without one). */
  async request(deviceId: string, body: { t: string } & Record<string, unknown>, timeoutMs?: number) {
    const mux = this.#muxes.get(deviceId)
    if (mux === undefined || mux.closed) throw TransferError.linkClosed()
    return mux.request(encodeCbor(body), timeoutMs)
  }

  #attach(deviceId: string, link: Parameters<LinkTenantFactory>[1]): LinkTenant {
    const mux = new LinkMux((frame) => link.send(frame), {
      request: (body) => this.#answer(deviceId, body),
      stream: (header, stream) => this.#accept(deviceId, header, stream),
    })
    mux.onFatal = () => {
      this.refused++
      link.cut()
    }
    mux.onSilent = () => {
      this.silentLinks++
      link.cut()
    }
    this.#muxes.set(deviceId, mux)
    // Listeners run after the link's own bookkeeping, once it is reading.
    queueMicrotask(() => this.emit('linked', deviceId, mux))
    return {
      receive: (message) => mux.receive(message),
      close: () => {
        mux.close()
        if (this.#muxes.get(deviceId) !== mux) return
        this.#muxes.delete(deviceId)
        this.emit('unlinked', deviceId)
      },
    }
  }

  async #answer(deviceId: string, bytes: Uint8Array): Promise<Uint8Array> {
    const body = decodeCbor(Typed, bytes)
    const handler = this.#requests.get(body.t)
    if (handler === undefined) {
      this.refused++
      throw TransferError.protocol(`unknown request type ${JSON.stringify(body.t)}`)
    }
    return encodeCbor((await handler(deviceId, body)) ?? {})
  }

  #accept(deviceId: string, bytes: Uint8Array, stream: IncomingStream): void {
    let header: z.output<typeof Typed>
    try {
      header = decodeCbor(Typed, bytes)
    } catch {
      this.refused++
      return void stream.stop('STREAM_PROTOCOL', 'bad stream header')
    }
    const handler = this.#streams.get(header.t)
    if (handler === undefined) {
      this.refused++
      return void stream.stop('STREAM_PROTOCOL', `unknown stream type ${JSON.stringify(header.t)}`)
    }
    handler(deviceId, header, stream)
  }
}
