import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { sha256, toHex, utf8 } from '../crypto/index.js'
import type { PairingCode } from './code.js'
import { USED_CODE_DOMAIN, USED_CODES_FILE, USED_CODES_KEPT } from './constants.js'
import { writeAtomic } from './store.js'

/**
 * The codes this device has sent a confirmation tag for (`spec/pairing.md` §7.3): a tag is never sent
 * twice for one code, so a code retyped after a wrong guess (or after it was used) is refused at once,
 * without touching the network. Only hashes are kept.
 * @module
 */

/** What the joiner needs: a synchronous check, and a record made before the tag goes out. */
export interface UsedCodes {
  has(code: PairingCode): boolean
  /** Records `code` at once (in memory, synchronously) and resolves once it is on disk. */
  add(code: PairingCode): Promise<void>
}

/** SHA-256("pairctl/used-code/v2" || canonical code text), hex. */
export function usedCodeHash(code: PairingCode): string {
  return toHex(sha256(utf8(USED_CODE_DOMAIN), utf8(code.text)))
}

const UsedCodesFile = z.object({
  version: z.literal(1),
  hashes: z.array(z.string().regex(/^[0-9a-f]{64}$/)).max(USED_CODES_KEPT),
})

/**
 * {@link UsedCodes} in `used-codes.json` of an instance directory: the latest {@link USED_CODES_KEPT}
 * hashes, written atomically (mode 0600), writes serialized. An unreadable file counts as empty: it only
 * ever makes the check weaker, never refuses a good code; the next write replaces it.
 */
export class UsedCodeStore implements UsedCodes {
  readonly path: string
  readonly #hashes: Set<string>
  #writing: Promise<void> = Promise.resolve()

  private constructor(dir: string, hashes: string[]) {
    this.path = join(dir, USED_CODES_FILE)
    this.#hashes = new Set(hashes)
  }

  /** Opens the record of instance directory `dir` (created if missing). */
  static async open(dir: string): Promise<UsedCodeStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    return new UsedCodeStore(dir, await load(join(dir, USED_CODES_FILE)))
  }

  has(code: PairingCode): boolean {
    return this.#hashes.has(usedCodeHash(code))
  }

  add(code: PairingCode): Promise<void> {
    const hash = usedCodeHash(code)
    this.#hashes.delete(hash)
    this.#hashes.add(hash)
    for (const oldest of this.#hashes) {
      if (this.#hashes.size <= USED_CODES_KEPT) break
      this.#hashes.delete(oldest)
    }
    const text = `${JSON.stringify({ version: 1, hashes: [...this.#hashes] })}\n`
    this.#writing = this.#writing.catch(() => {}).then(() => writeAtomic(this.path, text))
    return this.#writing
  }
}

async function load(path: string): Promise<string[]> {
  try {
    return UsedCodesFile.parse(JSON.parse(await readFile(path, 'utf8'))).hashes
  } catch {
    return []
  }
}
