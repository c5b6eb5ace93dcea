/**
 * Wire and policy constants of presence records and reconnects (`spec/presence.md`). Every label that goes
 * into a hash, a prologue or onto the wire lives here.
 * @module
 */

/** Version carried in every presence record and link message (`spec/presence.md` §2, §5). */
export const PRESENCE_VERSION = 2
/** DHT namespace of presence records (`spec/dht.md`: owned keys, TTL clamped to 60 min, ≤ 700 bytes). */
export const PRESENCE_NAMESPACE = 'presence'
/** Length of a presence epoch: every key of a pair's records changes with it (`spec/presence.md` §1). */
export const PRESENCE_EPOCH_MS = 60 * 60_000
/** HKDF salt of the per-epoch keys (`spec/presence.md` §1). */
export const EPOCH_KEYS_SALT = 'pairctl/presence/v2/epoch-keys'
/** Label of the identity signature inside a record (`spec/presence.md` §2.2). */
export const RECORD_SIGNATURE_LABEL = 'pairctl/presence/v2/record'
/** Label of the record's AEAD associated data (`spec/presence.md` §2.3). */
export const RECORD_AD_LABEL = 'pairctl/presence/v2/sealed'
/** Lifetime of a published record; `lib/dht` republishes at half of it (`spec/presence.md` §3). */
export const PRESENCE_TTL_MS = 20 * 60_000
/** Every record's plaintext is padded to exactly this, so its size says nothing (`spec/presence.md` §2.3). */
export const PRESENCE_PLAINTEXT_BYTES = 640
/** Random AEAD nonce at the start of a sealed record. */
export const PRESENCE_NONCE_BYTES = 12
/** Most addresses in a record. */
export const MAX_PRESENCE_ADDRESSES = 8
/** Noise prologue purpose of reconnects, distinct from pairing's (`spec/noise.md` §2.2). */
export const RECONNECT_PROLOGUE = 'pairctl/reconnect/v1'

/** Bytes of the connection preamble every TCP connection to a node starts with (`spec/presence.md` §4). */
export const PREAMBLE_LENGTH = 8
/** The preamble's fixed first seven bytes, then one selector byte. */
export const PREAMBLE_MAGIC = 'pairctl'
/** Selector bytes: which handshake follows the preamble. */
export const PREAMBLE_SELECTORS = { pairing: 0x50, reconnect: 0x52 } as const
/** The responder waits this long for the initiator's `hello` before it counts the link live. */
export const LINK_HELLO_TIMEOUT_MS = 5_000
/** Longest text of a `text` link message, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16_384
/** A link that stayed open this long resets the backoff when it closes; a shorter one does not. */
export const LINK_STABLE_MS = 10_000
/** Reconnect backoff: first retry after about this, doubling per failure... */
export const BACKOFF_BASE_MS = 1_000
/** ...up to this; each delay is drawn uniformly from [delay/2, delay] (jitter). */
export const BACKOFF_MAX_MS = 60_000
/** A presence lookup gives up after this. */
export const LOOKUP_TIMEOUT_MS = 10_000
