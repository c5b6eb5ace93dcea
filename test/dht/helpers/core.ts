import { type Address, encodeAddress, nodeIdOf } from '../../../lib/dht/address.js'
import type { CommandCode } from '../../../lib/dht/constants.js'
import { DhtCore, type DhtCoreOptions } from '../../../lib/dht/core.js'
import {
  decodeMessage,
  encodeRequest,
  encodeResponse,
  type Message,
  type RequestBody,
} from '../../../lib/dht/messages.js'

export const NOW = 1_800_000_000_000
export const SERVER: Address = { host: '10.0.0.1', port: 4000 }

/** A server core at {@link SERVER} with a seeded random source. */
export function makeCore(options: Partial<DhtCoreOptions> = {}): DhtCore {
  let state = 1
  const next = () => {
    state = (state * 48271) % 2147483647
    return state & 255
  }
  const random = (length: number) => Uint8Array.from({ length }, next)
  return new DhtCore({ family: 4, mode: 'server', address: SERVER, now: NOW, random, ...options })
}

/** Every datagram the core wants to send, decoded. */
export function drain(core: DhtCore): { bytes: Uint8Array; message: Message; to: Address }[] {
  const out = []
  for (let next = core.pollTransmit(); next !== null; next = core.pollTransmit())
    out.push({ bytes: next.data, message: decodeMessage(next.data)!, to: next.to })
  return out
}

/** Sends a request from `from` (a server with its derived id unless `id` says otherwise); returns the reply. */
export function ask(
  core: DhtCore,
  from: Address,
  c: CommandCode,
  body: RequestBody,
  options: { id?: Uint8Array | null; now?: number; t?: number } = {},
): { bytes: Uint8Array; request: Uint8Array; message: Message } | null {
  const id = options.id === null ? undefined : (options.id ?? nodeIdOf(from))
  const request = encodeRequest({ t: options.t ?? 7, c, to: encodeAddress(SERVER), id }, body)
  core.receive(request, from, options.now ?? NOW)
  const reply = drain(core).find(
    (out) => out.message.y === 1 && out.to.port === from.port && out.to.host === from.host,
  )
  return reply === undefined ? null : { bytes: reply.bytes, request, message: reply.message }
}

/** Adds `peers` to the core's table the way the network does: each sends a request, then answers our PING. */
export function fillTable(core: DhtCore, peers: Address[], now = NOW): void {
  for (const peer of peers) {
    core.receive(encodeRequest({ t: 1, c: 0, to: encodeAddress(SERVER), id: nodeIdOf(peer) }, {}), peer, now)
    for (const out of drain(core)) {
      if (out.message.y !== 0) continue
      const reply = encodeResponse(
        { t: out.message.t, c: out.message.c, to: encodeAddress(SERVER), id: nodeIdOf(peer) },
        {},
        1200,
      )
      core.receive(reply!, peer, now)
    }
  }
}

/** The i-th test peer: each in its own /24. */
export function peer(i: number): Address {
  return { host: `10.${(i >> 8) & 255}.${i & 255}.9`, port: 5000 + (i >> 16) }
}
