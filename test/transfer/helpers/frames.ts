import type { MessageBytes } from '../../../lib/channel/index.js'

/** A link message as one byte string, as the peer's channel delivers it (`MuxCore.pollTransmit` gives pieces). */
export function joined(message: MessageBytes): Uint8Array {
  return message instanceof Uint8Array ? message : Buffer.concat(message)
}

/** The next frame `core` sends, joined, or null. */
export function nextFrame(core: { pollTransmit(): MessageBytes | null }): Uint8Array | null {
  const frame = core.pollTransmit()
  return frame === null ? null : joined(frame)
}
