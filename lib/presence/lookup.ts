import createDebug from 'debug'
import { equalBytes } from '../crypto/index.js'
import { PRESENCE_NAMESPACE } from './constants.js'
import type { PresenceError } from './errors.js'
import { epochKeys, lookupEpochs } from './keys.js'
import { openPresence, type PresenceRecord, type RecordContext } from './record.js'
import type { PresenceDht, PresenceDhtRecord } from './types.js'

const debug = createDebug('pairctl:presence')

/** A paired device as presence sees it: its identity key and the pair's presence secret. */
export interface PresencePeer {
  identityKey: Uint8Array
  presenceSecret: Uint8Array
}

/** What a lookup found: the newest valid record, and how many records it skipped as invalid. */
export interface PresenceLookup {
  record: PresenceRecord | null
  /** Records that were not the epoch key's or did not open (`PRESENCE_BAD_RECORD`). */
  skipped: number
}

/** Options of {@link lookupPresence}. */
export interface PresenceLookupOptions {
  signal?: AbortSignal
  /** The clock (default `Date.now()`): which epochs to ask for. */
  now?: number
  /** Epoch length (default `PRESENCE_EPOCH_MS`); tests shorten it. */
  epochMs?: number
}

interface Candidate {
  epoch: number
  seq: number
  /** null: a tombstone (the device withdrew its record). */
  record: PresenceRecord | null
}

/**
 * Finds `peer`'s presence record for this device (`spec/presence.md` §3.2): looks up the current and the
 * nearer adjacent epoch at once, each at its derived DHT key and of its derived signing key only (no
 * identity key goes on the wire), and keeps the newest: the highest epoch that has anything, then the
 * highest `seq`. A tombstone on top means the device withdrew (went offline): null. Invalid records are
 * skipped and counted, never fatal.
 */
export async function lookupPresence(
  dht: PresenceDht,
  localKey: Uint8Array,
  peer: PresencePeer,
  options: PresenceLookupOptions = {},
): Promise<PresenceLookup> {
  const epochs = lookupEpochs(options.now ?? Date.now(), options.epochMs)
  const found = await Promise.all(
    epochs.map((epoch) =>
      lookupEpoch(dht, {
        keys: epochKeys(peer.presenceSecret, peer.identityKey, epoch),
        publisherKey: peer.identityKey,
        recipientKey: localKey,
      }),
    ),
  )
  let best: Candidate | null = null
  for (const candidate of found.flatMap((epoch) => epoch.candidates))
    if (best === null || newer(candidate, best)) best = candidate
  return { record: best?.record ?? null, skipped: found[0]!.skipped + found[1]!.skipped }

  async function lookupEpoch(dht: PresenceDht, context: RecordContext) {
    const { dhtKey, signing } = context.keys
    const candidates: Candidate[] = []
    let skipped = 0
    const signal = options.signal
    const records = dht.get(PRESENCE_NAMESPACE, dhtKey, {
      publicKey: signing.publicKey,
      ...(signal && { signal }),
    })
    for await (const record of records) {
      const candidate = accept(record, context)
      if (candidate === undefined) skipped++
      else candidates.push(candidate)
    }
    return { candidates, skipped }
  }
}

function newer(a: Candidate, b: Candidate): boolean {
  return a.epoch > b.epoch || (a.epoch === b.epoch && a.seq > b.seq)
}

/** The record as a candidate (null record: a tombstone), or undefined when it is invalid. */
function accept(found: PresenceDhtRecord, context: RecordContext): Candidate | undefined {
  if (!equalBytes(found.publicKey, context.keys.signing.publicKey)) return undefined
  const { epoch } = context.keys
  if (found.deleted) return { epoch, seq: found.seq, record: null }
  try {
    return { epoch, seq: found.seq, record: openPresence(found.value, context) }
  } catch (err) {
    debug('skipping presence record seq %d: %s', found.seq, (err as PresenceError).message)
    return undefined
  }
}
