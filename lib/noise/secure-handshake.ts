import { concatBytes, type Ed25519KeyPair, equalBytes, utf8 } from '../crypto/index.js'
import { PROLOGUE_LABEL } from './constants.js'
import type { DhKeyPair } from './ephemeral.js'
import { NoiseError } from './errors.js'
import { HandshakeState, type TransportKeys } from './handshake-state.js'
import type { HandshakePattern } from './patterns.js'
import { encodeHandshakePayload, type VerifiedIdentity, verifyHandshakePayload } from './payload.js'
import { deriveStaticKey } from './static-key.js'

/** The patterns a pairctl channel runs (`spec/noise.md` §2.1): XX for first contact, IK for reconnects. */
export type ChannelPattern = 'XX' | 'IK' | 'KK'

/** How one side of a pairctl handshake is set up. */
export interface SecureHandshakeOptions {
  role: 'initiator' | 'responder'
  /**
   * This device's identity, bound to the static key by the identity payload. Omit it for an
   * **anonymous** handshake (`spec/noise.md` §2.7, pairing): no identity payload either way, every
   * payload empty, `staticKey` required (a fresh per-session key), and the result carries no identity.
   */
  identity?: Ed25519KeyPair
  /** Default `XX`. */
  pattern?: ChannelPattern
  /** Default: {@link deriveStaticKey}(identity); required without `identity`. */
  staticKey?: DhKeyPair
  /** The peer's Noise static public key: required for the IK initiator and both KK sides. */
  remoteStaticKey?: Uint8Array
  /** Purpose bytes appended to the prologue label (e.g. utf8('pairing')); both sides must agree. */
  prologue?: Uint8Array
  /** Application bytes carried (encrypted) in this side's identity payload. */
  payload?: Uint8Array
  /** When set, the handshake fails with NOISE_BAD_IDENTITY unless the peer proves this identity key. */
  remoteIdentityKey?: Uint8Array
  /** A fixed ephemeral key: for test vectors only (`spec/vectors/noise/pairctl-xx.json`). */
  ephemeralKey?: DhKeyPair
}

/** What a finished handshake established. */
export interface HandshakeResult {
  /** Noise `h` (§11.2), for channel binding: equal on both sides, unique per session. */
  handshakeHash: Uint8Array
  /** The peer's verified Ed25519 identity key; empty (0 bytes) after an anonymous handshake. */
  remoteIdentityKey: Uint8Array
  /** Computed from the verified identity key, never taken from the peer's word; '' when anonymous. */
  remoteDeviceId: string
  remoteStaticKey: Uint8Array
  remotePayload: Uint8Array | undefined
  transport: TransportKeys
}

/** The prologue of a pairctl handshake (`spec/noise.md` §2.2): label || 0x00 || purpose. */
export function channelPrologue(purpose: Uint8Array = new Uint8Array(0)): Uint8Array {
  return concatBytes(utf8(PROLOGUE_LABEL), Uint8Array.of(0), purpose)
}

/**
 * A pairctl handshake (`spec/noise.md` §2), sans-I/O: a Noise {@link HandshakeState} whose payloads bind each
 * side's Ed25519 identity to its Noise static key. Each side sends its identity payload in the first message
 * where its static key is known to the peer and the payload is encrypted; every other payload is empty.
 */
export class SecureHandshake {
  readonly state: HandshakeState
  readonly #options: SecureHandshakeOptions
  readonly #identityMessage: { local: number; remote: number }
  #remote: VerifiedIdentity | undefined

  constructor(options: SecureHandshakeOptions) {
    const initiator = options.role === 'initiator'
    const s = options.staticKey ?? (options.identity ? deriveStaticKey(options.identity) : undefined)
    if (s === undefined) throw NoiseError.misuse('an anonymous handshake needs a staticKey')
    const pattern = options.pattern ?? 'XX'
    const rs = pattern === 'XX' ? undefined : options.remoteStaticKey
    const prologue = channelPrologue(options.prologue)
    this.state = new HandshakeState({ pattern, initiator, prologue, s, rs, e: options.ephemeralKey })
    this.#options = options
    this.#identityMessage =
      options.identity === undefined
        ? { local: -1, remote: -1 }
        : {
            local: identityMessageIndex(this.state.pattern, initiator),
            remote: identityMessageIndex(this.state.pattern, !initiator),
          }
  }

  /** True for a handshake without identity payloads (no `identity` given). */
  get anonymous(): boolean {
    return this.#options.identity === undefined
  }

  /** True when this side writes the next message. */
  get isMyTurn(): boolean {
    return this.state.isMyTurn
  }

  /** True once the pattern's last message was written or read. */
  get isFinished(): boolean {
    return this.state.isFinished
  }

  /** The next handshake message, with the identity payload when it is this side's turn to prove itself. */
  writeMessage(): Uint8Array {
    const index = this.state.messageIndex
    const { identity, payload } = this.#options
    if (identity === undefined || index !== this.#identityMessage.local)
      return this.state.writeMessage(new Uint8Array(0))
    return this.state.writeMessage(encodeHandshakePayload(identity, this.state.s!.publicKey, payload))
  }

  /** Reads the peer's next message; verifies its identity payload when this message must carry one. */
  readMessage(message: Uint8Array): void {
    const index = this.state.messageIndex
    const payload = this.state.readMessage(message)
    if (index !== this.#identityMessage.remote) {
      if (payload.length !== 0) throw NoiseError.badPayload(`message ${index} must have an empty payload`)
      return
    }
    this.#remote = verifyHandshakePayload(payload, this.state.rs!)
    const expected = this.#options.remoteIdentityKey
    if (expected !== undefined && !equalBytes(expected, this.#remote.identityKey))
      throw NoiseError.badIdentity('the peer is not the expected device')
  }

  /** The established session, once finished. */
  result(): HandshakeResult {
    if (!this.isFinished || (this.#remote === undefined && !this.anonymous))
      throw NoiseError.misuse('handshake not finished')
    return {
      handshakeHash: this.state.getHandshakeHash(),
      remoteIdentityKey: this.#remote?.identityKey ?? new Uint8Array(0),
      remoteDeviceId: this.#remote?.deviceId ?? '',
      remoteStaticKey: this.state.rs!,
      remotePayload: this.#remote?.application,
      transport: this.state.split(),
    }
  }
}

/**
 * The first message sent by one side whose payload is encrypted and after which the peer knows that side's
 * static key (pre-message or an `s` token so far): XX → 1 (responder), 2 (initiator); IK/KK → 0 and 1.
 */
function identityMessageIndex(pattern: HandshakePattern, fromInitiator: boolean): number {
  let staticKnown = (fromInitiator ? pattern.premessages.initiator : pattern.premessages.responder).includes(
    's',
  )
  let keyed = false
  for (const [index, message] of pattern.messages.entries()) {
    keyed ||= message.tokens.some((token) => token !== 'e' && token !== 's')
    if (message.fromInitiator !== fromInitiator) continue
    staticKnown ||= message.tokens.includes('s')
    if (staticKnown && keyed) return index
  }
  throw NoiseError.misuse(
    `${pattern.name} does not authenticate the ${fromInitiator ? 'initiator' : 'responder'}`,
  )
}
