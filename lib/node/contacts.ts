import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import createDebug from 'debug'
import { z } from 'zod'
import { replaceFile } from '../files.js'
import { type AdvertAddress, AdvertAddressSchema } from '../pairing/advert.js'
import { MAX_ADDRESSES } from '../pairing/constants.js'

const debug = createDebug('pairctl:node:contacts')

/** File of the contact cache inside an instance directory (`spec/presence.md` §6.1). */
export const CONTACTS_FILE = 'contacts.json'

/** How a paired device was last reached: enough to dial it without a presence record. */
export interface Contact {
  /** Its Noise static public key, as its last record or its last IK handshake showed it. */
  staticKey: Uint8Array
  /** Addresses it was last reached at, most recent first. */
  addresses: AdvertAddress[]
}

const Base64Key = z.string().regex(/^[A-Za-z0-9+/]{43}=$/)
const ContactsFile = z.object({
  version: z.literal(1),
  contacts: z.record(
    z.string(),
    z.object({ staticKey: Base64Key, addresses: z.array(AdvertAddressSchema).max(MAX_ADDRESSES) }),
  ),
})

/**
 * The last-known contact of each paired device (`spec/presence.md` §6.1), kept in `contacts.json` so a
 * device whose presence record cannot be found is still dialed after a restart. It is a cache: a file that
 * is missing or does not validate starts empty (debug-logged), and losing it costs only that fallback.
 */
export class ContactBook {
  readonly #path: string | null
  readonly #contacts: Map<string, Contact>
  #writing: Promise<void> = Promise.resolve()

  private constructor(path: string | null, contacts: Map<string, Contact>) {
    this.#path = path
    this.#contacts = contacts
  }

  /** The contacts of instance directory `dir`; `null`: kept in memory only. */
  static async open(dir: string | null): Promise<ContactBook> {
    if (dir === null) return new ContactBook(null, new Map())
    const path = join(dir, CONTACTS_FILE)
    return new ContactBook(path, await load(path))
  }

  get(deviceId: string): Contact | undefined {
    return this.#contacts.get(deviceId)
  }

  /** Records a device's static key and, if given, the address it was just reached at (put first). */
  learn(deviceId: string, staticKey: Uint8Array, address?: AdvertAddress): Promise<void> {
    const known = this.#contacts.get(deviceId)?.addresses ?? []
    const addresses =
      address === undefined
        ? known
        : [address, ...known.filter((a) => a.host !== address.host || a.port !== address.port)]
    this.#contacts.set(deviceId, { staticKey, addresses: addresses.slice(0, MAX_ADDRESSES) })
    return this.#save()
  }

  /** Drops a device's contact (it is no longer paired). */
  forget(deviceId: string): Promise<void> {
    return this.#contacts.delete(deviceId) ? this.#save() : Promise.resolve()
  }

  /** Drops the contacts of devices not in `deviceIds` (unpaired while this node was not running). */
  retain(deviceIds: readonly string[]): Promise<void> {
    const keep = new Set(deviceIds)
    const stale = [...this.#contacts.keys()].filter((id) => !keep.has(id))
    for (const id of stale) this.#contacts.delete(id)
    return stale.length > 0 ? this.#save() : Promise.resolve()
  }

  /** Resolves once every change so far is on disk. */
  flushed(): Promise<void> {
    return this.#writing
  }

  #save(): Promise<void> {
    const path = this.#path
    if (path === null) return Promise.resolve()
    const contacts = Object.fromEntries(
      [...this.#contacts].map(([id, { staticKey, addresses }]) => [
        id,
        { staticKey: Buffer.from(staticKey).toString('base64'), addresses },
      ]),
    )
    const text = `${JSON.stringify({ version: 1, contacts }, null, 2)}\n`
    // Durable (`lib/files.ts`): a crash leaves the old file or the new one, never half of one.
    this.#writing = this.#writing
      .then(() => replaceFile(path, text))
      .catch((err) => debug('writing %s failed: %s', path, err.message))
    return this.#writing
  }
}

async function load(path: string): Promise<Map<string, Contact>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return new Map()
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch {
    json = null
  }
  const parsed = ContactsFile.safeParse(json)
  if (!parsed.success) {
    debug('ignoring %s: it does not validate', path)
    return new Map()
  }
  return new Map(
    Object.entries(parsed.data.contacts).map(([id, { staticKey, addresses }]) => [
      id,
      { staticKey: new Uint8Array(Buffer.from(staticKey, 'base64')), addresses },
    ]),
  )
}
