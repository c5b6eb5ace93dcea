import { randomFillSync } from 'node:crypto'

/** `length` bytes from the operating system's CSPRNG. */
export function randomBytes(length: number): Uint8Array {
  return randomFillSync(new Uint8Array(length))
}
