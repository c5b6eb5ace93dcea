/**
 * The floor of the throughput benchmark: the pairctl channel's wire work and nothing else. The same frames
 * (2-byte length, ChaCha20-Poly1305 ciphertext of at most 65535 bytes, one node:crypto cipher object per
 * frame, streamed decryption as the bytes arrive) straight on the socket, with a fixed key and a counter
 * nonce instead of a handshake, and no stream layer, events or timers. What separates pairctl from this is
 * its own overhead; what separates this from node:tls is the cost of node:crypto's per-call API.
 * Benchmark-only: it authenticates nothing about the peer.
 */
import { createCipheriv, createDecipheriv, type DecipherChaCha20Poly1305 } from 'node:crypto'
import type { Socket } from 'node:net'

const KEY = Buffer.alloc(32, 7)
const TAG = 16
const BODY = 65535 - TAG

function nonce(iv: Buffer, n: number): Buffer {
  iv.writeUInt32LE(n, 4)
  return iv
}

/** Writes `data` as sealed frames, corked so that one chunk's frames leave in one writev. */
export function floorWrite(socket: Socket, data: Buffer, iv: Buffer, counter: { n: number }): boolean {
  socket.cork()
  for (let offset = 0; offset < data.length; offset += BODY) {
    const body = data.subarray(offset, offset + BODY)
    const cipher = createCipheriv('chacha20-poly1305', KEY, nonce(iv, counter.n++), { authTagLength: TAG })
    const head = Buffer.allocUnsafe(2)
    head.writeUInt16BE(body.length + TAG)
    socket.write(head)
    socket.write(cipher.update(body))
    cipher.final()
    socket.write(cipher.getAuthTag())
  }
  socket.uncork()
  return !socket.writableNeedDrain
}

/** Decrypts the frames arriving on `socket`, handing each plaintext piece to `onData` once its frame verified. */
export function floorRead(socket: Socket, onData: (chunk: Buffer) => void): void {
  const iv = Buffer.alloc(12)
  const tag = Buffer.alloc(TAG)
  let n = 0
  let header = -1
  let left = 0
  let tagFilled = 0
  let decipher: DecipherChaCha20Poly1305 | undefined
  let pieces: Buffer[] = []
  socket.on('data', (chunk: Buffer) => {
    let offset = 0
    while (offset < chunk.length) {
      if (left === 0) {
        if (header < 0) {
          header = chunk[offset++]!
          continue
        }
        left = (header << 8) | chunk[offset++]!
        header = -1
        tagFilled = 0
        decipher = createDecipheriv('chacha20-poly1305', KEY, nonce(iv, n++), { authTagLength: TAG })
        continue
      }
      const piece = chunk.subarray(offset, offset + left)
      offset += piece.length
      left -= piece.length
      const body = Math.max(0, Math.min(piece.length, left + piece.length - TAG))
      if (body > 0) pieces.push(decipher!.update(piece.subarray(0, body)))
      tag.set(piece.subarray(body), tagFilled)
      tagFilled += piece.length - body
      if (left > 0) continue
      decipher!.setAuthTag(tag)
      decipher!.final()
      for (const plain of pieces) onData(plain)
      pieces = []
    }
  })
}
