import { equalBytes, toHex } from '../crypto/index.js'
import { type DhtLimits, NAMESPACES, WireError, type WireErrorCode } from './constants.js'
import type { WireRecord } from './messages.js'
import { ownedKey, storageTarget, verifyRecord } from './record.js'

/** Bytes charged per stored record on top of its value: keys, signature, bookkeeping. */
const RECORD_OVERHEAD_BYTES = 160

interface Stored {
  record: WireRecord
  /** Local deletion time: the signed expiry clamped to the namespace's TTL (§7.2). */
  deadline: number
  bytes: number
  source: string
}

/**
 * The records a storing node keeps (`spec/dht.md` §7.2): several publishers per key, the highest seq
 * per publisher, bounded per key, per source group and in total bytes, swept when expired.
 */
export class RecordStore {
  readonly #limits: DhtLimits
  /** Allocated with the first record: most nodes are asked to store nothing (§8.4). */
  #byTarget: Map<string, Stored[]> | null = null
  #perSource: Map<string, number> | null = null
  #bytes = 0

  constructor(limits: DhtLimits) {
    this.#limits = limits
  }

  /** Bytes currently charged and records currently held. */
  get bytes(): number {
    return this.#bytes
  }

  get size(): number {
    let size = 0
    for (const entries of this.#byTarget?.values() ?? []) size += entries.length
    return size
  }

  /** Validates, verifies (once) and stores `record` from `source`; returns the wire status. */
  put(namespace: string, key: Uint8Array, record: WireRecord, source: string, now: number): WireErrorCode {
    const policy = Object.hasOwn(NAMESPACES, namespace) ? NAMESPACES[namespace] : undefined
    if (policy === undefined) return WireError.UNKNOWN_NAMESPACE
    const skew = this.#limits.clockSkewMs
    const timely = record.x > now - skew && record.x <= now + policy.maxTtlMs + skew
    if (!timely || record.v.length > policy.maxValueBytes) return WireError.BAD_RECORD
    // Owned keys (§7.2): a key holds one publisher's records only, so junk publishers cannot fill it.
    if (policy.ownedKeys && !equalBytes(key, ownedKey(namespace, record.p))) return WireError.BAD_RECORD
    const target = toHex(storageTarget(namespace, key))
    const entries = this.#byTarget?.get(target) ?? []
    const index = entries.findIndex((entry) => equalBytes(entry.record.p, record.p))
    const stale = index >= 0 ? staleness(entries[index]!.record, record) : WireError.OK
    if (stale !== WireError.OK || (index >= 0 && entries[index]!.record.s === record.s)) return stale
    if (!verifyRecord(namespace, key, record)) return WireError.BAD_RECORD
    const stored = {
      record: copyRecord(record),
      deadline: Math.min(record.x, now + policy.maxTtlMs),
      bytes: 0,
      source,
    }
    stored.bytes = record.v.length + RECORD_OVERHEAD_BYTES
    return this.#insert(target, entries, index, stored, now)
  }

  /** Live records at (namespace, key), optionally of one publisher, newest expiry first. */
  get(namespace: string, key: Uint8Array, now: number, publicKey?: Uint8Array): WireRecord[] {
    const entries = this.#byTarget?.get(toHex(storageTarget(namespace, key))) ?? []
    return entries
      .filter(
        (entry) => entry.deadline > now && (publicKey === undefined || equalBytes(entry.record.p, publicKey)),
      )
      .sort((a, b) => b.record.x - a.record.x)
      .map((entry) => entry.record)
  }

  /** Drops every record past its deadline. */
  sweep(now: number): void {
    for (const [target, entries] of this.#byTarget ?? []) {
      for (const entry of entries.filter((item) => item.deadline <= now)) this.#remove(target, entry)
    }
  }

  #insert(target: string, entries: Stored[], index: number, stored: Stored, now: number): WireErrorCode {
    const previous = index >= 0 ? entries[index]! : undefined
    if (previous === undefined && entries.length >= this.#limits.recordsPerKey) this.sweep(now)
    const current = this.#byTarget?.get(target) ?? []
    const replaced = previous !== undefined && current.includes(previous) ? previous : undefined
    if (replaced === undefined && current.length >= this.#limits.recordsPerKey) return WireError.STORE_FULL
    const freed = replaced?.bytes ?? 0
    if (this.#bytes - freed + stored.bytes > this.#limits.storeBytes) return WireError.STORE_FULL
    const sourceCount = this.#perSource?.get(stored.source) ?? 0
    if (replaced?.source !== stored.source && sourceCount >= this.#limits.recordsPerSource) {
      const tombstone = this.#oldestTombstoneOf(stored.source)
      if (tombstone === undefined || stored.record.v.length === 0) return WireError.STORE_FULL
      this.#remove(tombstone.target, tombstone.stored)
    }
    if (replaced !== undefined) this.#remove(target, replaced)
    this.#add(target, stored)
    return WireError.OK
  }

  /**
   * The source group's tombstone that expires first. A group at its quota may replace one with a live
   * record (§7.2): its own withdrawals must not lock it out of the store until they expire.
   */
  #oldestTombstoneOf(source: string): { target: string; stored: Stored } | undefined {
    let oldest: { target: string; stored: Stored } | undefined
    for (const [target, entries] of this.#byTarget ?? [])
      for (const entry of entries)
        if (
          entry.source === source &&
          entry.record.v.length === 0 &&
          entry.deadline < (oldest?.stored.deadline ?? Infinity)
        )
          oldest = { target, stored: entry }
    return oldest
  }

  #add(target: string, stored: Stored): void {
    this.#byTarget ??= new Map()
    this.#perSource ??= new Map()
    const entries = this.#byTarget.get(target) ?? []
    entries.push(stored)
    this.#byTarget.set(target, entries)
    this.#bytes += stored.bytes
    this.#perSource.set(stored.source, (this.#perSource.get(stored.source) ?? 0) + 1)
  }

  #remove(target: string, stored: Stored): void {
    const byTarget = this.#byTarget!
    const perSource = this.#perSource!
    const entries = byTarget.get(target)!.filter((entry) => entry !== stored)
    if (entries.length === 0) byTarget.delete(target)
    else byTarget.set(target, entries)
    this.#bytes -= stored.bytes
    const count = (perSource.get(stored.source) ?? 1) - 1
    if (count === 0) perSource.delete(stored.source)
    else perSource.set(stored.source, count)
  }
}

/** Stored records own their bytes: views would pin whole received datagrams in memory. */
function copyRecord(record: WireRecord): WireRecord {
  return {
    p: Uint8Array.from(record.p),
    s: record.s,
    x: record.x,
    v: Uint8Array.from(record.v),
    g: Uint8Array.from(record.g),
  }
}

/** A lower seq than the stored one is stale; an equal seq is only accepted as the identical record. */
function staleness(stored: WireRecord, incoming: WireRecord): WireErrorCode {
  if (incoming.s < stored.s) return WireError.STALE_SEQ
  if (incoming.s === stored.s && !equalBytes(incoming.g, stored.g)) return WireError.STALE_SEQ
  return WireError.OK
}
