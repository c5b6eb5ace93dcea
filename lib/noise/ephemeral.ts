import { X25519KeyPair } from '../crypto/index.js'

/** What a HandshakeState needs of a key pair: its public key and X25519 with a peer key (Noise §4.1 DH). */
export interface DhKeyPair {
  readonly publicKey: Uint8Array
  dh(peerPublicKey: Uint8Array): Uint8Array
}

/** Key pairs kept ready: enough for a burst of simultaneous handshakes, few enough to be negligible. */
export const EPHEMERAL_POOL_SIZE = 8

/**
 * Fresh X25519 key pairs for handshakes (Noise §4.1 GENERATE_KEYPAIR), generated inside OpenSSL ahead of
 * need. Generating one costs about as much as two DHs, and it sits on the handshake's critical path: each
 * side needs its key before it can write its first message. The pool moves that work to when the process
 * is otherwise idle, {@link fill} being called by the I/O layer after the message went out
 * (`spec/noise.md` §2.5). Each pair is handed out once and then forgotten; an empty pool generates on the
 * spot. No timers or I/O here: the caller decides when to fill.
 */
export class EphemeralPool {
  readonly #ready: DhKeyPair[] = []
  readonly #size: number

  constructor(size = EPHEMERAL_POOL_SIZE) {
    this.#size = size
  }

  /** Key pairs ready now. */
  get available(): number {
    return this.#ready.length
  }

  /** True when {@link fill} has nothing to do. */
  get full(): boolean {
    return this.#ready.length >= this.#size
  }

  /** A key pair no handshake has had before: a precomputed one, or a new one when none is ready. */
  take(): DhKeyPair {
    return this.#ready.pop() ?? X25519KeyPair.generate()
  }

  /** Generates key pairs until the pool is full; returns how many it made. */
  fill(): number {
    const missing = this.#size - this.#ready.length
    for (let i = 0; i < missing; i++) this.#ready.push(X25519KeyPair.generate())
    return missing
  }
}

/** The process's pool: every HandshakeState without a given `e` takes from it. */
export const ephemeralPool = new EphemeralPool()

/** A fresh ephemeral key pair for one handshake (from {@link ephemeralPool}); its private half never leaves OpenSSL. */
export function generateEphemeral(): DhKeyPair {
  return ephemeralPool.take()
}
