/**
 * Wire and policy constants of the pairing protocol (`spec/pairing.md`). Every number or label the
 * protocol puts on the wire or into a hash lives here, so a port only has to read one file.
 * @module
 */

/** Protocol version carried in every message and advertisement (`spec/pairing.md` §5). */
export const PROTOCOL_VERSION = 1

/** DHT namespace of advertisements (`spec/dht.md`; the DHT clamps its TTL to 15 min). */
export const DHT_NAMESPACE = 'pairing'

/** Domain label of the rendezvous key (`spec/pairing.md` §2). */
export const RENDEZVOUS_DOMAIN = 'pairctl/rendezvous/v1'
/** Domain label of the advertisement signature (`spec/pairing.md` §3). */
export const ADVERT_DOMAIN = 'pairctl/advert/v1'
/** Noise prologue of pairing connections: a pairing channel never doubles as another protocol's. */
export const PAIRING_PROLOGUE = 'pairctl/pairing/v1'
/** First field of the CPace channel identifier CI (`spec/pairing.md` §6.1). */
export const CPACE_CI_LABEL = 'pairctl/pairing/v1'
/** HMAC labels of the key-confirmation tags and the SAS (`spec/pairing.md` §6.2, §6.3). */
export const CONFIRM_LABEL_JOINER = 'pairctl/pairing/v1/confirm/joiner'
export const CONFIRM_LABEL_ADVERTISER = 'pairctl/pairing/v1/confirm/advertiser'
export const SAS_LABEL = 'pairctl/pairing/v1/sas'
/** HMAC label of the pair's presence secret, derived from the confirmed ISK (`spec/pairing.md` §6.4). */
export const PRESENCE_SECRET_LABEL = 'pairctl/pairing/v1/presence-secret'
/** Digits of the short authentication string. */
export const SAS_DIGITS = 6

/** Words in a code by default: 2 rendezvous + 3 secret (33 bits). */
export const DEFAULT_WORDS = 5
/** Fewest words: 1 rendezvous + 3 secret. */
export const MIN_WORDS = 4
/** Most words accepted (BIP39's longest mnemonic). */
export const MAX_WORDS = 24
/** Secret words never fall below this (3 × 11 = 33 bits). */
export const MIN_SECRET_WORDS = 3
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
/** The user has this long to accept the SAS. */
export const SAS_TIMEOUT_MS = 120_000
/** The joiner's DHT lookup gives up after this. */
export const RESOLVE_TIMEOUT_MS = 15_000
/** One TCP connect attempt, and the Noise handshake after it. */
export const CONNECT_TIMEOUT_MS = 5_000
/** Happy-eyeballs stagger between starting connects to successive addresses. */
export const CONNECT_STAGGER_MS = 250
/** Rounds over the advertised addresses before the joiner reports PAIRING_UNREACHABLE. */
export const CONNECT_ROUNDS = 2
/** Adverts (distinct publisher keys) a joiner tries under one rendezvous key. */
export const MAX_ADVERTS_TRIED = 3
/** Largest addresses list in an advertisement. */
export const MAX_ADDRESSES = 8
/** Largest device name (bytes of UTF-8 after trimming to code points). */
export const MAX_NAME_LENGTH = 64
/** Largest encoded advertisement: the DHT's value limit for the 'pairing' namespace. */
export const MAX_ADVERT_BYTES = 700
/** Ended sessions a dispatcher remembers, to tell late joiners why (burned, cancelled...). */
export const RETIRED_SESSIONS = 256
/** Incoming connections a dispatcher lets run their handshake and `hello` at once; more are dropped. */
export const MAX_PENDING_CONNECTIONS = 64
