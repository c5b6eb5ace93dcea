import { concatBytes } from '../crypto/index.js'
import { PairctlError } from '../errors.js'
import type { CipherState } from './cipher-state.js'
import { DHLEN, MAX_MESSAGE_LENGTH, SUITE, TAGLEN } from './constants.js'
import { type DhKeyPair, generateEphemeral } from './ephemeral.js'
import { NoiseError } from './errors.js'
import { type HandshakePattern, handshakePattern, type Token } from './patterns.js'
import { SymmetricState } from './symmetric-state.js'

/** Arguments of Initialize (Noise §5.3), by spec name. */
export interface HandshakeOptions {
  /** Pattern name, e.g. `XX`, `IK`, `XXpsk3` (see {@link handshakePattern}). */
  pattern: string
  initiator: boolean
  prologue: Uint8Array
  /** Local static key pair. */
  s?: DhKeyPair
  /** Local ephemeral key pair: for pre-messages and for test vectors; otherwise generated when written. */
  e?: DhKeyPair
  /** Remote static public key, when a pre-message makes it known. */
  rs?: Uint8Array
  /** Remote ephemeral public key, when a pre-message makes it known. */
  re?: Uint8Array
  /** Pre-shared keys (32 bytes each), consumed in order by `psk` tokens (Noise §9). */
  psks?: Uint8Array[]
}

/** The two CipherStates of Split(): `send` encrypts this side's messages, `receive` decrypts the peer's. */
export interface TransportKeys {
  send: CipherState
  receive: CipherState
}

/**
 * Noise HandshakeState (revision 34 §5.3) for `Noise_*_25519_ChaChaPoly_SHA256`, driven by a pattern given
 * as data. After the last message, {@link split} returns the transport CipherStates and
 * {@link getHandshakeHash} the channel-binding value (§11.2). Any error leaves the state unusable: the caller
 * must abort the handshake (§5.3).
 */
export class HandshakeState {
  readonly pattern: HandshakePattern
  readonly initiator: boolean
  readonly symmetricState: SymmetricState
  s: DhKeyPair | undefined
  e: DhKeyPair | undefined
  rs: Uint8Array | undefined
  re: Uint8Array | undefined
  readonly #psks: Uint8Array[]
  #next = 0
  #failed = false

  /** Initialize(): mixes the protocol name, the prologue and the pre-message public keys into `h`. */
  constructor(options: HandshakeOptions) {
    this.pattern = handshakePattern(options.pattern)
    this.initiator = options.initiator
    this.symmetricState = new SymmetricState(`Noise_${this.pattern.name}_${SUITE}`)
    this.symmetricState.mixHash(options.prologue)
    this.s = options.s
    this.e = options.e
    this.rs = options.rs
    this.re = options.re
    this.#psks = [...(options.psks ?? [])]
    this.#mixPremessage(this.pattern.premessages.initiator, this.initiator)
    this.#mixPremessage(this.pattern.premessages.responder, !this.initiator)
  }

  /** True when this side writes the next message. */
  get isMyTurn(): boolean {
    return !this.isFinished && this.pattern.messages[this.#next]!.fromInitiator === this.initiator
  }

  /** True once every message of the pattern was written or read. */
  get isFinished(): boolean {
    return this.#next === this.pattern.messages.length
  }

  /** Index of the next message in the pattern (0-based). */
  get messageIndex(): number {
    return this.#next
  }

  /** WriteMessage(payload): the next handshake message, with `payload` encrypted once a key exists. */
  writeMessage(payload: Uint8Array): Uint8Array {
    return this.#step(true, () => {
      const parts = this.pattern.messages[this.#next]!.tokens.map((token) => this.#writeToken(token))
      parts.push(this.symmetricState.encryptAndHash(payload))
      const message = concatBytes(...parts)
      if (message.length > MAX_MESSAGE_LENGTH)
        throw NoiseError.tooLarge('Noise message', message.length, MAX_MESSAGE_LENGTH)
      return message
    })
  }

  /** ReadMessage(message): processes the peer's next handshake message and returns its decrypted payload. */
  readMessage(message: Uint8Array): Uint8Array {
    return this.#step(false, () => {
      if (message.length > MAX_MESSAGE_LENGTH) throw NoiseError.badMessage('longer than 65535 bytes')
      const reader = { message, offset: 0 }
      for (const token of this.pattern.messages[this.#next]!.tokens) this.#readToken(token, reader)
      return this.symmetricState.decryptAndHash(message.subarray(reader.offset))
    })
  }

  /** Split() (§5.2), once finished: `send` is the initiator's c1 for the initiator, c2 for the responder. */
  split(): TransportKeys {
    if (!this.isFinished || this.#failed) throw NoiseError.misuse('split() before the handshake finished')
    const [c1, c2] = this.symmetricState.split()
    return this.initiator ? { send: c1, receive: c2 } : { send: c2, receive: c1 }
  }

  /** The handshake hash `h` (§11.2): unique to this session, for channel binding. */
  getHandshakeHash(): Uint8Array {
    return this.symmetricState.getHandshakeHash()
  }

  #step<T>(writing: boolean, run: () => T): T {
    if (this.#failed) throw NoiseError.misuse('handshake already failed')
    if (this.isFinished || this.isMyTurn !== writing)
      throw NoiseError.misuse(`${writing ? 'writeMessage' : 'readMessage'} out of turn`)
    try {
      const result = run()
      this.#next++
      return result
    } catch (err) {
      this.#failed = true
      throw err instanceof PairctlError ? err : NoiseError.badMessage(String(err))
    }
  }

  #mixPremessage(tokens: readonly Token[], local: boolean): void {
    for (const token of tokens) {
      const key = token === 'e' ? (local ? this.e?.publicKey : this.re) : local ? this.s?.publicKey : this.rs
      if (key === undefined)
        throw NoiseError.misuse(`pre-message key ${token} missing for ${this.pattern.name}`)
      this.symmetricState.mixHash(key)
      if (token === 'e' && this.pattern.psk) this.symmetricState.mixKey(key)
    }
  }

  #writeToken(token: Token): Uint8Array {
    if (token === 'e') return this.#writeEphemeral()
    if (token === 's') return this.symmetricState.encryptAndHash(this.#local('s').publicKey)
    this.#mixToken(token)
    return new Uint8Array(0)
  }

  #writeEphemeral(): Uint8Array {
    this.e ??= generateEphemeral()
    this.#mixEphemeral(this.e.publicKey)
    return this.e.publicKey
  }

  #readToken(token: Token, reader: { message: Uint8Array; offset: number }): void {
    if (token === 'e') {
      this.re = take(reader, DHLEN, 'e')
      this.#mixEphemeral(this.re)
    } else if (token === 's') {
      const length = this.symmetricState.cipherState.hasKey() ? DHLEN + TAGLEN : DHLEN
      this.rs = new Uint8Array(this.symmetricState.decryptAndHash(take(reader, length, 's')))
    } else this.#mixToken(token)
  }

  #mixEphemeral(publicKey: Uint8Array): void {
    this.symmetricState.mixHash(publicKey)
    if (this.pattern.psk) this.symmetricState.mixKey(publicKey)
  }

  /** The DH and psk tokens (§5.3, §9.2): `es` is DH(e, rs) for the initiator and DH(s, re) for the responder. */
  #mixToken(token: Token): void {
    if (token === 'psk') {
      this.symmetricState.mixKeyAndHash(this.#takePsk())
    } else {
      const [local, remote] = this.#dhRoles(token)
      this.symmetricState.mixKey(this.#dh(this.#local(local), remote === 'e' ? this.re : this.rs))
    }
  }

  #dhRoles(token: Token): ['e' | 's', 'e' | 's'] {
    if (token === 'ee' || token === 'ss') return [token[0] as 'e' | 's', token[0] as 'e' | 's']
    const initiatorSide = token === 'es' ? 'e' : 's'
    const responderSide = token === 'es' ? 's' : 'e'
    return this.initiator ? [initiatorSide, responderSide] : [responderSide, initiatorSide]
  }

  #dh(local: DhKeyPair, remote: Uint8Array | undefined): Uint8Array {
    if (remote === undefined) throw NoiseError.misuse('remote key missing for DH')
    try {
      return local.dh(remote)
    } catch (cause) {
      throw NoiseError.badKey(cause)
    }
  }

  #local(which: 'e' | 's'): DhKeyPair {
    const key = which === 'e' ? this.e : this.s
    if (key === undefined) throw NoiseError.misuse(`local ${which} key missing for ${this.pattern.name}`)
    return key
  }

  #takePsk(): Uint8Array {
    const psk = this.#psks.shift()
    if (psk?.length !== 32) throw NoiseError.misuse('a 32-byte psk is required')
    return psk
  }
}

function take(reader: { message: Uint8Array; offset: number }, length: number, what: string): Uint8Array {
  if (reader.message.length - reader.offset < length) throw NoiseError.badMessage(`too short for ${what}`)
  const bytes = reader.message.subarray(reader.offset, reader.offset + length)
  reader.offset += length
  return bytes
}
