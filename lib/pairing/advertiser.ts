import type { Server } from 'node:net'
import { Ed25519KeyPair, randomBytes } from '../crypto/index.js'
import { type AdvertAddress, wireAddress } from './advert.js'
import { openPairingChannel } from './channel.js'
import { generateCode, type PairingCode, type RandomSource } from './code.js'
import { DEFAULT_MAX_ATTEMPTS, DEFAULT_TTL_MS, MAX_ATTEMPTS_LIMIT, MAX_TTL_MS } from './constants.js'
import { type IncomingPairing, PairingDispatcher, refuse } from './dispatcher.js'
import { driveHandshake } from './driver.js'
import { PairingError, type WireErrorCode } from './errors.js'
import { EventLog } from './events.js'
import { type HandshakeEvent, PairingHandshake, type PeerInfo } from './handshake.js'
import { publishAdvert } from './rendezvous.js'
import { AdvertiserSession } from './session.js'
import type { PairedDevice } from './store.js'
import type { CommonPairingOptions, PairingDht, PairingSession } from './types.js'

/** Options of {@link generatePairing} (`spec/pairing.md` §8). */
export interface GeneratePairingOptions extends CommonPairingOptions {
  dht: PairingDht
  /** A listening TCP server (shared by concurrent pairings), or a dispatcher fed by the caller. */
  listener: Server | PairingDispatcher
  /** Where joiners can reach the listener, best first (TCP unless an address names its transport). */
  addresses: ReadonlyArray<{ host: string; port: number } | AdvertAddress>
  /** Words in the code (default 5: 2 rendezvous + 3 secret). */
  words?: number
  /** Advertisement lifetime, default 5 min, at most 15 min. */
  ttlMs?: number
  /** Wrong codes tolerated before the code burns: default 1, at most 3. */
  maxAttempts?: number
  /** Randomness (code words, advert key, CPace scalars); the CSPRNG unless a test injects one. */
  random?: RandomSource
  /**
   * Called once advertised, e.g. to answer hole-punch requests for this advert (`spec/holepunch.md`
   * §4): `signal` aborts when the session ends; `fail` ends it with an error (the joiner found no path).
   */
  onAdvertised?: (advertised: AdvertisedSession) => void
}

/** What {@link GeneratePairingOptions.onAdvertised} gets. */
export interface AdvertisedSession {
  /** The advertisement key pair (its public key is the advert's `key`). */
  keyPair: Ed25519KeyPair
  signal: AbortSignal
  fail(error: PairingError): void
}

/**
 * Generates a code and advertises it (`spec/pairing.md` §7.2): draws the words, publishes the signed
 * advertisement under a free rendezvous key, then waits for a joiner. Resolves once advertised (the
 * code is final); `result` settles when a joiner paired, the code burned, expired or was cancelled —
 * the advertisement is withdrawn first in every case.
 */
export async function generatePairing(options: GeneratePairingOptions): Promise<PairingSession> {
  const ttlMs = checkRange('ttlMs', options.ttlMs ?? DEFAULT_TTL_MS, 1_000, MAX_TTL_MS)
  const maxAttempts = checkRange(
    'maxAttempts',
    options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    1,
    MAX_ATTEMPTS_LIMIT,
  )
  if (options.signal?.aborted) throw PairingError.cancelled()
  const random = options.random ?? randomBytes
  const keyPair = Ed25519KeyPair.fromSeed(random(32))
  const expiresAt = Date.now() + ttlMs
  const addresses = options.addresses.map(
    (a): AdvertAddress =>
      'transport' in a ? wireAddress(a) : { host: a.host, port: a.port, transport: 'tcp' },
  )
  const published = await publishAdvert(options.dht, {
    code: generateCode(options.words, random),
    keyPair,
    addresses,
    expiresAt,
    random,
    signal: options.signal,
  })
  const run = new AdvertiserRun(options, { code: published.code, keyPair, expiresAt, maxAttempts, random })
  run.start(addresses, published.withdraw)
  return run
}

interface RunParams {
  code: PairingCode
  keyPair: Ed25519KeyPair
  expiresAt: number
  maxAttempts: number
  random: RandomSource
}

/** The I/O side of one advertiser session. */
class AdvertiserRun implements PairingSession {
  readonly events = new EventLog()
  readonly result: Promise<PairedDevice>
  readonly #options: GeneratePairingOptions
  readonly #params: RunParams
  readonly #core: AdvertiserSession
  readonly #dispatcher: PairingDispatcher
  readonly #abort = new AbortController()
  #settle!: { resolve(device: PairedDevice): void; reject(err: PairingError): void }
  #timer: NodeJS.Timeout | undefined
  #withdraw: () => Promise<void> = async () => {}
  #finished = false

  constructor(options: GeneratePairingOptions, params: RunParams) {
    this.#options = options
    this.#params = params
    this.#core = new AdvertiserSession({ expiresAt: params.expiresAt, maxAttempts: params.maxAttempts })
    const open = options.openChannel ?? openPairingChannel
    this.#dispatcher =
      options.listener instanceof PairingDispatcher
        ? options.listener
        : PairingDispatcher.forServer(options.listener, open)
    this.result = new Promise((resolve, reject) => (this.#settle = { resolve, reject }))
    this.result.catch(() => {})
  }

  /** The advertised code. */
  get code(): string {
    return this.#params.code.text
  }

  /** Announces the code and starts accepting joiners. */
  start(addresses: AdvertAddress[], withdraw: () => Promise<void>): void {
    this.#withdraw = withdraw
    this.events.push({ type: 'code', code: this.code, expiresAt: this.#params.expiresAt })
    this.events.push({ type: 'advertised', addresses })
    this.#dispatcher.register(this.#params.keyPair.publicKey, this.#onIncoming, this.#params.code)
    this.#timer = setTimeout(this.#onExpiry, Math.max(0, this.#params.expiresAt - Date.now()))
    this.#options.signal?.addEventListener('abort', this.cancel)
    if (this.#options.signal?.aborted) this.cancel()
    this.#options.onAdvertised?.({
      keyPair: this.#params.keyPair,
      signal: this.#abort.signal,
      fail: (error) => this.#finish(async () => Promise.reject(error)),
    })
  }

  /** Cancels the session. */
  readonly cancel = (): void => {
    this.#core.cancel()
    this.#abort.abort()
    this.#check()
  }

  readonly #onExpiry = (): void => {
    this.#core.handleTimeout(Date.now())
    this.#check()
  }

  readonly #onIncoming = ({ channel, hello, messages, address, path }: IncomingPairing): void => {
    if (!this.#core.admit()) {
      refuse(channel, 'PAIRING_BUSY')
      return
    }
    this.events.push({ type: 'peer-connected', address, ...(path === undefined ? {} : { path }) })
    const handshake = new PairingHandshake({
      role: 'advertiser',
      code: this.#params.code,
      advertKey: this.#params.keyPair.publicKey,
      handshakeHash: channel.handshakeHash,
      identity: this.#options.identity.keyPair,
      localSessionKey: channel.localStaticKey,
      remoteSessionKey: channel.remoteStaticKey,
      deviceInfo: this.#options.deviceInfo,
      confirmSas: this.#options.confirm !== undefined,
      random: this.#params.random,
      now: Date.now(),
    })
    driveHandshake(channel, handshake, {
      first: hello,
      messages,
      confirm: this.#options.confirm,
      signal: this.#abort.signal,
      onEvent: this.#onHandshakeEvent,
    }).then(this.#paired, () => {})
  }

  readonly #onHandshakeEvent = (event: HandshakeEvent): void => {
    if (event.type === 'verifying' || event.type === 'sas') this.events.push(event)
    const action = this.#core.handshakeEvent(event, Date.now())
    if (event.type === 'failed' && event.attempt && action === 'retry')
      this.events.push({
        type: 'attempt-failed',
        remaining: this.#core.remainingAttempts,
        reason: event.error.code === 'PAIRING_WRONG_CODE' ? 'wrong-code' : 'abandoned',
      })
    this.#check()
  }

  readonly #paired = (peer: PeerInfo): void => {
    const device: PairedDevice = { ...peer, pairedAt: Date.now(), addresses: [] }
    this.#finish(async () => {
      await this.#options.store?.add(device)
      return device
    })
  }

  /** Ends the run when the core reached a final state other than paired. */
  #check(): void {
    const error = this.#core.error
    if (this.#core.isOver && error !== undefined)
      this.#finish(async () => {
        throw error
      })
  }

  #finish(outcome: () => Promise<PairedDevice>): void {
    if (this.#finished) return
    this.#finished = true
    clearTimeout(this.#timer)
    this.#options.signal?.removeEventListener('abort', this.cancel)
    this.#dispatcher.unregister(this.#params.keyPair.publicKey, retiredReason(this.#core.error))
    this.#abort.abort()
    this.#withdraw()
      .catch(() => {})
      .then(outcome)
      .then(
        (device) => {
          this.events.push({ type: 'paired', device })
          this.events.end()
          this.#settle.resolve(device)
        },
        (err) => {
          const error = err instanceof PairingError ? err : PairingError.storeIo('devices.json', err)
          this.events.push({ type: 'failed', error })
          this.events.end()
          this.#settle.reject(error)
        },
      )
  }
}

/** What a late joiner is told about an ended session. */
function retiredReason(error: PairingError | undefined): WireErrorCode {
  if (error?.code === 'PAIRING_CODE_BURNED') return 'PAIRING_CODE_BURNED'
  if (error?.code === 'PAIRING_CANCELLED') return 'PAIRING_CANCELLED'
  return 'PAIRING_NOT_FOUND'
}

function checkRange(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max)
    throw PairingError.badOption(`${name} must be an integer from ${min} to ${max}, not ${value}`)
  return value
}
