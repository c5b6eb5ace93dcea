/**
 * Wire and policy constants of the pairing protocol (`spec/pairing.md`). Every number or label the
 * protocol puts on the wire or into a hash lives here, so a port only has to read one file.
 * @module
 */

/** Protocol version carried in every message and advertisement (`spec/pairing.md` §5, §13). */
export const PROTOCOL_VERSION = 2
/** The version before this one: its adverts are recognised so the joiner can say the peer is outdated. */
export const PREVIOUS_VERSION = 1

/** DHT namespace of advertisements (`spec/dht.md`; the DHT clamps its TTL to 15 min). */
export const DHT_NAMESPACE = 'pairing'

/** Domain label of the rendezvous key (`spec/pairing.md` §2). */
export const RENDEZVOUS_DOMAIN = 'pairctl/rendezvous/v1'
/**
 * Domain label of the advertisement signature (`spec/pairing.md` §3). Unchanged in v2: the signed body
 * carries `v`, so a v1 advert still verifies and is recognised as v1.
 */
export const ADVERT_DOMAIN = 'pairctl/advert/v1'
/** Noise prologue purpose of pairing connections (`spec/pairing.md` §4): versioned, pairing-only. */
export const PAIRING_PROLOGUE = 'pairctl/pairing/v2'
/** First field of the CPace channel identifier CI (`spec/pairing.md` §6.1). */
export const CPACE_CI_LABEL = 'pairctl/pairing/v2'
/** HMAC labels of the key-confirmation tags and the SAS (`spec/pairing.md` §6.2, §6.3). */
export const CONFIRM_LABEL_JOINER = 'pairctl/pairing/v2/confirm/joiner'
export const CONFIRM_LABEL_ADVERTISER = 'pairctl/pairing/v2/confirm/advertiser'
export const SAS_LABEL = 'pairctl/pairing/v2/sas'
/** HMAC label of the pair's presence secret, derived from the confirmed ISK (`spec/pairing.md` §6.4). */
export const PRESENCE_SECRET_LABEL = 'pairctl/pairing/v2/presence-secret'
/** HMAC label of the value each side's identity signature covers (`spec/pairing.md` §6.5). */
export const IDENTITY_BINDING_LABEL = 'pairctl/pairing/v2/identity-binding'
/** Domain of the identity signature in `accept`, one per role so a signature cannot be reflected. */
export const IDENTITY_SIGNATURE_DOMAIN = {
  joiner: 'pairctl/pairing/v2/identity/joiner',
  advertiser: 'pairctl/pairing/v2/identity/advertiser',
} as const
/** Domain of the hash of a code this device has sent a tag for (`spec/pairing.md` §7.3). */
export const USED_CODE_DOMAIN = 'pairctl/used-code/v2'
/** Digits of the short authentication string. */
export const SAS_DIGITS = 6

/** Words in a code by default: 2 rendezvous + 3 secret (33 bits). */
export const DEFAULT_WORDS = 5
/** Rendezvous words of every code: 2^22 keys, too many to fill. */
export const RENDEZVOUS_WORDS = 2
/** Most words accepted (BIP39's longest mnemonic). */
export const MAX_WORDS = 24
/** Secret words never fall below this (3 × 11 = 33 bits). */
export const MIN_SECRET_WORDS = 3
/** Fewest words: 2 rendezvous + 3 secret, so every allowed length has both bounds. */
export const MIN_WORDS = RENDEZVOUS_WORDS + MIN_SECRET_WORDS
/** Bits of entropy per BIP39 word (2048-word list). */
export const BITS_PER_WORD = 11
/** Times the advertiser redraws its rendezvous words when the key is already taken. */
export const RENDEZVOUS_DRAWS = 5

/** Advertisement lifetime: default 5 min, at most 15 min (the DHT's cap for this namespace). */
export const DEFAULT_TTL_MS = 5 * 60_000
export const MAX_TTL_MS = 15 * 60_000
/** Clock skew tolerated when checking an advertisement's expiry. */
export const CLOCK_SKEW_MS = 60_000
/** Failed confirmations the advertiser allows before the code burns (default 1, at most 3). */
export const DEFAULT_MAX_ATTEMPTS = 1
export const MAX_ATTEMPTS_LIMIT = 3

/** Each in-channel step (one expected message) must arrive within this. */
export const STEP_TIMEOUT_MS = 15_000
/**
 * Each side waits this long for the other's tag after its share: the peer computes it at once, and a
 * silent connection must not hold the session (`spec/pairing.md` §7.2); but one TCP segment lost twice
 * under 20 % loss already costs seconds (5 s timed out 2 of 20 pairings in `bench/lab`, 10 s 2 of 20
 * hole-punched ones), so it is the in-channel step's own bound. A session held to the end spends an
 * attempt either way.
 */
export const CONFIRM_TIMEOUT_MS = STEP_TIMEOUT_MS
/** The user has this long to accept the SAS. */
export const SAS_TIMEOUT_MS = 120_000
/** The joiner's DHT lookup gives up after this. */
export const RESOLVE_TIMEOUT_MS = 15_000
/** One TCP connect attempt to an advertised address, and the Noise handshake after it. */
export const CONNECT_TIMEOUT_MS = 5_000
/**
 * The pairing channel's Noise handshake on its own, as on a hole-punched connection, which is connected
 * before it starts and has no second address to try: as long as the listener allows for the handshake
 * and `hello` ({@link HELLO_TIMEOUT_MS}); 5 s cut off 1 of 14 punched pairings at 20 % loss each way.
 */
export const HANDSHAKE_TIMEOUT_MS = 10_000
/** Happy-eyeballs stagger between starting connects to successive addresses. */
export const CONNECT_STAGGER_MS = 250
/** Rounds over the advertised addresses before the joiner reports PAIRING_UNREACHABLE. */
export const CONNECT_ROUNDS = 2
/**
 * Before its tag, the joiner retries an advertiser that answered `PAIRING_BUSY` or whose connection was
 * lost for at most this long.
 */
export const RETRY_WINDOW_MS = 30_000
/** First wait before such a retry; it doubles up to {@link RETRY_MAX_DELAY_MS}. */
export const RETRY_DELAY_MS = 500
export const RETRY_MAX_DELAY_MS = 4_000
/** Codes this device has sent a tag for, remembered (hashed) so they are refused when retyped. */
export const USED_CODES_KEPT = 1024
/** File of those hashes in the instance directory. */
export const USED_CODES_FILE = 'used-codes.json'
/** Largest addresses list in an advertisement. */
export const MAX_ADDRESSES = 8
/** Largest device name (bytes of UTF-8 after trimming to code points). */
export const MAX_NAME_LENGTH = 64
/** Largest encoded advertisement: the DHT's value limit for the 'pairing' namespace. */
export const MAX_ADVERT_BYTES = 700
/** Ended sessions a dispatcher remembers, to tell late joiners why (burned, cancelled...). */
export const RETIRED_SESSIONS = 256
/**
 * Connections a listener holds before they proved anything (waiting for their preamble, Noise handshake
 * or `hello`): at most this many in all, the oldest evicted for a newcomer (`spec/pairing.md` §4.1).
 */
export const MAX_PENDING_CONNECTIONS = 64
/** ... and at most this many from one source IP address; a newcomer evicts that source's oldest. */
export const MAX_PENDING_PER_SOURCE = 4
/**
 * The preamble must arrive within this after TCP accept: 2 s closed hole-punched connections at 20 %
 * loss each way (3 of 14 pairings in `bench/lab`), where the one segment carrying it, lost once or
 * twice, costs 1 to 3 s a time; a flood is bounded by the slot counts and eviction above, not by this.
 */
export const PREAMBLE_TIMEOUT_MS = 10_000
/**
 * The Noise handshake and `hello` must complete within this after the preamble: 5 s cut off 1 of 20
 * pairings at 20 % loss each way (`bench/lab`), a lost segment costing a second or more; a flood is
 * bounded by the slot counts and eviction above, not by this.
 */
export const HELLO_TIMEOUT_MS = 10_000
