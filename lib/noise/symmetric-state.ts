import { noiseHkdf, sha256, utf8 } from '../crypto/index.js'
import { CipherState } from './cipher-state.js'
import { HASHLEN, KEYLEN } from './constants.js'

/**
 * Noise SymmetricState (revision 34 §5.2): the chaining key `ck`, the handshake hash `h` and a
 * {@link CipherState}, with SHA-256 as HASH and HMAC-SHA256 HKDF (§4.3).
 */
export class SymmetricState {
  ck: Uint8Array
  h: Uint8Array
  readonly cipherState = new CipherState()

  /** InitializeSymmetric(protocol_name): `h` = the name zero-padded to HASHLEN, or its hash when longer. */
  constructor(protocolName: string) {
    const name = utf8(protocolName)
    this.h = name.length <= HASHLEN ? padded(name) : sha256(name)
    this.ck = this.h
    this.cipherState.initializeKey(undefined)
  }

  /** MixKey(ikm): `ck, temp_k = HKDF(ck, ikm, 2)`; InitializeKey(temp_k truncated to 32 bytes). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = noiseHkdf(this.ck, inputKeyMaterial, 2)
    this.ck = ck
    this.cipherState.initializeKey(tempK.subarray(0, KEYLEN))
  }

  /** MixHash(data): `h = HASH(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.h = sha256(this.h, data)
  }

  /** MixKeyAndHash(ikm): for psk tokens (Noise §9). */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = noiseHkdf(this.ck, inputKeyMaterial, 3)
    this.ck = ck
    this.mixHash(tempH)
    this.cipherState.initializeKey(tempK.subarray(0, KEYLEN))
  }

  /** GetHandshakeHash(): `h`, for channel binding once the handshake is over (Noise §11.2). */
  getHandshakeHash(): Uint8Array {
    return this.h
  }

  /** EncryptAndHash(plaintext): encrypts with `h` as associated data, then mixes the ciphertext into `h`. */
  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ciphertext = this.cipherState.encryptWithAd(this.h, plaintext)
    this.mixHash(ciphertext)
    return ciphertext
  }

  /** DecryptAndHash(ciphertext): decrypts with `h` as associated data, then mixes the ciphertext into `h`. */
  decryptAndHash(ciphertext: Uint8Array): Uint8Array {
    const plaintext = this.cipherState.decryptWithAd(this.h, ciphertext)
    this.mixHash(ciphertext)
    return plaintext
  }

  /** Split(): the initiator's sending and the responder's sending CipherStates, in that order. */
  split(): [CipherState, CipherState] {
    const [tempK1, tempK2] = noiseHkdf(this.ck, new Uint8Array(0), 2)
    return [cipherStateOf(tempK1), cipherStateOf(tempK2)]
  }
}

function padded(name: Uint8Array): Uint8Array {
  const h = new Uint8Array(HASHLEN)
  h.set(name)
  return h
}

function cipherStateOf(key: Uint8Array): CipherState {
  const cipherState = new CipherState()
  cipherState.initializeKey(key.subarray(0, KEYLEN))
  return cipherState
}
