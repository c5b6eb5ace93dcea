import { type Ed25519KeyPair, equalBytes, randomBytes } from '../crypto/index.js'
import { deviceIdFromPublicKey } from '../identity/device-id.js'
import { codePassword, type PairingCode, type RandomSource } from './code.js'
import {
  confirmationTag,
  cpaceChannelId,
  type PairingRole,
  presenceSecret,
  shortAuthString,
  signIdentity,
  verifyIdentity,
} from './confirmation.js'
import { CONFIRM_TIMEOUT_MS, PROTOCOL_VERSION, SAS_TIMEOUT_MS, STEP_TIMEOUT_MS } from './constants.js'
import { calculateGenerator, cpaceShare, deriveIsk, sampleScalar } from './cpace.js'
import { PairingError, WIRE_ERROR_CODES, type WireErrorCode } from './errors.js'
import { decodeMessage, encodeMessage, type MessageOf, type PairingMessage } from './messages.js'

/**
 * The in-channel pairing protocol of one connection, sans-I/O (`spec/pairing.md` §5, §7): fed the
 * peer's messages and the time, it yields messages to send, events and its next deadline. It runs
 * after the anonymous Noise XX handshake, which supplies the handshake hash (CPace sid) and both
 * per-session static keys (CPace AD). Identity keys travel only in `accept`, after the tags verified.
 * @module
 */

/** States of one pairing connection (`spec/pairing.md` §7.1). */
export type HandshakeState =
  | 'await-hello'
  | 'await-share'
  | 'await-confirm'
  | 'confirmed'
  | 'paired'
  | 'failed'

/** What this device tells the peer about itself, only after key confirmation. */
export interface DeviceInfo {
  name: string
  type: string
}

/** The peer as pairing established it: the key proved by its signature over this session, the ID computed from it. */
export interface PeerInfo extends DeviceInfo {
  identityKey: Uint8Array
  deviceId: string
  /** The pair's shared presence secret (`spec/pairing.md` §6.4), known only to the two devices. */
  presenceSecret: Uint8Array
}

/** Events of {@link PairingHandshake}, in order. */
export type HandshakeEvent =
  | { type: 'verifying' }
  | { type: 'sas'; sas: string }
  | { type: 'paired'; peer: PeerInfo }
  /** `attempt` is true when this failure spent a guess (a confirmation tag that did not verify). */
  | { type: 'failed'; error: PairingError; attempt: boolean }

/** Inputs of one pairing connection. */
export interface HandshakeOptions {
  role: PairingRole
  code: PairingCode
  /** Public key of the advertisement the joiner resolved: selects the session and goes into CI. */
  advertKey: Uint8Array
  /** Noise handshake hash: the CPace sid. */
  handshakeHash: Uint8Array
  /** This device's identity: signs the session in `accept`. */
  identity: Ed25519KeyPair
  /** This side's per-session Noise static public key (CPace AD of this side). */
  localSessionKey: Uint8Array
  /** The peer's per-session Noise static public key, as Noise delivered it (CPace AD of the peer). */
  remoteSessionKey: Uint8Array
  deviceInfo: DeviceInfo
  /**
   * Joiner: called synchronously just before the confirmation tag is queued, so the caller records the
   * code as used before any party can test a guess against it (`spec/pairing.md` §7.3).
   */
  beforeTag?: () => void
  /** Wait for {@link PairingHandshake.decide} after showing the SAS; otherwise accept at once. */
  confirmSas: boolean
  random?: RandomSource
  now: number
}

type MessageType = PairingMessage['type']

/** The transition table: which messages each state accepts (`spec/pairing.md` §7.1). */
const EXPECTED: Readonly<Record<HandshakeState, readonly MessageType[]>> = {
  'await-hello': ['hello', 'error'],
  'await-share': ['share', 'error'],
  'await-confirm': ['confirm', 'error'],
  confirmed: ['accept', 'error'],
  paired: [],
  failed: [],
}

/** The time each state may last before the connection fails with `PAIRING_TIMEOUT`. */
const STATE_TIMEOUT: Readonly<Record<HandshakeState, number>> = {
  'await-hello': STEP_TIMEOUT_MS,
  'await-share': STEP_TIMEOUT_MS,
  'await-confirm': CONFIRM_TIMEOUT_MS,
  confirmed: SAS_TIMEOUT_MS,
  paired: Number.POSITIVE_INFINITY,
  failed: Number.POSITIVE_INFINITY,
}

/**
 * One pairing connection (`spec/pairing.md` §5): joiner sends `hello` (Ya), advertiser `share` (Yb),
 * joiner `confirm` (Ta) first, advertiser `confirm` (Tb) only once Ta verified, then both `accept`
 * with device info once the local user accepted the SAS. Poll API: {@link receive},
 * {@link pollTransmit}, {@link nextEvent}, {@link pollTimeout}, {@link handleTimeout}.
 */
export class PairingHandshake {
  #state: HandshakeState
  #deadline = 0
  readonly #options: HandshakeOptions
  readonly #scalar: bigint
  readonly #generator: Uint8Array
  readonly #outbox: Uint8Array[] = []
  readonly #events: HandshakeEvent[] = []
  #share: Uint8Array | undefined
  #isk: Uint8Array | undefined
  #decided = false
  #peerAccept: MessageOf<'accept'> | undefined

  constructor(options: HandshakeOptions) {
    this.#options = options
    const { code, advertKey, handshakeHash } = options
    this.#generator = calculateGenerator(codePassword(code), cpaceChannelId(advertKey), handshakeHash)
    this.#scalar = sampleScalar(options.random ?? randomBytes)
    this.#state = 'await-hello'
    if (options.role === 'joiner') this.#sendHello(options.now)
    else this.#enter('await-hello', options.now)
  }

  /** The current state. */
  get state(): HandshakeState {
    return this.#state
  }

  /** Feeds one message from the peer. Malformed or out-of-order input fails the connection. */
  receive(bytes: Uint8Array, now: number): void {
    if (this.#isOver()) return
    try {
      const message = decodeMessage(bytes)
      if (!EXPECTED[this.#state].includes(message.type))
        throw PairingError.protocol(`unexpected '${message.type}' in state ${this.#state}`)
      this.#handle(message, now)
    } catch (err) {
      this.#fail(asPairingError(err), { send: true })
    }
  }

  /** The local user's answer to the SAS (only meaningful with `confirmSas`). */
  decide(accepted: boolean, now: number): void {
    if (this.#state !== 'confirmed' || this.#decided) return
    if (!accepted) {
      this.#fail(PairingError.rejected(false), { send: true })
      return
    }
    this.#decided = true
    const { deviceInfo, identity, role, handshakeHash } = this.#options
    const sig = signIdentity(identity, role, handshakeHash, this.#isk!)
    this.#send({
      v: PROTOCOL_VERSION,
      type: 'accept',
      name: deviceInfo.name,
      deviceType: deviceInfo.type,
      identity: identity.publicKey,
      sig,
    })
    this.#maybePaired(now)
  }

  /** Cancels locally: tells the peer, then fails with `PAIRING_CANCELLED`. */
  cancel(): void {
    if (!this.#isOver()) this.#fail(PairingError.cancelled(false), { send: true })
  }

  /** The transport closed before the protocol finished. */
  closed(): void {
    if (!this.#isOver()) this.#fail(PairingError.connectionLost(), { send: false })
  }

  /** The next message to send, if any. */
  pollTransmit(): Uint8Array | undefined {
    return this.#outbox.shift()
  }

  /** The next event, if any. */
  nextEvent(): HandshakeEvent | undefined {
    return this.#events.shift()
  }

  /** When {@link handleTimeout} must be called next; undefined once finished. */
  pollTimeout(): number | undefined {
    return this.#isOver() ? undefined : this.#deadline
  }

  /** Fails with `PAIRING_TIMEOUT` when the current state outlived its deadline. */
  handleTimeout(now: number): void {
    if (!this.#isOver() && now >= this.#deadline)
      this.#fail(PairingError.timeout(`waiting in state ${this.#state}`), { send: true })
  }

  #handle(message: PairingMessage, now: number): void {
    if (message.type === 'hello') this.#onHello(message, now)
    else if (message.type === 'share') this.#onShare(message, now)
    else if (message.type === 'confirm') this.#onConfirm(message, now)
    else if (message.type === 'accept') this.#onAccept(message, now)
    else if (message.type === 'error') this.#fail(PairingError.fromWire(message.code), { send: false })
  }

  #sendHello(now: number): void {
    this.#share = cpaceShare(this.#generator, this.#scalar)
    this.#send({ v: PROTOCOL_VERSION, type: 'hello', advert: this.#options.advertKey, share: this.#share })
    this.#enter('await-share', now)
  }

  /** Advertiser: the joiner's Ya arrives; answer with Yb. ADa is the joiner's per-session key. */
  #onHello(message: MessageOf<'hello'>, now: number): void {
    if (!equalBytes(message.advert, this.#options.advertKey)) throw PairingError.notFound()
    const yb = cpaceShare(this.#generator, this.#scalar)
    this.#isk = this.#deriveIsk(message.share, yb, message.share)
    this.#send({ v: PROTOCOL_VERSION, type: 'share', share: yb })
    this.#events.push({ type: 'verifying' })
    this.#enter('await-confirm', now)
  }

  /** Joiner: Yb arrives; the joiner confirms first, so every tested guess is visible to the advertiser (§12). */
  #onShare(message: MessageOf<'share'>, now: number): void {
    this.#isk = this.#deriveIsk(this.#share!, message.share, message.share)
    this.#events.push({ type: 'verifying' })
    this.#options.beforeTag?.()
    this.#send({ v: PROTOCOL_VERSION, type: 'confirm', mac: confirmationTag(this.#isk, 'joiner') })
    this.#enter('await-confirm', now)
  }

  /**
   * A tag that does not verify is a spent guess on the advertiser (it counts against `maxAttempts`);
   * on the joiner it means an impostor or a relay, and the code is not to be reused either way.
   * Only a verified Ta makes the advertiser reveal Tb (`spec/pairing.md` §6.2).
   */
  #onConfirm(message: MessageOf<'confirm'>, now: number): void {
    const peerRole = this.#options.role === 'joiner' ? 'advertiser' : 'joiner'
    if (!equalBytes(message.mac, confirmationTag(this.#isk!, peerRole))) {
      this.#fail(PairingError.wrongCode(), { send: true, attempt: this.#options.role === 'advertiser' })
      return
    }
    if (this.#options.role === 'advertiser')
      this.#send({ v: PROTOCOL_VERSION, type: 'confirm', mac: confirmationTag(this.#isk!, 'advertiser') })
    this.#enter('confirmed', now)
    this.#events.push({ type: 'sas', sas: shortAuthString(this.#isk!) })
    if (!this.#options.confirmSas) this.decide(true, now)
  }

  /**
   * The peer's identity arrives, after both tags verified: its signature must cover this session's
   * handshake hash and ISK in the peer's role, and it must not be this device's own identity.
   */
  #onAccept(message: MessageOf<'accept'>, now: number): void {
    const { role, handshakeHash, identity } = this.#options
    const peerRole = role === 'joiner' ? 'advertiser' : 'joiner'
    if (!verifyIdentity(message.identity, message.sig, peerRole, handshakeHash, this.#isk!))
      throw PairingError.protocol('the identity signature does not cover this session')
    if (equalBytes(message.identity, identity.publicKey)) throw PairingError.self()
    this.#peerAccept = message
    this.#maybePaired(now)
  }

  #maybePaired(now: number): void {
    if (!this.#decided || this.#peerAccept === undefined) return
    const { name, deviceType, identity: identityKey } = this.#peerAccept
    this.#enter('paired', now)
    this.#events.push({
      type: 'paired',
      peer: {
        identityKey,
        deviceId: deviceIdFromPublicKey(identityKey),
        name,
        type: deviceType,
        presenceSecret: presenceSecret(this.#isk!),
      },
    })
  }

  /** ISK with ADa = joiner's per-session key, ADb = advertiser's (`spec/pairing.md` §6.1). */
  #deriveIsk(ya: Uint8Array, yb: Uint8Array, peerShare: Uint8Array): Uint8Array {
    const { role, localSessionKey, remoteSessionKey, handshakeHash } = this.#options
    const [ada, adb] =
      role === 'joiner' ? [localSessionKey, remoteSessionKey] : [remoteSessionKey, localSessionKey]
    return deriveIsk({ sid: handshakeHash, scalar: this.#scalar, ya, ada, yb, adb, peerShare })
  }

  #send(message: PairingMessage): void {
    this.#outbox.push(encodeMessage(message))
  }

  #enter(state: HandshakeState, now: number): void {
    this.#state = state
    this.#deadline = now + STATE_TIMEOUT[state]
  }

  #isOver(): boolean {
    return this.#state === 'paired' || this.#state === 'failed'
  }

  /**
   * Ends the connection; `send` tells the peer why (unless the peer told us). On the advertiser, any
   * failure after it sent its share and before a right tag is a spent attempt: whoever holds Yb had
   * its chance to commit to a guess, and must not hold the session again for free (§7.2).
   */
  #fail(error: PairingError, how: { send: boolean; attempt?: boolean }): void {
    const abandoned = this.#options.role === 'advertiser' && this.#state === 'await-confirm' && error.remote
    this.#state = 'failed'
    if (how.send) this.#send({ v: PROTOCOL_VERSION, type: 'error', code: wireCode(error) })
    this.#events.push({ type: 'failed', error, attempt: (how.attempt ?? false) || abandoned })
  }
}

function asPairingError(err: unknown): PairingError {
  return err instanceof PairingError ? err : PairingError.protocol('internal error', err)
}

function wireCode(error: PairingError): WireErrorCode {
  return (WIRE_ERROR_CODES as readonly string[]).includes(error.code)
    ? (error.code as WireErrorCode)
    : 'PAIRING_PROTOCOL'
}
