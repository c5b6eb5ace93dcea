/**
 * Wire constants and default limits of the relay (`spec/relay.md` §2).
 * @module
 */

/** The control messages' `v`. */
export const RELAY_VERSION = 1
/** The WebSocket path a relay serves (`spec/relay.md` §3). */
export const RELAY_PATH = '/pairctl/relay/v1'
/** Bytes of a token (`spec/relay.md` §4). */
export const TOKEN_BYTES = 32
/** Bytes of a circuit ID. */
export const CIRCUIT_ID_BYTES = 16
/** Largest control message (CBOR) a relay or client accepts. */
export const MAX_CONTROL_BYTES = 4096
/** Largest WebSocket message on a circuit; clients split bigger writes. */
export const MAX_DATA_MESSAGE = 65536
/** Tokens one reservation may hold (one per paired device, plus pairings in progress). */
export const MAX_TOKENS_PER_RESERVATION = 64

/** Domain of the reconnect token derivation (`spec/relay.md` §4.2). */
export const RECONNECT_TOKEN_LABEL = 'pairctl/relay/v1/reconnect-token'
/** Domain of the DHT key under which relays announce themselves (`spec/relay.md` §7). */
export const ANNOUNCE_KEY_LABEL = 'pairctl/relay/v1/announce'
/** The DHT namespace of relay announcements. */
export const RELAY_NAMESPACE = 'relay'
/** Lifetime of an announcement; republished at half of it. */
export const ANNOUNCE_TTL_MS = 30 * 60_000

/**
 * WebSocket close codes the relay uses (`spec/relay.md` §6): 1000/1001 as RFC 6455 defines them, the
 * rest in the private range 4000-4999. Every close carries a short reason text too.
 */
export const CLOSE = {
  normal: 1000,
  goingAway: 1001,
  protocol: 4001,
  tooManyConnections: 4002,
  tooManyCircuits: 4003,
  noReservation: 4004,
  relayFull: 4005,
  idle: 4006,
  circuitLifetime: 4007,
  reservationExpired: 4008,
  notAccepted: 4009,
  replaced: 4010,
} as const
export type CloseCode = (typeof CLOSE)[keyof typeof CLOSE]

/** The limits a relay enforces (`spec/relay.md` §5); every table it keeps is bounded by one of them. */
export interface RelayLimits {
  /** Open WebSocket connections from one IP address. */
  connectionsPerIp: number
  /** Open WebSocket connections in all. */
  maxConnections: number
  /** Circuits with an end at one IP address. */
  circuitsPerIp: number
  /** Circuits in all. */
  maxCircuits: number
  /** Bytes per second one circuit forwards, per direction (token bucket of one second's burst). */
  bytesPerSecond: number
  /** A circuit is closed this long after it was spliced. */
  circuitLifetimeMs: number
  /** A connection that is neither a live reservation nor a busy circuit is closed after this. */
  idleTimeoutMs: number
  /** A reservation not renewed within this is closed. */
  reservationLifetimeMs: number
  /** How long a dialer waits for the listener to accept. */
  acceptTimeoutMs: number
  /** A TCP connection whose WebSocket upgrade request is not complete within this is closed. */
  upgradeTimeoutMs: number
  /** TCP connections from one IP address still before their upgrade; one more is refused (HTTP 429). */
  upgradesPerIp: number
}

/** Defaults: sized for a small public relay on a modest host. */
export const DEFAULT_LIMITS: RelayLimits = {
  connectionsPerIp: 64,
  maxConnections: 4096,
  circuitsPerIp: 32,
  maxCircuits: 2048,
  bytesPerSecond: 16 * 1024 * 1024,
  circuitLifetimeMs: 2 * 60 * 60_000,
  idleTimeoutMs: 60_000,
  reservationLifetimeMs: 10 * 60_000,
  acceptTimeoutMs: 10_000,
  upgradeTimeoutMs: 10_000,
  upgradesPerIp: 16,
}
