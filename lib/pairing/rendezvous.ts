import type { Ed25519KeyPair } from '../crypto/index.js'
import { toHex } from '../crypto/index.js'
import { type Advert, type AdvertAddress, decodeAdvert, encodeAdvert } from './advert.js'
import { type PairingCode, type RandomSource, redrawRendezvous, rendezvousKey } from './code.js'
import { DHT_NAMESPACE, MAX_ADVERTS_TRIED, RENDEZVOUS_DRAWS, RESOLVE_TIMEOUT_MS } from './constants.js'
import { PairingError } from './errors.js'
import type { PairingDht } from './types.js'

/**
 * Rendezvous through the DHT (`spec/pairing.md` §2-§3): finding the live advertisements under a code's
 * rendezvous key, and publishing one under a key nobody else is using.
 * @module
 */

/**
 * The valid, unexpired advertisements under the code's rendezvous key, one per publisher key, at most
 * {@link MAX_ADVERTS_TRIED}, latest expiry first. Invalid records are skipped. The lookup stops after
 * {@link RESOLVE_TIMEOUT_MS} with what it found so far; `signal` cancels it (`PAIRING_CANCELLED`).
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
  const adverts = [...found.values()].sort((a, b) => b.expiresAt - a.expiresAt).slice(0, MAX_ADVERTS_TRIED)
  return { adverts, withdrawn: lookup.withdrawn }
}

function anySignal(timeout: AbortSignal, signal: AbortSignal | undefined): AbortSignal {
  return signal === undefined ? timeout : AbortSignal.any([timeout, signal])
}

/** What a lookup found: live advertisements, and whether a withdrawal (tombstone) was seen. */
export interface Lookup {
  adverts: Advert[]
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
    if ((await lookupAdverts(dht, code, options.signal)).adverts.length === 0)
      return publishAt(dht, code, options)
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
