import { randomBytes } from '../crypto/index.js'
import type { Advert } from './advert.js'
import { openPairingChannel } from './channel.js'
import { type PairingCode, parseCode, type RandomSource } from './code.js'
import {
  type AdvertConnector,
  type Connector,
  connectFirst,
  formatAddress,
  type Securer,
  tcpConnect,
} from './connect.js'
import { asPairingError, driveHandshake } from './driver.js'
import { PairingError } from './errors.js'
import { EventLog } from './events.js'
import { PairingHandshake } from './handshake.js'
import { lookupAdverts } from './rendezvous.js'
import type { PairedDevice } from './store.js'
import type { CommonPairingOptions, PairingDht, PairingSession } from './types.js'

/** Options of {@link joinPairing} (`spec/pairing.md` §8). */
export interface JoinPairingOptions extends CommonPairingOptions {
  dht: PairingDht
  /** The code as the user typed it. */
  code: string
  /** Opens a transport to an advertised address (default: TCP). */
  connect?: Connector
  /** Reaches the advertiser by every path (`spec/holepunch.md` §6); default: `connect` to each address. */
  connectAdvert?: AdvertConnector
  /** Randomness for the CPace scalar; the CSPRNG unless a test injects one. */
  random?: RandomSource
}

/** Failures after which the next advertisement under the same key is worth trying (a decoy may sit there). */
const TRY_NEXT = new Set([
  'PAIRING_UNREACHABLE',
  'PAIRING_NOT_FOUND',
  'PAIRING_WRONG_CODE',
  'PAIRING_BUSY',
  'PAIRING_CODE_BURNED',
])

/**
 * Joins with a typed code (`spec/pairing.md` §7.3): resolving (DHT lookup of the rendezvous key),
 * connecting (all advertised addresses, staggered), handshaking, confirming. Parses the code first and
 * throws `PAIRING_UNKNOWN_WORD` / `PAIRING_BAD_CODE` synchronously, before any network use. A wrong
 * code is final: the advertiser burned it, and a new one is needed.
 */
export function joinPairing(options: JoinPairingOptions): PairingSession {
  return new JoinerRun(options, parseCode(options.code))
}

class JoinerRun implements PairingSession {
  readonly events = new EventLog()
  readonly result: Promise<PairedDevice>
  readonly #options: JoinPairingOptions
  readonly #code: PairingCode
  readonly #abort = new AbortController()

  constructor(options: JoinPairingOptions, code: PairingCode) {
    this.#options = options
    this.#code = code
    if (options.signal?.aborted) this.#abort.abort()
    options.signal?.addEventListener('abort', this.cancel)
    this.result = this.#run().finally(() => options.signal?.removeEventListener('abort', this.cancel))
    this.result.then(
      (device) => this.#end({ type: 'paired', device }),
      (error: PairingError) => this.#end({ type: 'failed', error }),
    )
  }

  get code(): string {
    return this.#code.text
  }

  readonly cancel = (): void => this.#abort.abort()

  async #run(): Promise<PairedDevice> {
    try {
      const adverts = await this.#resolve()
      return await this.#tryAdverts(adverts)
    } catch (err) {
      throw this.#abort.signal.aborted ? PairingError.cancelled() : asPairingError(err)
    }
  }

  async #resolve(): Promise<Advert[]> {
    this.events.push({ type: 'searching' })
    const { adverts, withdrawn } = await lookupAdverts(
      this.#options.dht,
      this.#code,
      this.#abort.signal,
    ).catch((err: unknown) => {
      throw err instanceof PairingError ? err : PairingError.dhtFailed(err)
    })
    if (this.#abort.signal.aborted) throw PairingError.cancelled()
    if (adverts.length === 0) throw withdrawn ? PairingError.withdrawn() : PairingError.notFound()
    return adverts
  }

  /** Tries each advertisement in turn; a wrong code against one of them is still reported. */
  async #tryAdverts(adverts: Advert[]): Promise<PairedDevice> {
    let failure: PairingError | undefined
    for (const advert of adverts) {
      try {
        return await this.#pairWith(advert)
      } catch (err) {
        const error = asPairingError(err)
        if (failure?.code !== 'PAIRING_WRONG_CODE') failure = error
        if (!TRY_NEXT.has(error.code) || this.#abort.signal.aborted) break
      }
    }
    throw failure
  }

  async #pairWith(advert: Advert): Promise<PairedDevice> {
    const { identity, deviceInfo, confirm, store } = this.#options
    this.events.push({ type: 'found', addresses: advert.addresses })
    const open = this.#options.openChannel ?? openPairingChannel
    const secure: Securer = (duplex, signal) => open(duplex, { role: 'initiator', identity, signal })
    const { channel, address, path } = this.#options.connectAdvert
      ? await this.#options.connectAdvert(advert, secure, this.#abort.signal)
      : await connectFirst(advert.addresses, this.#options.connect ?? tcpConnect, secure, this.#abort.signal)
    this.events.push({
      type: 'peer-connected',
      address: formatAddress(address),
      ...(path === undefined ? {} : { path }),
    })
    const handshake = new PairingHandshake({
      role: 'joiner',
      code: this.#code,
      advertKey: advert.key,
      handshakeHash: channel.handshakeHash,
      localIdentityKey: identity.publicKey,
      remoteIdentityKey: channel.remoteIdentityKey,
      deviceInfo,
      confirmSas: confirm !== undefined,
      random: this.#options.random ?? randomBytes,
      now: Date.now(),
    })
    const peer = await driveHandshake(channel, handshake, {
      confirm,
      signal: this.#abort.signal,
      onEvent: (event) => {
        if (event.type === 'verifying' || event.type === 'sas') this.events.push(event)
      },
    })
    const device: PairedDevice = { ...peer, pairedAt: Date.now(), addresses: [address] }
    await store?.add(device)
    return device
  }

  #end(event: { type: 'paired'; device: PairedDevice } | { type: 'failed'; error: PairingError }): void {
    this.events.push(event)
    this.events.end()
  }
}
