import type { Ed25519KeyPair } from '../crypto/index.js'
import { toHex } from '../crypto/index.js'
import { type Advert, type AdvertAddress, decodeAdvert, encodeAdvert } from './advert.js'
import { type PairingCode, type RandomSource, redrawRendezvous, rendezvousKey } from './code.js'
import { DHT_NAMESPACE, PROTOCOL_VERSION, RENDEZVOUS_DRAWS, RESOLVE_TIMEOUT_MS } from './constants.js'
import { PairingError } from './errors.js'
import type { PairingDht } from './types.js'

/**
 * Rendezvous through the DHT (`spec/pairing.md` §2-§3): finding the live advertisements under a code's
 * rendezvous key, and publishing one under a key nobody else is using.
 * @module
 */

/**
 * Every valid, unexpired advertisement under the code's rendezvous key, one per publisher key, latest
 * expiry first, split by version: current ones in `adverts`, v1 ones only counted (`outdated`).
 * Invalid records are skipped. The lookup runs to its end (a decoy may answer from one storing node
 * and the real advert from another) or stops after {@link RESOLVE_TIMEOUT_MS} with what it found;
 * `signal` cancels it (`PAIRING_CANCELLED`).
 */
export async function lookupAdverts(
  dht: PairingDht,
  code: PairingCode,
  signal?: AbortSignal,
): Promise<Lookup> {
  const key = rendezvousKey(code)
  const found = new Map<string, Advert>()
  const lookup = { withdrawn: false }
  const timeout = AbortSignal.timeout(RESOLVE_TIMEOUT_MS)
  try {
    for await (const record of dht.get(DHT_NAMESPACE, key, { signal: anySignal(timeout, signal) })) {
      lookup.withdrawn ||= record.deleted
      const advert = record.deleted ? null : decodeAdvert(key, record.value, record.publicKey, Date.now())
      if (advert !== null) found.set(toHex(advert.key), advert)
    }
  } catch (err) {
    if (signal?.aborted) throw PairingError.cancelled()
    if (!timeout.aborted) throw err
  }
  const all = [...found.values()].sort((a, b) => b.expiresAt - a.expiresAt)
  const adverts = all.filter((advert) => advert.version === PROTOCOL_VERSION)
  return { adverts, outdated: all.length - adverts.length, withdrawn: lookup.withdrawn }
}

function anySignal(timeout: AbortSignal, signal: AbortSignal | undefined): AbortSignal {
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal])
}

/** What a lookup found: live advertisements, v1 ones, and whether a withdrawal (tombstone) was seen. */
export interface Lookup {
  adverts: Advert[]
  /** Valid adverts of the previous protocol version: an outdated device advertises this code. */
  outdated: number
  withdrawn: boolean
}

/** What {@link publishAdvert} returns. */
export interface Published {
  /** The code actually advertised (its rendezvous words may have been redrawn). */
  code: PairingCode
  withdraw(): Promise<void>
}

/**
 * Publishes the advertisement under a free rendezvous key: if a live advert already sits under the
 * code's key, the rendezvous words are redrawn (the secret words stay), up to {@link RENDEZVOUS_DRAWS}
 * times (`spec/pairing.md` §2).
 */
export async function publishAdvert(
  dht: PairingDht,
  options: {
    code: PairingCode
    keyPair: Ed25519KeyPair
    addresses: readonly AdvertAddress[]
    expiresAt: number
    random: RandomSource
    signal?: AbortSignal | undefined
  },
): Promise<Published> {
  let code = options.code
  for (let draw = 0; draw < RENDEZVOUS_DRAWS; draw++) {
    const taken = await lookupAdverts(dht, code, options.signal)
    if (taken.adverts.length + taken.outdated === 0) return publishAt(dht, code, options)
    code = redrawRendezvous(code, options.random)
  }
  throw PairingError.rendezvousTaken()
}

async function publishAt(
  dht: PairingDht,
  code: PairingCode,
  options: { keyPair: Ed25519KeyPair; addresses: readonly AdvertAddress[]; expiresAt: number },
): Promise<Published> {
  const key = rendezvousKey(code)
  const value = encodeAdvert(key, options.keyPair, options.addresses, options.expiresAt)
  const ttlMs = Math.max(1, options.expiresAt - Date.now())
  const publication = await dht.publish(DHT_NAMESPACE, key, value, { keyPair: options.keyPair, ttlMs })
  // Announce the code only once some node holds the advert: a joiner could not find it before.
  await publication.stored?.catch(async (err: unknown) => {
    await publication.withdraw().catch(() => {})
    throw err
  })
  return { code, withdraw: () => publication.withdraw() }
}
