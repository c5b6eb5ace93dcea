import { toHex } from '../../../lib/crypto/index.js'

/** JSON form of a message, as `spec/vectors/dht.json` and `transfer.json` write it: byte strings as `h'<hex>'`. */
export function vectorJson(value: unknown): unknown {
  if (value instanceof Uint8Array) return `h'${toHex(value)}'`
  if (Array.isArray(value)) return value.map(vectorJson)
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, vectorJson(v)]))
  return value
}
