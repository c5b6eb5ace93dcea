import { equalBytes, hmacSha256, randomBytes, utf8 } from '../crypto/index.js'
import { Domain, TOKEN_BYTES } from './constants.js'

const TOKEN_DOMAIN = utf8(`${Domain.TOKEN}\0`)

function randomSecret(): Uint8Array {
  return randomBytes(32)
}

/**
 * Write tokens as BEP 5 issues them (`spec/dht.md` §7.3): `HMAC-SHA256(secret, domain || endpoint)`
 * truncated to 16 bytes, where endpoint is the requester's compact address. Secrets rotate every
 * `rotateMs`; the current and previous one are accepted, so a token lives between one and two periods.
 * A secret is drawn when the first token of its period is issued: a node nobody asks for a token
 * holds none (§8.4).
 */
export class TokenIssuer {
  #current: Uint8Array | null = null
  #previous: Uint8Array | null = null
  #rotatesAt: number
  readonly #rotateMs: number
  readonly #secret: () => Uint8Array

  constructor(now: number, rotateMs: number, secret: () => Uint8Array = randomSecret) {
    this.#secret = secret
    this.#rotateMs = rotateMs
    this.#rotatesAt = now + rotateMs
  }

  /** When {@link rotate} is next due. */
  get rotatesAt(): number {
    return this.#rotatesAt
  }

  /** The token for the endpoint `address` (compact bytes) under the current secret. */
  issue(address: Uint8Array): Uint8Array {
    this.#current ??= this.#secret()
    return mac(this.#current, address)
  }

  /** True when `token` matches the current or the previous secret (constant time). */
  verify(address: Uint8Array, token: Uint8Array): boolean {
    return [this.#current, this.#previous].some(
      (secret) => secret !== null && equalBytes(token, mac(secret, address)),
    )
  }

  /** Rotates the secret if due at `now`. */
  rotate(now: number): void {
    if (now < this.#rotatesAt) return
    this.#previous = this.#current
    this.#current = null
    this.#rotatesAt = now + this.#rotateMs
  }
}

/** `HMAC-SHA256(secret, "pairctl/dht/token/v1" 0x00 || endpoint)[0..16]` (§7.3): the token of one secret. */
export function tokenFor(secret: Uint8Array, address: Uint8Array): Uint8Array {
  return mac(secret, address)
}

function mac(secret: Uint8Array, address: Uint8Array): Uint8Array {
  return hmacSha256(secret, TOKEN_DOMAIN, address).subarray(0, TOKEN_BYTES)
}
