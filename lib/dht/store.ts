import { equalBytes, toHex } from '../crypto/index.js'
import { type DhtLimits, NAMESPACES, WireError, type WireErrorCode } from './constants.js'
import type { WireRecord } from './messages.js'
import { ownedKey, storageTarget, verifyRecord } from './record.js'

/** Bytes charged per stored record on top of its value: keys, signature, bookkeeping. */
const RECORD_OVERHEAD_BYTES = 160

/**
 * The source group of the node's own records (§7.5): never a network endpoint's group, and never dropped
 * to make room for another group.
 */
export const OWN_SOURCE = 'own'

interface Stored {
  record: WireRecord
  /** Local deletion time: the signed expiry clamped to the namespace's TTL (§7.2). */
  deadline: number
  bytes: number
  source: string
  /** Hex storage target the record sits under. */
  target: string
}

/** What one source group holds. */
interface Share {
  bytes: number
  entries: Set<Stored>
}

/**
 * The records a storing node keeps (`spec/dht.md` §7.2): several publishers per key, the highest seq
 * per publisher, bounded per key, per source group and in total bytes, swept when expired. A full store
 * makes room for a group holding less than the largest by dropping the largest's records, so many
 * groups together can fill it but not keep a new group out.
 */
export class RecordStore {
  readonly #limits: DhtLimits
  /** Allocated with the first record: most nodes are asked to store nothing (§8.4). */
  #byTarget: Map<string, Stored[]> | null = null
  #bySource: Map<string, Share> | null = null
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
      bytes: record.v.length + RECORD_OVERHEAD_BYTES,
      source,
      target,
    }
    return this.#insert(entries, index, stored, now)
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
    for (const entries of this.#byTarget?.values() ?? [])
      for (const entry of entries.filter((item) => item.deadline <= now)) this.#remove(entry)
  }

  #insert(entries: Stored[], index: number, stored: Stored, now: number): WireErrorCode {
    const previous = index >= 0 ? entries[index]! : undefined
    if (previous === undefined && entries.length >= this.#limits.recordsPerKey) this.sweep(now)
    const current = this.#byTarget?.get(stored.target) ?? []
    const replaced = previous !== undefined && current.includes(previous) ? previous : undefined
    if (replaced === undefined && current.length >= this.#limits.recordsPerKey) return WireError.STORE_FULL
    const quotaVictim = this.#quotaVictim(stored, replaced)
    if (quotaVictim === undefined) return WireError.STORE_FULL
    const freed = [replaced, quotaVictim].filter((entry) => entry != null)
    const excess = this.#bytes + stored.bytes - bytesOf(freed) - this.#limits.storeBytes
    const fairShareVictims = excess > 0 ? this.#fairShareVictims(stored, excess, freed) : []
    if (fairShareVictims === undefined) return WireError.STORE_FULL
    for (const victim of [...freed, ...fairShareVictims]) this.#remove(victim)
    this.#add(stored)
    return WireError.OK
  }

  /**
   * What must go for `stored` to fit its group's record quota: nothing (null), the group's tombstone that
   * expires first, or no way (undefined). A group at its quota may replace a tombstone with a live record
   * (§7.2): its own withdrawals must not lock it out of the store until they expire.
   */
  #quotaVictim(stored: Stored, replaced: Stored | undefined): Stored | null | undefined {
    const share = this.#bySource?.get(stored.source)
    const held = share?.entries.size ?? 0
    if (replaced?.source === stored.source || held < this.#limits.recordsPerSource) return null
    if (stored.record.v.length === 0) return undefined
    let oldest: Stored | undefined
    for (const entry of share?.entries ?? [])
      if (entry.record.v.length === 0 && entry.deadline < (oldest?.deadline ?? Infinity)) oldest = entry
    return oldest
  }

  /**
   * Records of the group holding the most bytes (not the newcomer's, not the node's own) that free
   * `excess` bytes, those expiring first; undefined when that group would then hold fewer bytes than the
   * newcomer's (max-min fairness, §7.2): a full store's groups only trade places down to equal shares.
   */
  #fairShareVictims(stored: Stored, excess: number, freed: Stored[]): Stored[] | undefined {
    const own = this.#bySource?.get(stored.source)?.bytes ?? 0
    const after = own + stored.bytes - bytesOf(freed.filter((entry) => entry.source === stored.source))
    const largest = this.#largestShare(stored.source)
    if (largest === undefined) return undefined
    const victims: Stored[] = []
    let dropped = 0
    const candidates = [...largest.entries].filter((entry) => !freed.includes(entry))
    for (const entry of candidates.sort((a, b) => a.deadline - b.deadline)) {
      if (dropped >= excess) break
      victims.push(entry)
      dropped += entry.bytes
    }
    const left = largest.bytes - dropped - bytesOf(freed.filter((entry) => largest.entries.has(entry)))
    return dropped >= excess && left >= after ? victims : undefined
  }

  #largestShare(exclude: string): Share | undefined {
    let largest: Share | undefined
    for (const [source, share] of this.#bySource ?? [])
      if (source !== exclude && source !== OWN_SOURCE && share.bytes > (largest?.bytes ?? 0)) largest = share
    return largest
  }

  #add(stored: Stored): void {
    this.#byTarget ??= new Map()
    this.#bySource ??= new Map()
    const entries = this.#byTarget.get(stored.target) ?? []
    entries.push(stored)
    this.#byTarget.set(stored.target, entries)
    this.#bytes += stored.bytes
    const share = this.#bySource.get(stored.source) ?? { bytes: 0, entries: new Set() }
    share.bytes += stored.bytes
    share.entries.add(stored)
    this.#bySource.set(stored.source, share)
  }

  #remove(stored: Stored): void {
    const byTarget = this.#byTarget!
    const entries = byTarget.get(stored.target)!.filter((entry) => entry !== stored)
    if (entries.length === 0) byTarget.delete(stored.target)
    else byTarget.set(stored.target, entries)
    this.#bytes -= stored.bytes
    const share = this.#bySource!.get(stored.source)!
    share.bytes -= stored.bytes
    share.entries.delete(stored)
    if (share.entries.size === 0) this.#bySource!.delete(stored.source)
  }
}

function bytesOf(entries: Stored[]): number {
  return entries.reduce((sum, entry) => sum + entry.bytes, 0)
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
