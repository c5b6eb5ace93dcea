import { EventEmitter } from 'node:events'
import type { Duplex } from 'node:stream'
import createDebug from 'debug'
import type { AddressManager } from '../addresses/index.js'
import type { AdvertAddress, RelayAdvertAddress } from '../pairing/advert.js'
import { type Connector, tcpConnect } from '../pairing/connect.js'
import type { PairedDevice } from '../pairing/store.js'
import {
  ANNOUNCE_KEY,
  decodeAnnouncement,
  decodeToken,
  dialRelay,
  encodeToken,
  formatRelay,
  pairingToken,
  RELAY_NAMESPACE,
  type RelayAddress,
  RelayError,
  Reservation,
  reconnectToken,
} from '../relay/index.js'

const debug = createDebug('pairctl:node:relay')

/** How long an advert waits for the relay to confirm its pairing token (bounded like port mapping). */
const RESERVE_WAIT_MS = 5_000
/** How long the DHT lookup for relays may take at start. */
const LOOKUP_MS = 10_000
/** Connection strings of relayed circuits start with this, so links and events can tell them apart. */
export const RELAYED_PREFIX = 'relay:'

/** True for the connection string of a relayed circuit. */
export function isRelayedAddress(address: string): boolean {
  return address.startsWith(RELAYED_PREFIX)
}

/** The DHT as relay discovery uses it. */
export interface RelayDht {
  get(
    namespace: string,
    key: Uint8Array,
    options?: { signal?: AbortSignal },
  ): AsyncIterable<{ value: Uint8Array; deleted?: boolean }>
}

/** What {@link NodeRelay} needs from its node. */
export interface NodeRelayOptions {
  /** This node's identity key (the listener key of its reconnect tokens). */
  identityKey: Uint8Array
  devices: () => readonly PairedDevice[]
  /** Relays given with `--relay`, first preferred; none: look in the DHT. */
  configured: readonly RelayAddress[]
  dht: RelayDht
  addresses: AddressManager
  /** Takes a circuit that arrived through the relay (it starts with a connection preamble). */
  onCircuit(stream: Duplex, address: string): void
}

/**
 * A node's use of relays (`spec/relay.md` §8): finds a relay (configured, else announced in the DHT),
 * holds a reservation on it under the reconnect tokens of its paired devices and the pairing tokens of
 * its adverts, and says which relay address to publish, last, while reserved. Emits `change` when that
 * address appears or goes.
 */
export class NodeRelay extends EventEmitter<{ change: [] }> {
  readonly #options: NodeRelayOptions
  readonly #pairingTokens = new Set<string>()
  readonly #lookup = new AbortController()
  #candidates: RelayAddress[] = []
  #reservation: Reservation | undefined
  /** Settles once the relays are known: at once when configured, after the DHT lookup otherwise. */
  #chosen: Promise<void> = Promise.resolve()
  #closed = false

  constructor(options: NodeRelayOptions) {
    super()
    this.#options = options
  }

  /** Reserves on the configured relay, or looks for one in the DHT when this node has no public address. */
  start(): this {
    if (this.#options.configured.length > 0) this.#use([...this.#options.configured])
    else this.#chosen = this.#discover()
    return this
  }

  /** The relay reserved on, if any. */
  get relay(): RelayAddress | null {
    return this.#reservation?.reserved ? this.#reservation.relay : null
  }

  /** The relay address for presence records (no token, `spec/relay.md` §8.1), or none while unreserved. */
  presenceAddresses(): AdvertAddress[] {
    const relay = this.relay
    return relay === null ? [] : [{ host: relay.host, port: relay.port, transport: 'relay' }]
  }

  /**
   * Reserves a fresh pairing token (`spec/relay.md` §4.1) and resolves with the advert address carrying
   * it once the relay confirmed, or null without a relay (or no answer within {@link RESERVE_WAIT_MS}).
   * Waits for the DHT lookup of relays first (at most {@link LOOKUP_MS}): `generate` asks right after
   * the node started, and an advert without the relay cannot be reached behind a symmetric NAT.
   * `release` gives the token back when the advert is withdrawn.
   */
  async pairingAddress(): Promise<{ address: RelayAdvertAddress | null; release: () => void }> {
    const token = encodeToken(pairingToken())
    this.#pairingTokens.add(token)
    const release = () => {
      if (this.#pairingTokens.delete(token)) this.refresh()
    }
    await this.#chosen
    if (this.#reservation === undefined) return { address: null, release }
    this.refresh()
    const reserved = await this.#confirmed(this.#reservation)
    const relay = this.#reservation.relay
    return {
      address: reserved ? { host: relay.host, port: relay.port, transport: 'relay', token } : null,
      release,
    }
  }

  /** Sends the current tokens to the relay (a device was paired or forgotten, an advert came or went). */
  refresh(): void {
    this.#reservation?.setTokens(this.#tokens())
  }

  /** Releases the reservation. */
  close(): void {
    this.#closed = true
    this.#lookup.abort()
    this.#reservation?.close()
  }

  #tokens(): Uint8Array[] {
    const own = this.#options.identityKey
    const reconnect = this.#options
      .devices()
      .flatMap((device) =>
        device.presenceSecret === undefined ? [] : [reconnectToken(device.presenceSecret, own)],
      )
    return [...reconnect, ...[...this.#pairingTokens].map(decodeToken)]
  }

  /** Waits for the reservation to hold the latest tokens (bounded). */
  #confirmed(reservation: Reservation): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (ok: boolean) => {
        clearTimeout(timer)
        reservation.off('reserved', onReserved)
        resolve(ok)
      }
      const onReserved = () => done(true)
      const timer = setTimeout(() => done(false), RESERVE_WAIT_MS)
      reservation.on('reserved', onReserved)
    })
  }

  async #discover(): Promise<void> {
    const timer = setTimeout(() => this.#lookup.abort(), LOOKUP_MS)
    const found: RelayAddress[] = []
    try {
      for await (const record of this.#options.dht.get(RELAY_NAMESPACE, ANNOUNCE_KEY, {
        signal: this.#lookup.signal,
      }))
        if (record.deleted !== true) found.push(...(decodeAnnouncement(record.value) ?? []))
    } catch (err) {
      debug('looking for relays: %s', (err as Error).message)
    } finally {
      clearTimeout(timer)
    }
    const publicAddress = this.#options.addresses.advertisable().some((address) => address.scope === 'public')
    debug('relays in the DHT: %o; public address: %s', found.map(formatRelay), publicAddress)
    if (!this.#closed && found.length > 0 && !publicAddress) this.#use(found)
  }

  /** Reserves on the first candidate; one that never confirms is replaced by the next. */
  #use(candidates: RelayAddress[]): void {
    this.#candidates = candidates
    this.#reserveOn(0)
  }

  #reserveOn(index: number): void {
    const relay = this.#candidates[index % this.#candidates.length]!
    const reservation = new Reservation(relay, this.#tokens())
    this.#reservation = reservation
    let confirmed = false
    reservation.on('reserved', () => {
      if (!confirmed) this.emit('change')
      confirmed = true
    })
    reservation.on('lost', (err: RelayError) => {
      debug('reservation on %s lost: %s', formatRelay(relay), err.message)
      if (confirmed) this.emit('change')
      confirmed = false
      if (reservation.everReserved || this.#candidates.length < 2 || this.#closed) return
      reservation.close()
      this.#reserveOn(index + 1)
    })
    reservation.on('circuit', ({ stream }) => {
      // As for accepted TCP sockets: a failing circuit must never be an unhandled 'error'.
      stream.on('error', (err) => debug('circuit through %s: %s', formatRelay(relay), err.message))
      this.#options.onCircuit(stream, `${RELAYED_PREFIX}${formatRelay(relay)}`)
    })
    reservation.start()
  }
}

/**
 * A connector that dials relay addresses through the relay (`spec/relay.md` §8.2) with the token
 * `tokenOf` gives (null: not dialable), and every other address with `base`.
 */
export function relayAwareConnector(
  tokenOf: (address: RelayAdvertAddress) => Uint8Array | null,
  base: Connector = tcpConnect,
): Connector {
  return (address, signal) => {
    if (address.transport !== 'relay') return base(address, signal)
    const token = tokenOf(address)
    if (token === null) return Promise.reject(RelayError.badArgument('no relay token for this address'))
    return dialRelay(address, token, signal)
  }
}

/** A joiner's connector: relay addresses carry their pairing token (`spec/relay.md` §4.1). */
export const pairingConnector: Connector = relayAwareConnector((address) =>
  address.token === undefined ? null : decodeToken(address.token),
)

/** A reconnect's connector to `device`: its reconnect token, derived from the pair's secret (§4.2). */
export function reconnectConnector(device: PairedDevice): Connector {
  const secret = device.presenceSecret
  return relayAwareConnector(() => (secret === undefined ? null : reconnectToken(secret, device.identityKey)))
}
