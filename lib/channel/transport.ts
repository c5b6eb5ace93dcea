import type { CipherState, Opener } from '../noise/cipher-state.js'
import { TAGLEN } from '../noise/constants.js'
import type { TransportKeys } from '../noise/handshake-state.js'
import {
  FRAME_TYPE,
  MAX_FRAME_LENGTH,
  MIN_TRANSPORT_FRAME,
  REKEY_INTERVAL,
  TYPE_LENGTH,
} from './constants.js'
import { ChannelError } from './errors.js'

const EMPTY = new Uint8Array(0)
/** What `#chunks` holds between frames, so a delivered frame's plaintext is not kept alive by the transport. */
const NO_CHUNKS: Buffer[] = []
/** One preallocated plaintext type byte per frame type, so sealing allocates nothing for it. */
const TYPE_BYTES = [
  Uint8Array.of(FRAME_TYPE.data),
  Uint8Array.of(FRAME_TYPE.keepalive),
  Uint8Array.of(FRAME_TYPE.close),
]

/** A decrypted transport message: its type and its body as the pieces decryption produced. */
export interface OpenedFrame {
  type: number
  chunks: Buffer[]
}

/**
 * The transport phase (`spec/noise.md` §4-§5): seals frames as `length (2, big-endian) || Noise transport
 * message`, whose plaintext is `type (1) || body`, and opens them in pieces as they arrive. Each direction
 * calls Rekey after every `rekeyInterval` messages (Noise §11.3), so both sides stay in step without signals.
 */
export class Transport {
  readonly #send: CipherState
  readonly #receive: CipherState
  readonly #rekeyInterval: number
  #sent = 0
  #received = 0
  #opener: Opener | undefined
  #ciphertextLeft = 0
  readonly #tag = Buffer.alloc(TAGLEN)
  #tagFilled = 0
  #chunks: Buffer[] = NO_CHUNKS

  constructor(keys: TransportKeys, rekeyInterval = REKEY_INTERVAL) {
    this.#send = keys.send
    this.#receive = keys.receive
    this.#rekeyInterval = rekeyInterval
  }

  /**
   * Seals one frame of `type` whose body is the concatenation of `parts` (`bodyLength` bytes in total, at most
   * MAX_MESSAGE_LENGTH) and appends the pieces to write, in order, to `out` (returned). The body is never
   * copied, only encrypted; appending to the caller's queue spares an array per frame.
   */
  seal(type: number, parts: readonly Uint8Array[], bodyLength: number, out: Buffer[] = []): Buffer[] {
    const length = TYPE_LENGTH + bodyLength + TAGLEN
    const sealer = this.#send.beginEncrypt(EMPTY)
    const head = Buffer.allocUnsafe(3)
    head.writeUInt16BE(length, 0)
    head[2] = sealer.update(TYPE_BYTES[type] ?? Uint8Array.of(type))[0]!
    out.push(head)
    for (const part of parts) if (part.length > 0) out.push(sealer.update(part))
    out.push(sealer.final())
    if (++this.#sent % this.#rekeyInterval === 0) this.#send.rekey()
    return out
  }

  /** A frame of `length` bytes starts. Throws CHANNEL_PROTOCOL_ERROR when it cannot hold a type and a tag. */
  openStart(length: number): void {
    if (length < MIN_TRANSPORT_FRAME || length > MAX_FRAME_LENGTH)
      throw ChannelError.protocol(`transport frame of ${length} bytes`)
    this.#opener = this.#receive.beginDecrypt(EMPTY)
    this.#ciphertextLeft = length - TAGLEN
    this.#tagFilled = 0
    this.#chunks = []
  }

  /** Decrypts the ciphertext part of `piece` and keeps the tag bytes; nothing is released before the tag verifies. */
  openData(piece: Uint8Array): void {
    const cut = Math.min(this.#ciphertextLeft, piece.length)
    if (cut > 0) {
      this.#chunks.push(this.#opener!.update(piece.subarray(0, cut)))
      this.#ciphertextLeft -= cut
    }
    if (cut < piece.length) {
      this.#tag.set(piece.subarray(cut), this.#tagFilled)
      this.#tagFilled += piece.length - cut
    }
  }

  /** Verifies the tag (NOISE_DECRYPT_FAILED otherwise) and returns the frame's type and body. */
  openEnd(): OpenedFrame {
    this.#opener!.final(this.#tag)
    this.#opener = undefined
    if (++this.#received % this.#rekeyInterval === 0) this.#receive.rekey()
    const chunks = this.#chunks
    this.#chunks = NO_CHUNKS
    const type = chunks[0]![0]!
    chunks[0] = chunks[0]!.subarray(TYPE_LENGTH)
    if (chunks[0].length === 0) chunks.shift()
    return { type, chunks }
  }
}

/** True for the frame types of `spec/noise.md` §5. */
export function isKnownFrameType(type: number): boolean {
  return type === FRAME_TYPE.data || type === FRAME_TYPE.keepalive || type === FRAME_TYPE.close
}
