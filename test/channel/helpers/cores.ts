/** Test helpers: two ChannelCores back to back on a virtual clock. */

import { ChannelCore, type ChannelCoreOptions, type ChannelEvent } from '../../../lib/channel/core.js'
import { Ed25519KeyPair } from '../../../lib/crypto/index.js'

export const alice = Ed25519KeyPair.generate()
export const bob = Ed25519KeyPair.generate()

export type CoreOptions = Partial<ChannelCoreOptions>

const defaults = { handshakeTimeoutMs: 10_000, idleTimeoutMs: 60_000, keepaliveMs: 15_000 }

export function core(role: 'initiator' | 'responder', options: CoreOptions = {}, now = 0): ChannelCore {
  return new ChannelCore({ role, identity: role === 'initiator' ? alice : bob, ...defaults, ...options }, now)
}

/** Everything the core wants to send, as one byte array (or empty). */
export function drain(from: ChannelCore): Uint8Array {
  return Buffer.concat(from.pollTransmit() ?? [])
}

/** All pending events. */
export function events(of: ChannelCore): ChannelEvent[] {
  const out: ChannelEvent[] = []
  for (let event = of.nextEvent(); event !== null; event = of.nextEvent()) out.push(event)
  return out
}

/** Moves bytes both ways until neither side has anything to send. */
export function shuttle(a: ChannelCore, b: ChannelCore, now = 0): void {
  for (;;) {
    const ab = drain(a)
    const ba = drain(b)
    if (ab.length === 0 && ba.length === 0) return
    if (ab.length > 0) b.receive(ab, now)
    if (ba.length > 0) a.receive(ba, now)
  }
}

/** A handshaken pair with the handshake events consumed. */
export function openPair(init: CoreOptions = {}, resp: CoreOptions = {}): [ChannelCore, ChannelCore] {
  const a = core('initiator', init)
  const b = core('responder', resp)
  shuttle(a, b)
  events(a)
  events(b)
  return [a, b]
}

/** The received data of an event list, concatenated. */
export function received(list: ChannelEvent[]): Buffer {
  return Buffer.concat(list.flatMap((event) => (event.type === 'data' ? event.chunks : [])))
}

/** The error code of the last event, if it is an error. */
export function errorCode(list: ChannelEvent[]): string | undefined {
  const last = list.at(-1)
  return last?.type === 'error' ? last.error.code : undefined
}
