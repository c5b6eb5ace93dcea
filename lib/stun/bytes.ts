/**
 * Big-endian (network order, RFC 8489 §5) integer access on byte arrays. Plain index arithmetic:
 * a DataView per call dominated the server's profile.
 * @module
 */

/** Reads an unsigned 16-bit integer at `at`. */
export function readUint16(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 8) | bytes[at + 1]!
}

/** Reads an unsigned 32-bit integer at `at`. */
export function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0
}

/** Writes an unsigned 16-bit integer at `at`. */
export function writeUint16(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8
  bytes[at + 1] = value
}

/** Writes an unsigned 32-bit integer at `at`. */
export function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  writeUint16(bytes, at, value >>> 16)
  writeUint16(bytes, at + 2, value & 0xffff)
}
