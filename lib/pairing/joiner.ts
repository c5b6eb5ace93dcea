import { setTimeout as sleep } from 'node:timers/promises'
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
import { RETRY_DELAY_MS, RETRY_MAX_DELAY_MS, RETRY_WINDOW_MS } from './constants.js'
import { asPairingError, driveHandshake } from './driver.js'
import { PairingError, type PairingErrorCode } from './errors.js'
import { EventLog } from './events.js'
import { PairingHandshake } from './handshake.js'
import { lookupAdverts } from './rendezvous.js'
import type { PairedDevice } from './store.js'
import type { CommonPairingOptions, PairingDht, PairingSession } from './types.js'
import type { UsedCodes } from './used-codes.js'

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
  /** Codes this device already sent a tag for: refused without network use, and the new one recorded. */
  usedCodes?: UsedCodes
  /** This device's own advertising sessions: joining one of its codes is refused (`PAIRING_SELF`). */
  ownCodes?: { isAdvertising(code: PairingCode): boolean }
}

/**
 * Joins with a typed code (`spec/pairing.md` §7.3): resolving (DHT lookup of the rendezvous key),
 * connecting (all advertised addresses, staggered), handshaking, confirming. Throws synchronously,
 * before any network use, for a malformed code (`PAIRING_UNKNOWN_WORD` / `PAIRING_BAD_CODE`), a code
 * this device already used (`PAIRING_CODE_USED`) or is advertising itself (`PAIRING_SELF`). More than
 * one advert for the code fails with `PAIRING_CODE_ATTACKED` and sends nothing to any of them. A wrong
 * code is final: the advertiser burned it, and a new one is needed.
 */
export function joinPairing(options: JoinPairingOptions): PairingSession {
  const code = parseCode(options.code)
  if (options.ownCodes?.isAdvertising(code)) throw PairingError.self()
  if (options.usedCodes?.has(code)) throw PairingError.codeUsed()
  return new JoinerRun(options, code)
}

/** Failures before the tag that say nothing about the code: the joiner connects again. */
const RETRIED: readonly PairingErrorCode[] = ['PAIRING_BUSY', 'PAIRING_CONNECTION_LOST']

class JoinerRun implements PairingSession {
  readonly events = new EventLog()
  readonly result: Promise<PairedDevice>
  readonly #options: JoinPairingOptions
  readonly #code: PairingCode
  readonly #abort = new AbortController()
  /** Set once a tag went out: from then on nothing is retried with this code. */
  #recorded: Promise<void> | undefined

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
      return await this.#retryUntried(await this.#resolve())
    } catch (err) {
      throw this.#abort.signal.aborted ? PairingError.cancelled() : asPairingError(err)
    } finally {
      // A failed disk write must not hide the pairing's own outcome; the in-memory record stands.
      await this.#recorded?.catch(() => {})
    }
  }

  /** The one advert of the code. Several mean decoys: none of them gets anything (§7.3). */
  async #resolve(): Promise<Advert> {
    this.events.push({ type: 'searching' })
    const { adverts, outdated, withdrawn } = await lookupAdverts(
      this.#options.dht,
      this.#code,
      this.#abort.signal,
    ).catch((err: unknown) => {
      throw err instanceof PairingError ? err : PairingError.dhtFailed(err)
    })
    if (this.#abort.signal.aborted) throw PairingError.cancelled()
    if (adverts.length + outdated > 1) throw PairingError.codeAttacked(adverts.length + outdated)
    if (adverts.length === 1) return adverts[0]!
    if (outdated > 0) throw PairingError.peerOutdated()
    throw withdrawn ? PairingError.withdrawn() : PairingError.notFound()
  }

  /**
   * Pairs with `advert`, reconnecting while the code is untried (no tag sent) and the advertiser answers
   * `PAIRING_BUSY` (another joiner holds it) or the connection is lost (`PAIRING_CONNECTION_LOST`, e.g.
   * a lossy path's segments lost until the advertiser's handshake deadline), for up to
   * {@link RETRY_WINDOW_MS}, waiting 0.5 s, 1 s, 2 s, then 4 s between tries.
   */
  async #retryUntried(advert: Advert): Promise<PairedDevice> {
    const giveUpAt = Date.now() + RETRY_WINDOW_MS
    for (let delay = RETRY_DELAY_MS; ; delay = Math.min(2 * delay, RETRY_MAX_DELAY_MS)) {
      try {
        return await this.#pairWith(advert)
      } catch (err) {
        const error = asPairingError(err)
        const retry = RETRIED.includes(error.code) && this.#recorded === undefined
        if (!retry || Date.now() + delay > giveUpAt || this.#abort.signal.aborted) throw error
      }
      await sleep(delay, undefined, { signal: this.#abort.signal })
    }
  }

  async #pairWith(advert: Advert): Promise<PairedDevice> {
    const { identity, deviceInfo, confirm, store } = this.#options
    this.events.push({ type: 'found', addresses: advert.addresses })
    const open = this.#options.openChannel ?? openPairingChannel
    const secure: Securer = (duplex, signal) => open(duplex, { role: 'initiator', signal })
    const { channel, address, path } = this.#options.connectAdvert
      ? await this.#options.connectAdvert(advert, secure, this.#abort.signal)
      : await connectFirst(advert.addresses, this.#options.connect ?? tcpConnect, secure, this.#abort.signal)
    this.events.push({
      type: 'peer-connected',
      address: formatAddress(address),
      ...(path === undefined ? {} : { path }),
      ...(address.transport === 'relay' ? { relayed: true } : {}),
    })
    const handshake = new PairingHandshake({
      role: 'joiner',
      code: this.#code,
      advertKey: advert.key,
      handshakeHash: channel.handshakeHash,
      identity: identity.keyPair,
      localSessionKey: channel.localStaticKey,
      remoteSessionKey: channel.remoteStaticKey,
      deviceInfo,
      confirmSas: confirm !== undefined,
      random: this.#options.random ?? randomBytes,
      now: Date.now(),
      beforeTag: () => {
        this.#recorded = this.#options.usedCodes?.add(this.#code) ?? Promise.resolve()
      },
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
