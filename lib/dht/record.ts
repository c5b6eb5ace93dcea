import { concatBytes, type Ed25519KeyPair, ed25519Verify, equalBytes, sha256, utf8 } from '../crypto/index.js'
import { Domain, ID_BYTES, MAX_NAMESPACE_BYTES, NAMESPACES, type NamespacePolicy } from './constants.js'
import { DhtError } from './errors.js'
import type { WireRecord } from './messages.js'

/** A verified record as callers see it (`spec/dht.md` §7). An empty value is a signed delete. */
export interface DhtRecord {
  namespace: string
  key: Uint8Array
  publicKey: Uint8Array
  seq: number
  /** Milliseconds since the Unix epoch, in the publisher's clock. */
  expiresAt: number
  value: Uint8Array
  /** True for a tombstone: the publisher withdrew its record. */
  deleted: boolean
}

const RECORD_DOMAIN = utf8(`${Domain.RECORD}\0`)
const TARGET_DOMAIN = utf8(`${Domain.TARGET}\0`)
const OWNED_KEY_DOMAIN = utf8(`${Domain.OWNED_KEY}\0`)

/**
 * The bytes the publisher signs (`spec/dht.md` §7.1):
 * `"pairctl/dht/record/v1" 0x00 || u8 len(ns) || ns || key(32) || seq u64be || expiresAt u64be ||
 * u32be len(value) || value`.
 */
export function signedBytes(
  namespace: string,
  key: Uint8Array,
  seq: number,
  expiresAt: number,
  value: Uint8Array,
): Uint8Array {
  const ns = utf8(namespace)
  const fixed = new DataView(new ArrayBuffer(20))
  fixed.setBigUint64(0, BigInt(seq))
  fixed.setBigUint64(8, BigInt(expiresAt))
  fixed.setUint32(16, value.length)
  return concatBytes(RECORD_DOMAIN, Uint8Array.of(ns.length), ns, key, new Uint8Array(fixed.buffer), value)
}

/** Where a record lives in id space: `SHA-256("pairctl/dht/target/v1" 0x00 || u8 len(ns) || ns || key)`. */
export function storageTarget(namespace: string, key: Uint8Array): Uint8Array {
  const ns = utf8(namespace)
  return sha256(TARGET_DOMAIN, Uint8Array.of(ns.length), ns, key)
}

/**
 * The only key a publisher may use in a namespace with owned keys (`spec/dht.md` §7.2):
 * `SHA-256("pairctl/dht/owned-key/v1" 0x00 || u8 len(ns) || ns || publisher public key)`.
 */
export function ownedKey(namespace: string, publicKey: Uint8Array): Uint8Array {
  const ns = utf8(namespace)
  return sha256(OWNED_KEY_DOMAIN, Uint8Array.of(ns.length), ns, publicKey)
}

/** True when `key` may hold records of `publicKey` in `namespace` (any key, unless keys are owned). */
export function mayPublishAt(namespace: string, key: Uint8Array, publicKey: Uint8Array): boolean {
  return !namespacePolicy(namespace).ownedKeys || equalBytes(key, ownedKey(namespace, publicKey))
}

/** Signs a record with the publisher's key pair; the wire form of §3.3. */
export function signRecord(
  namespace: string,
  key: Uint8Array,
  fields: { seq: number; expiresAt: number; value: Uint8Array },
  keyPair: Ed25519KeyPair,
): WireRecord {
  const signature = keyPair.sign(signedBytes(namespace, key, fields.seq, fields.expiresAt, fields.value))
  return { p: keyPair.publicKey, s: fields.seq, x: fields.expiresAt, v: fields.value, g: signature }
}

/** True when the record's signature verifies: the only Ed25519 verification a storing node does. */
export function verifyRecord(namespace: string, key: Uint8Array, record: WireRecord): boolean {
  return ed25519Verify(record.p, signedBytes(namespace, key, record.s, record.x, record.v), record.g)
}

/** The caller-facing form of a wire record. */
export function toDhtRecord(namespace: string, key: Uint8Array, record: WireRecord): DhtRecord {
  return {
    namespace,
    key,
    publicKey: record.p,
    seq: record.s,
    expiresAt: record.x,
    value: record.v,
    deleted: record.v.length === 0,
  }
}

/** The namespace's policy; throws `DHT_BAD_ARGUMENT` for a name no storing node accepts. */
export function namespacePolicy(namespace: string): NamespacePolicy {
  const policy = Object.hasOwn(NAMESPACES, namespace) ? NAMESPACES[namespace] : undefined
  if (policy === undefined) throw DhtError.badArgument(`unknown DHT namespace '${namespace}'`)
  return policy
}

/** Local checks on a publish request, before signing (`DHT_BAD_ARGUMENT`). */
export function assertPublishable(
  namespace: string,
  key: Uint8Array,
  value: Uint8Array,
  ttlMs: number,
  publicKey: Uint8Array,
): void {
  const policy = namespacePolicy(namespace)
  if (utf8(namespace).length > MAX_NAMESPACE_BYTES) throw DhtError.badArgument('namespace too long')
  if (!(key instanceof Uint8Array) || key.length !== ID_BYTES)
    throw DhtError.badArgument('key must be 32 bytes')
  if (policy.ownedKeys && !equalBytes(key, ownedKey(namespace, publicKey)))
    throw DhtError.badArgument(`'${namespace}' keys are owned: publish at ownedKey(namespace, publicKey)`)
  if (value.length > policy.maxValueBytes)
    throw DhtError.badArgument(`value over ${policy.maxValueBytes} bytes for '${namespace}'`)
  if (!(ttlMs > 0 && ttlMs <= policy.maxTtlMs))
    throw DhtError.badArgument(`ttlMs must be in (0, ${policy.maxTtlMs}] for '${namespace}'`)
}
