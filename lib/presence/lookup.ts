import createDebug from 'debug'
import { equalBytes } from '../crypto/index.js'
import { PRESENCE_NAMESPACE } from './constants.js'
import type { PresenceError } from './errors.js'
import { presenceKey } from './key.js'
import { decodePresence, type PresenceRecord } from './record.js'
import type { PresenceDht, PresenceDhtRecord } from './types.js'

const debug = createDebug('pairctl:presence')

/** What a lookup found: the newest valid record, and how many records it skipped as invalid. */
export interface PresenceLookup {
  record: PresenceRecord | null
  /** Records that were not the publisher's or did not decode (`PRESENCE_BAD_RECORD`). */
  skipped: number
}

/**
 * Finds the presence record of the device with `identityKey` (`spec/presence.md` §3.2): asks the DHT for
 * records at its presence key published by that key only, and keeps the one with the highest `seq` among
 * valid records and tombstones. A tombstone on top means the device withdrew (went offline): null.
 * Invalid records are skipped and counted, never fatal.
 */
export async function lookupPresence(
  dht: PresenceDht,
  identityKey: Uint8Array,
  signal?: AbortSignal,
): Promise<PresenceLookup> {
  let best: { seq: number; record: PresenceRecord | null } | null = null
  let skipped = 0
  const records = dht.get(PRESENCE_NAMESPACE, presenceKey(identityKey), { publicKey: identityKey, signal })
  for await (const found of records) {
    const candidate = accept(found, identityKey)
    if (candidate === undefined) skipped++
    else if (best === null || candidate.seq > best.seq) best = candidate
  }
  return { record: best?.record ?? null, skipped }
}

/** The record as a candidate (null record: a tombstone), or undefined when it is invalid. */
function accept(
  found: PresenceDhtRecord,
  identityKey: Uint8Array,
): { seq: number; record: PresenceRecord | null } | undefined {
  if (!equalBytes(found.publicKey, identityKey)) return undefined
  if (found.deleted) return { seq: found.seq, record: null }
  try {
    return { seq: found.seq, record: decodePresence(found.value) }
  } catch (err) {
    debug('skipping presence record seq %d: %s', found.seq, (err as PresenceError).message)
    return undefined
  }
}
