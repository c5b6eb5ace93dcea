/**
 * Wire and policy constants of presence records and reconnects (`spec/presence.md`). Every label that goes
 * into a hash, a prologue or onto the wire lives here.
 * @module
 */

/** Version carried in every presence record and link message (`spec/presence.md` §2, §5). */
export const PRESENCE_VERSION = 1
/** DHT namespace of presence records (`spec/dht.md`: TTL clamped to 60 min, values ≤ 700 bytes). */
export const PRESENCE_NAMESPACE = 'presence'
/** Domain label of the presence key: SHA-256(label || identity key) (`spec/presence.md` §1). */
export const PRESENCE_KEY_DOMAIN = 'pairctl/presence/v1'
/** Lifetime of a published record; `lib/dht` republishes at half of it (`spec/presence.md` §3). */
export const PRESENCE_TTL_MS = 20 * 60_000
/** Largest encoded record: the DHT's value limit for the namespace. */
export const MAX_PRESENCE_BYTES = 700
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
/** The preamble must arrive within this after TCP accept, or the connection is dropped. */
export const PREAMBLE_TIMEOUT_MS = 5_000

/** The responder waits this long for the initiator's `hello` before it counts the link live. */
export const LINK_HELLO_TIMEOUT_MS = 5_000
/** Longest text of a `text` link message, in UTF-8 bytes. */
export const MAX_TEXT_BYTES = 16_384
/** Reconnect backoff: first retry after about this, doubling per failure... */
export const BACKOFF_BASE_MS = 1_000
/** ...up to this; each delay is drawn uniformly from [delay/2, delay] (jitter). */
export const BACKOFF_MAX_MS = 60_000
/** A presence lookup gives up after this. */
export const LOOKUP_TIMEOUT_MS = 10_000
