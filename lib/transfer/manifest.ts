/**
 * The manifest of an offer and its root (`spec/transfer.md` §4): every file's relative path, size, mode
 * and the SHA-256 of each of its {@link CHUNK_SIZE} chunks, encoded as deterministic CBOR; the root the
 * sender commits to in its offer is the SHA-256 of a fixed label and those bytes.
 * @module
 */
import { createHash } from 'node:crypto'
import { open, readdir, stat } from 'node:fs/promises'
import { basename, join, resolve } from 'node:path'
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../cbor.js'
import { CHUNK_SIZE, MAX_FILES } from './constants.js'
import { TransferError } from './errors.js'
import { checkPathSet } from './paths.js'

/** Bytes of a chunk hash (SHA-256). */
export const HASH_LENGTH = 32
/** Prefix of the root's hash input: the root of a manifest can never equal another pairctl hash. */
export const ROOT_LABEL = 'pairctl transfer manifest v1'
/** The manifest format version. */
export const MANIFEST_VERSION = 1

const FileEntry = z.strictObject({
  path: z.string(),
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  mode: z.number().int().min(0).max(0o777),
  hashes: z.instanceof(Uint8Array),
})
const ManifestSchema = z.strictObject({
  v: z.literal(MANIFEST_VERSION),
  chunkSize: z.literal(CHUNK_SIZE),
  files: z.array(FileEntry).max(MAX_FILES),
  dirs: z.array(z.string()).max(MAX_FILES),
})
/** One offer's content list. */
export type Manifest = z.output<typeof ManifestSchema>
/** One file of a manifest. */
export type ManifestFile = z.output<typeof FileEntry>

/** Chunks of a file of `size` bytes (the last may be short; an empty file has none). */
export function chunkCount(size: number, chunkSize = CHUNK_SIZE): number {
  return Math.ceil(size / chunkSize)
}

/** Bytes of chunk `index` of a file of `size` bytes. */
export function chunkLength(size: number, index: number, chunkSize = CHUNK_SIZE): number {
  return Math.min(chunkSize, size - index * chunkSize)
}

/** The manifest's wire bytes (deterministic CBOR). */
export function encodeManifest(manifest: Manifest): Uint8Array {
  return encodeCbor(manifest)
}

/** The root an offer commits to: SHA-256(utf8(ROOT_LABEL) || manifest bytes). */
export function manifestRoot(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(ROOT_LABEL).update(bytes).digest())
}

/**
 * Decodes a manifest a peer sent and checks it can be written safely: schema, every path
 * (`TRANSFER_BAD_PATH`), and one hash per chunk (`TRANSFER_BAD_OFFER`).
 */
export function decodeManifest(bytes: Uint8Array): Manifest {
  let manifest: Manifest
  try {
    manifest = decodeCbor(ManifestSchema, bytes)
  } catch (err) {
    throw new TransferError('TRANSFER_BAD_OFFER', `bad manifest: ${(err as Error).message}`, { remote: true })
  }
  checkPathSet(
    manifest.files.map((file) => file.path),
    manifest.dirs,
  )
  for (const file of manifest.files)
    if (file.hashes.length !== chunkCount(file.size) * HASH_LENGTH)
      throw new TransferError(
        'TRANSFER_BAD_OFFER',
        `bad manifest: ${file.path} has the wrong number of hashes`,
        {
          remote: true,
        },
      )
  return manifest
}

/** The SHA-256 of chunk `index` as the manifest lists it. */
export function expectedHash(file: ManifestFile, index: number): Uint8Array {
  return file.hashes.subarray(index * HASH_LENGTH, (index + 1) * HASH_LENGTH)
}

/** A local file to send: where it is and what it looked like when hashed. */
export interface SourceFile {
  path: string
  size: number
  mtimeMs: number
}

/** What {@link scanSources} found. */
export interface ScannedOffer {
  manifest: Manifest
  /** The local file behind each manifest file, same order. */
  sources: SourceFile[]
  /** Symbolic links and special files inside directories, not sent (relative paths). */
  skipped: string[]
}

/**
 * Builds the manifest of `paths` (files and directories): a directory is walked without following
 * symbolic links (they are skipped, so nothing outside the tree is sent), each file is hashed chunk by
 * chunk. Every relative path is checked as the receiver will check it (`TRANSFER_BAD_PATH`).
 */
export async function scanSources(paths: readonly string[]): Promise<ScannedOffer> {
  const found: { relative: string; absolute: string }[] = []
  const dirs: string[] = []
  const skipped: string[] = []
  for (const path of paths) {
    const absolute = resolve(path)
    const info = await stat(absolute).catch((err) => {
      throw new TransferError('TRANSFER_IO', `cannot read ${path}: ${(err as Error).message}`)
    })
    const name = basename(absolute)
    if (info.isDirectory()) await walk(absolute, name, { found, dirs, skipped })
    else if (info.isFile()) found.push({ relative: name, absolute })
    else throw new TransferError('TRANSFER_IO', `${path} is neither a file nor a directory`)
  }
  checkPathSet(
    found.map((file) => file.relative),
    dirs,
  )
  const files: ManifestFile[] = []
  const sources: SourceFile[] = []
  for (const { relative, absolute } of found) {
    const { hashes, size, mode, mtimeMs } = await hashFile(absolute)
    files.push({ path: relative, size, mode, hashes })
    sources.push({ path: absolute, size, mtimeMs })
  }
  return { manifest: { v: MANIFEST_VERSION, chunkSize: CHUNK_SIZE, files, dirs }, sources, skipped }
}

async function walk(
  absolute: string,
  relative: string,
  out: { found: { relative: string; absolute: string }[]; dirs: string[]; skipped: string[] },
): Promise<void> {
  out.dirs.push(relative)
  const entries = await readdir(absolute, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const childAbsolute = join(absolute, entry.name)
    const childRelative = `${relative}/${entry.name}`
    if (entry.isDirectory()) await walk(childAbsolute, childRelative, out)
    else if (entry.isFile()) out.found.push({ relative: childRelative, absolute: childAbsolute })
    else out.skipped.push(childRelative)
  }
}

/** Hashes a file chunk by chunk; the size and mtime are those of the open file, as read. */
async function hashFile(path: string) {
  const handle = await open(path, 'r')
  try {
    const opened = await handle.stat()
    const count = chunkCount(opened.size)
    const hashes = new Uint8Array(count * HASH_LENGTH)
    const buffer = Buffer.allocUnsafe(CHUNK_SIZE)
    for (let index = 0; index < count; index++) {
      const length = chunkLength(opened.size, index)
      const { bytesRead } = await handle.read(buffer, 0, length, index * CHUNK_SIZE)
      if (bytesRead !== length)
        throw new TransferError('TRANSFER_SOURCE_CHANGED', `${path} changed while it was being read`)
      hashes.set(createHash('sha256').update(buffer.subarray(0, length)).digest(), index * HASH_LENGTH)
    }
    return { hashes, size: opened.size, mode: opened.mode & 0o777, mtimeMs: opened.mtimeMs }
  } finally {
    await handle.close()
  }
}
