/**
 * Wire constants and default limits of the pairctl DHT (`spec/dht.md` §2 and §9). Everything a port
 * must agree on lives here; limits a deployment may tune are in {@link DEFAULT_LIMITS}.
 */

/** Protocol version carried in every datagram's `v` field (`spec/dht.md` §3). */
export const DHT_VERSION = 1
/** Largest datagram sent or accepted: fits an IPv6 minimum-MTU path with room for headers. */
export const MAX_DATAGRAM_BYTES = 1200
/** Replies to a source are at most this many times the request's size (anti-amplification, §8.1). */
export const AMPLIFICATION_FACTOR = 3
/** Node ids, rendezvous keys and storage targets are SHA-256 sized. */
export const ID_BYTES = 32
/** Kademlia replication parameter: bucket size and the number of closest nodes a lookup returns. */
export const K = 20
/** Requests a lookup keeps in flight (stalled requests do not count, §6). */
export const ALPHA = 3
/** Write tokens: truncated HMAC-SHA256 length. */
export const TOKEN_BYTES = 16
/** Ed25519 public key and signature lengths (RFC 8032). */
export const PUBLIC_KEY_BYTES = 32
export const SIGNATURE_BYTES = 64

/** `y` field: message type. */
export const MessageType = { REQUEST: 0, RESPONSE: 1 } as const

/** `c` field: the RPC (`spec/dht.md` §5). */
export const Command = { PING: 0, FIND_NODE: 1, GET: 2, PUT: 3 } as const
export type CommandCode = (typeof Command)[keyof typeof Command]

/** `e` field of a response: absent or 0 means success (`spec/dht.md` §5.5). */
export const WireError = {
  OK: 0,
  UNKNOWN_COMMAND: 1,
  BAD_REQUEST: 2,
  BAD_TOKEN: 3,
  BAD_RECORD: 4,
  STALE_SEQ: 5,
  STORE_FULL: 6,
  UNKNOWN_NAMESPACE: 7,
} as const
export type WireErrorCode = (typeof WireError)[keyof typeof WireError]

/** Requests are padded (field `z`) to at least these sizes so the 3x reply budget fits (§8.1). */
export const MIN_REQUEST_BYTES: Record<CommandCode, number> = {
  [Command.PING]: 64,
  [Command.FIND_NODE]: 100,
  [Command.GET]: 400,
  [Command.PUT]: 0,
}

/** Domain-separation prefixes for every hash and signature (`spec/dht.md` §4, §7). */
export const Domain = {
  NODE_ID: 'pairctl/dht/node-id/v1',
  TARGET: 'pairctl/dht/target/v1',
  RECORD: 'pairctl/dht/record/v1',
  TOKEN: 'pairctl/dht/token/v1',
  OWNED_KEY: 'pairctl/dht/owned-key/v1',
} as const

/** Per-namespace record policy: TTL clamp, largest value and key ownership (`spec/dht.md` §7.2). */
export interface NamespacePolicy {
  maxTtlMs: number
  maxValueBytes: number
  /**
   * Owned keys: a record is stored only under the key its publisher key derives (`ownedKey`), so one key
   * has exactly one possible publisher and nobody else can fill it (`spec/dht.md` §7.2).
   */
  ownedKeys: boolean
}

/** The namespaces storing nodes accept; anything else gets `UNKNOWN_NAMESPACE`. */
export const NAMESPACES: Readonly<Record<string, NamespacePolicy>> = {
  pairing: { maxTtlMs: 15 * 60_000, maxValueBytes: 700, ownedKeys: false },
  presence: { maxTtlMs: 60 * 60_000, maxValueBytes: 700, ownedKeys: true },
}

/** Longest namespace name in bytes. */
export const MAX_NAMESPACE_BYTES = 32

/** Tunable limits and timings; every cache and table the core keeps is bounded by one of these. */
export interface DhtLimits {
  /** Records kept per storage target, across publishers. */
  recordsPerKey: number
  /** Records kept per source address group (see `grouping`). */
  recordsPerSource: number
  /** Total value + metadata bytes the record store keeps. */
  storeBytes: number
  /** Token-bucket rate per source group, requests per second (`Infinity` disables). */
  requestsPerSecond: number
  /** Token-bucket burst per source group. */
  requestBurst: number
  /** Source groups tracked by the rate limiter. */
  rateLimiterEntries: number
  /** Nodes of one address group per bucket and per lookup shortlist. */
  nodesPerGroup: number
  /** Pending ping-before-insert/evict probes. */
  pendingProbes: number
  /** Requests of our own in flight at once; beyond this a new request fails at once. */
  maxTransactions: number
  /** Shortlist length of one lookup. */
  shortlist: number
  /** Requests one lookup keeps in flight. */
  alpha: number
  /** Write-token secret rotation period. */
  tokenRotateMs: number
  /** Accepted clock difference between publisher and storing node. */
  clockSkewMs: number
  /** A full bucket's least recently seen node is pinged (and evicted if silent) only after this. */
  staleAfterMs: number
  /** Random-target lookup period that refreshes the table. */
  refreshMs: number
  /** Expired-record sweep period. */
  gcMs: number
  /** Lower and upper clamp of the retransmission timeout (RFC 6298 §2.4 style). */
  minRtoMs: number
  maxRtoMs: number
  /** A request is abandoned after this many RTOs (it is already "stalled" after one). */
  failAfterRtos: number
  /**
   * Retransmissions of a request before it fails (§6.2): the i-th goes out after span·(1 - 2^-i) of the
   * request's span (`failAfterRtos` RTOs, at most `maxRtoMs`), so 2 resend after 2 and 3 RTOs.
   */
  retransmits: number
  /** Times a lookup that reached no server at all is started again through the seeds (§6.3, §9). */
  queryRetries: number
  /** Join attempts after the first when no seed answered, and the wait before the first (doubling), §9. */
  joinRetries: number
  joinBackoffMs: number
}

/** Defaults for {@link DhtLimits} (`spec/dht.md` §9). */
export const DEFAULT_LIMITS: Readonly<DhtLimits> = {
  recordsPerKey: 8,
  recordsPerSource: 64,
  storeBytes: 4 * 1024 * 1024,
  requestsPerSecond: 100,
  requestBurst: 200,
  rateLimiterEntries: 1024,
  nodesPerGroup: 2,
  pendingProbes: 64,
  maxTransactions: 1024,
  shortlist: 3 * K,
  alpha: ALPHA,
  tokenRotateMs: 5 * 60_000,
  clockSkewMs: 2 * 60_000,
  staleAfterMs: 60_000,
  refreshMs: 5 * 60_000,
  gcMs: 60_000,
  minRtoMs: 50,
  maxRtoMs: 2_000,
  failAfterRtos: 4,
  retransmits: 2,
  queryRetries: 3,
  joinRetries: 4,
  joinBackoffMs: 1_000,
}

/** RFC 6298 §2.1: initial RTO before any sample. */
export const INITIAL_RTO_MS = 1_000
/** Votes kept for the external-address majority and the minimum agreeing votes (§4.3). */
export const ADDRESS_VOTES = 16
export const MIN_ADDRESS_VOTES = 2
/** Consecutive failed requests after which a table entry is dropped. */
export const MAX_NODE_FAILURES = 2
