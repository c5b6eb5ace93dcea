/**
 * Wire and timing constants of TCP hole punching (`spec/holepunch.md`). Every label that goes into a
 * hash and every number the two sides must agree on lives here.
 * @module
 */

/** Version byte that starts every punch record value. */
export const PUNCH_VERSION = 1

/** Domain of the DHT key a pairing's punch records live under: SHA-256(domain || advert key). */
export const PAIRING_KEY_DOMAIN = 'pairctl/holepunch/v1/pairing'
/**
 * Domain of the DHT key a paired device's punch records live under:
 * SHA-256(domain || presence secret || responder identity key || u64be(epoch)).
 */
export const PRESENCE_KEY_DOMAIN = 'pairctl/holepunch/v1/presence'
/** HMAC labels of the two sealing keys (request: requester to responder; answer: the other way). */
export const REQUEST_KEY_LABEL = 'pairctl/holepunch/v1/request'
export const ANSWER_KEY_LABEL = 'pairctl/holepunch/v1/answer'

/** Bytes of the salt (pairing: the requester's ephemeral X25519 key; reconnect: random). */
export const SALT_BYTES = 32
/** Bytes of an attempt nonce. */
export const NONCE_BYTES = 16
/** Lifetime of a punch record in the DHT: long enough for one attempt and its answer. */
export const RECORD_TTL_MS = 60_000
/** A request older than this (requester's clock, skew allowed) is not answered. */
export const REQUEST_MAX_AGE_MS = 60_000

/**
 * Attempts (each with a fresh local port and nonce) before the requester gives up: with 20 % loss each
 * way, 2 attempts paired 11 of 20 times in the lab benchmark (`bench/lab`).
 */
export const MAX_ATTEMPTS = 3
/** How long the requester waits for an answer before it gives up (the DHT round trips under loss). */
export const ANSWER_TIMEOUT_MS = 8_000
/**
 * The STUN schedule of learning a punch's mapping (§5.1): RTO 250 ms, 5 transmissions (0, 0.25, 0.75,
 * 1.75, 3.75 s), failure at 4.75 s, so a mapping is known or given up well within the requester's answer
 * timeout and the next attempt can start. STUN's default (RFC 8489: 500 ms and a last wait of 16 RTO,
 * with 4 transmissions here) left a punch 11.5 s without its mapping when the four were lost at 20 %
 * loss each way (`bench/lab`). A bootstrap node answers within 250 ms on most paths; a slower one only
 * costs duplicate requests, which match the same transaction.
 */
export const MAPPING_STUN_SCHEDULE = { rto: 250, rc: 5, rm: 4 } as const
/** How often a side waiting for a punch record asks the DHT again. */
export const POLL_INTERVAL_MS = 500
/**
 * How often a device waiting to be punched to by a paired device asks the DHT (§4.1): it waits for as
 * long as the device is not linked, so less often than a pairing's advertiser, which waits minutes.
 */
export const RECONNECT_POLL_INTERVAL_MS = 1_000
/**
 * After this long with no punch request from the device (since it was unlinked, or its last request),
 * it is asked for every {@link RECONNECT_QUIET_POLL_INTERVAL_MS} instead: a device offline for a day
 * costs its peers' storing nodes a GET every 4 s, not every second. A request seen makes it fast again,
 * so a requester whose first attempt was read late has its next ones read within a second.
 */
export const RECONNECT_QUIET_AFTER_MS = 120_000
/**
 * The quiet interval: with the requester's answer timeout of 8 s, a request read up to 4 s late still
 * leaves the answer time to arrive where the mapping is learned in one STUN round trip.
 */
export const RECONNECT_QUIET_POLL_INTERVAL_MS = 4_000
/**
 * Within this much of a presence epoch's boundary a reconnect's second punch asks under the adjacent
 * epoch's key (§4.1), so a responder whose clock is off by less than this still reads one of the two.
 */
export const EPOCH_MARGIN_MS = 5 * 60_000
/**
 * The connect window after the answer: the kernel resends an unanswered SYN after 1 s and 3 s, so a
 * window of 4.5 s plus two signalling round trips covers three SYNs each way (one lost to 20 % loss
 * is then recovered).
 */
export const CONNECT_WINDOW_BASE_MS = 4_500
/** Bounds of the connect window whatever the measured round trip. */
export const CONNECT_WINDOW_MAX_MS = 10_000
/** Largest encoded punch record value (the DHT's limit for both namespaces it is published in). */
export const MAX_RECORD_BYTES = 700
