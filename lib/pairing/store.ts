import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { replaceFile, setAside } from '../files.js'
import { deviceIdFromPublicKey } from '../identity/device-id.js'
import { type AdvertAddress, AdvertAddressSchema } from './advert.js'
import { MAX_ADDRESSES, MAX_NAME_LENGTH } from './constants.js'
import { PairingError } from './errors.js'

/** File name of the paired-device store inside an instance directory (`spec/pairing.md` §10). */
export const STORE_FILE = 'devices.json'
/** Schema version of {@link STORE_FILE}. */
export const STORE_VERSION = 2

/** A device this one is paired with (`spec/pairing.md` §10). */
export interface PairedDevice {
  /** Computed from `identityKey`, never taken from the peer's word. */
  deviceId: string
  /** The peer's Ed25519 identity public key, as verified by Noise. */
  identityKey: Uint8Array
  name: string
  type: string
  /** Milliseconds since the Unix epoch. */
  pairedAt: number
  /** Last addresses the device was reached at, most recent first. */
  addresses: AdvertAddress[]
  /**
   * The pair's shared presence secret (`spec/pairing.md` §6.4). Absent only for a device paired before
   * store version 2, which has none: it is reached at its stored addresses only.
   */
  presenceSecret?: Uint8Array
}

const StoredDevice = z
  .object({
    deviceId: z.string(),
    identityKey: z.string().regex(/^[A-Za-z0-9+/]{43}=$/),
    name: z.string().max(MAX_NAME_LENGTH),
    type: z.string().max(MAX_NAME_LENGTH),
    pairedAt: z.number().int().nonnegative(),
    addresses: z.array(AdvertAddressSchema).max(MAX_ADDRESSES),
    presenceSecret: z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/)
      .optional(),
  })
  .transform(({ presenceSecret, ...stored }) => ({
    ...stored,
    identityKey: new Uint8Array(Buffer.from(stored.identityKey, 'base64')),
    ...(presenceSecret === undefined
      ? {}
      : { presenceSecret: new Uint8Array(Buffer.from(presenceSecret, 'base64')) }),
  }))
  .refine(
    (device) => deviceIdFromPublicKey(device.identityKey) === device.deviceId,
    'device ID does not match key',
  )
/** Version 1 files (no presence secrets) still load; the next write stores them as version 2. */
const StoreFile = z.object({
  version: z.union([z.literal(1), z.literal(STORE_VERSION)]),
  devices: z.array(StoredDevice),
})

/**
 * The paired devices of one instance, kept in `devices.json` (`spec/pairing.md` §10): schema-versioned,
 * validated on load, written atomically (temp file, fsync, rename, fsync of the directory) with mode
 * 0600. Writes are serialized. A corrupt file is moved aside and reported, never replaced silently;
 * entries never expire.
 */
export class PairedDeviceStore {
  readonly path: string
  readonly #devices: Map<string, PairedDevice>
  #writing: Promise<void> = Promise.resolve()

  private constructor(dir: string, devices: PairedDevice[]) {
    this.path = join(dir, STORE_FILE)
    this.#devices = new Map(devices.map((device) => [device.deviceId, device]))
  }

  /**
   * Opens the store of the instance directory `dir` (created if missing). Throws `STORE_CORRUPT` after
   * moving an unreadable file to `devices.json.corrupt-<time>`; opening again then starts empty.
   */
  static async open(dir: string): Promise<PairedDeviceStore> {
    await mkdir(dir, { recursive: true, mode: 0o700 })
    return new PairedDeviceStore(dir, await loadDevices(join(dir, STORE_FILE)))
  }

  /** Every paired device, oldest pairing first. */
  list(): PairedDevice[] {
    return [...this.#devices.values()].sort((a, b) => a.pairedAt - b.pairedAt)
  }

  /** The paired device with this ID, if any. */
  get(deviceId: string): PairedDevice | undefined {
    return this.#devices.get(deviceId)
  }

  /** Adds a device, replacing an earlier pairing with the same identity (re-pairing). */
  async add(device: PairedDevice): Promise<void> {
    if (deviceIdFromPublicKey(device.identityKey) !== device.deviceId)
      throw PairingError.badOption('device ID does not match its identity key')
    this.#devices.set(device.deviceId, { ...device, addresses: device.addresses.slice(0, MAX_ADDRESSES) })
    await this.#save()
  }

  /** Removes a device; returns false if it was not paired. */
  async remove(deviceId: string): Promise<boolean> {
    if (!this.#devices.delete(deviceId)) return false
    await this.#save()
    return true
  }

  /** Replaces the last-known addresses of a paired device; returns false if it is not paired. */
  async updateAddresses(deviceId: string, addresses: readonly AdvertAddress[]): Promise<boolean> {
    const device = this.#devices.get(deviceId)
    if (device === undefined) return false
    this.#devices.set(deviceId, { ...device, addresses: addresses.slice(0, MAX_ADDRESSES) })
    await this.#save()
    return true
  }

  #save(): Promise<void> {
    const json = serialize(this.list())
    this.#writing = this.#writing.catch(() => {}).then(() => writeAtomic(this.path, json))
    return this.#writing
  }
}

function serialize(devices: PairedDevice[]): string {
  const stored = devices.map((device) => ({
    ...device,
    identityKey: Buffer.from(device.identityKey).toString('base64'),
    ...(device.presenceSecret === undefined
      ? {}
      : { presenceSecret: Buffer.from(device.presenceSecret).toString('base64') }),
  }))
  return `${JSON.stringify({ version: STORE_VERSION, devices: stored }, null, 2)}\n`
}

async function loadDevices(path: string): Promise<PairedDevice[]> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw PairingError.storeIo(path, cause)
  }
  const parsed = parseStore(text)
  if (parsed.success) return parsed.data.devices
  const keptAs = await setAside(path).catch((cause: unknown) => {
    throw PairingError.storeIo(path, cause)
  })
  throw PairingError.storeCorrupt(path, keptAs, parsed.error)
}

function parseStore(
  text: string,
): { success: true; data: z.output<typeof StoreFile> } | { success: false; error: unknown } {
  try {
    return StoreFile.safeParse(JSON.parse(text))
  } catch (error) {
    return { success: false, error }
  }
}

/** Replaces `path` durably (`lib/files.ts`): all or nothing across crashes; `STORE_IO` when it fails. */
export async function writeAtomic(path: string, text: string): Promise<void> {
  await replaceFile(path, text).catch((cause: unknown) => {
    throw PairingError.storeIo(path, cause)
  })
}
