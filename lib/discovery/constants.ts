/**
 * Constants of LAN discovery (`spec/discovery.md`): multicast DNS (RFC 6762) carrying a DNS-SD
 * service (RFC 6763) that names a pairctl node's DHT port.
 */

/** The DNS-SD service type: a pairctl DHT node, over UDP (RFC 6763 §7). */
export const SERVICE_TYPE = '_pairctl._udp.local'

/** The mDNS IPv4 group and port (RFC 6762 §3). */
export const MDNS_GROUP = '224.0.0.251'
export const MDNS_PORT = 5353

/**
 * Record lifetimes, as RFC 6762 §10 recommends: 120 s for records that name a host (SRV, A), 75 min
 * for the others (PTR, TXT).
 */
export const HOST_RECORD_TTL_S = 120
export const SERVICE_RECORD_TTL_S = 4500

/** The TXT record's one string: the DHT protocol version the announced port speaks (`spec/dht.md`). */
export const TXT_VERSION = 'v=1'

/** Announcements at start, one second apart (RFC 6762 §8.3: at least two). */
export const ANNOUNCEMENTS = 2
export const ANNOUNCE_INTERVAL_MS = 1_000

/** Queries at start, then at intervals doubling from 1 s up to one hour (RFC 6762 §5.2). */
export const FIRST_QUERY_INTERVAL_MS = 1_000
export const MAX_QUERY_INTERVAL_MS = 3_600_000

/** A record is multicast at most once a second (RFC 6762 §6): bounds what a query flood costs. */
export const MIN_ANSWER_INTERVAL_MS = 1_000

/** TTL of every record in a legacy unicast answer (RFC 6762 §6.7: at most ten seconds). */
export const LEGACY_UNICAST_TTL_S = 10

/**
 * Legacy unicast answers go to whatever source a query names, so they are bounded twice: each is at
 * most this many times its query's bytes, and at most {@link MAX_LEGACY_ANSWERS_PER_S} go out a second.
 */
export const MAX_ANSWER_RATIO = 3
export const MAX_LEGACY_ANSWERS_PER_S = 10

/**
 * A peer seen again is handed to the DHT again after this long: a device that dropped us from its
 * table while the network was down is pinged again when its next answer arrives.
 */
export const PEER_REFRESH_MS = 60_000

/** Instances remembered: a LAN holds a handful of devices; beyond, the oldest are forgotten. */
export const MAX_PEERS = 64
