import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { Ed25519KeyPair, randomBytes, type X25519KeyPair } from '../crypto/index.js'
import { deriveStaticKey } from '../noise/static-key.js'
import { deviceIdFromPublicKey, IdentityError } from './device-id.js'
import { ensureDir, writeExclusive } from './files.js'

/** File name of the identity inside an instance directory. */
export const IDENTITY_FILE = 'identity.json'

const base64Key = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, 'a 32-byte key in base64')
  .transform((text) => new Uint8Array(Buffer.from(text, 'base64')))

/** The `version` of the identity files this pairctl writes and reads. */
const IDENTITY_FILE_VERSION = 1

/** Schema of `identity.json` (`spec/identity.md` §3). */
const IdentityFile = z.object({
  version: z.literal(IDENTITY_FILE_VERSION),
  ed25519Seed: base64Key,
  createdAt: z.string(),
})

/**
 * A device identity (`spec/identity.md` §1): the long-term Ed25519 key pair whose public key is the
 * device's name, and the Noise static key derived from its seed (`spec/noise.md` §2.5; bound to the
 * Ed25519 key by a signature in every handshake, so a peer who pinned the identity can run Noise IK).
 */
export class Identity {
  readonly deviceId: string
  readonly noiseKeyPair: X25519KeyPair

  constructor(readonly keyPair: Ed25519KeyPair) {
    this.deviceId = deviceIdFromPublicKey(keyPair.publicKey)
    this.noiseKeyPair = deriveStaticKey(keyPair)
  }

  /** The Ed25519 identity public key (32 bytes). */
  get publicKey(): Uint8Array {
    return this.keyPair.publicKey
  }

  /** A fresh identity from the CSPRNG (tests and ephemeral nodes). */
  static generate(): Identity {
    return new Identity(Ed25519KeyPair.generate())
  }
}

/**
 * Loads the identity of the instance in `dir`, creating it (mode 0600, exclusive create) on first use.
 * Refuses a group- or world-accessible file (`IDENTITY_INSECURE`, with the fix in the message) and
 * reports an unreadable or corrupt file (`IDENTITY_CORRUPT`) instead of regenerating it: a new identity
 * would orphan every pairing.
 */
export async function loadOrCreateIdentity(dir: string): Promise<Identity> {
  await ensureDir(dir)
  const path = join(dir, IDENTITY_FILE)
  const created = await createIdentityFile(path)
  return created ?? (await loadIdentityFile(path))
}

async function createIdentityFile(path: string): Promise<Identity | null> {
  const identity = new Identity(Ed25519KeyPair.fromSeed(randomBytes(32)))
  const created = await writeExclusive(path, `${JSON.stringify(serialize(identity), null, 2)}\n`)
  return created ? identity : null
}

async function loadIdentityFile(path: string): Promise<Identity> {
  const info = await stat(path)
  if ((info.mode & 0o077) !== 0) {
    throw new IdentityError(
      'IDENTITY_INSECURE',
      `${path} is readable by other users (mode ${(info.mode & 0o777).toString(8)}); fix it with: chmod 600 '${path}'`,
    )
  }
  const json = await readJson(path)
  const version = (json as { version?: unknown } | null)?.version
  if (typeof version === 'number' && version > IDENTITY_FILE_VERSION)
    throw new IdentityError(
      'IDENTITY_NEWER_VERSION',
      `${path} was written by a newer pairctl (identity file version ${version}; this one reads version ${IDENTITY_FILE_VERSION}); it was left untouched. Upgrade pairctl to use this identity`,
    )
  const parsed = IdentityFile.safeParse(json)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    throw corrupt(path, `${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}`, parsed.error)
  }
  return new Identity(Ed25519KeyPair.fromSeed(parsed.data.ed25519Seed))
}

async function readJson(path: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new IdentityError('IDENTITY_IO', `cannot read ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    return JSON.parse(text)
  } catch (err) {
    throw corrupt(path, 'not JSON', err)
  }
}

function corrupt(path: string, detail: string, cause: unknown): IdentityError {
  return new IdentityError(
    'IDENTITY_CORRUPT',
    `${path} is corrupt (${detail}); it was left untouched. Restore it from a backup, or move it away to create a new identity (existing pairings will then be lost)`,
    { cause },
  )
}

function serialize(identity: Identity): z.input<typeof IdentityFile> {
  return {
    version: 1,
    ed25519Seed: Buffer.from(identity.keyPair.seed).toString('base64'),
    createdAt: new Date().toISOString(),
  }
}
