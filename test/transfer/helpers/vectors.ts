import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encodeCbor } from '../../../lib/cbor.js'
import { toHex } from '../../../lib/crypto/index.js'
import {
  encodeErrorBody,
  encodeManifest,
  MuxCore,
  manifestRoot,
  ROOT_LABEL,
  scanSources,
  transferConstants,
} from '../../../lib/transfer/index.js'
import { vectorJson } from '../../dht/helpers/vector-json.js'
import { nextFrame } from './frames.js'

/** Byte `i` of a pattern file: a period (251) that does not divide the chunk size, so chunks differ. */
export function patternBytes(size: number): Uint8Array {
  return Uint8Array.from({ length: size }, (_, i) => i % 251)
}

/** Fixed inputs of spec/vectors/transfer.json. */
export const INPUTS = {
  transferId: Uint8Array.from({ length: 16 }, (_, i) => i),
  messageId: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i),
  nonce: 7,
  /** The offered tree: one top-level directory, as `pairctl send --file photos` offers it. */
  tree: {
    dirs: ['photos', 'photos/raw'],
    files: [
      { path: 'photos/a.txt', mode: 0o644, content: { text: 'hello pairctl\n' } },
      { path: 'photos/big.bin', mode: 0o600, content: { pattern: transferConstants.CHUNK_SIZE + 100 } },
      { path: 'photos/empty', mode: 0o644, content: { text: '' } },
    ],
  },
} as const

/** The bytes of one file of {@link INPUTS}.tree. */
export function contentOf(content: { text: string } | { pattern: number }): Uint8Array {
  return 'text' in content ? new TextEncoder().encode(content.text) : patternBytes(content.pattern)
}

/** The manifest of {@link INPUTS}.tree as the sender builds it: written to a temporary directory, scanned. */
async function manifestVector() {
  const root = await mkdtemp(join(tmpdir(), 'pairctl-vectors-'))
  try {
    for (const dir of INPUTS.tree.dirs) await mkdir(join(root, dir), { recursive: true })
    for (const file of INPUTS.tree.files) {
      await writeFile(join(root, file.path), contentOf(file.content))
      await chmod(join(root, file.path), file.mode)
    }
    const { manifest } = await scanSources([join(root, 'photos')])
    const bytes = encodeManifest(manifest)
    return {
      dirs: INPUTS.tree.dirs,
      files: INPUTS.tree.files.map((file, index) => {
        const hashes = manifest.files[index]!.hashes
        return {
          path: file.path,
          mode: file.mode,
          content: file.content,
          size: manifest.files[index]!.size,
          chunkHashes: Array.from({ length: hashes.length / 32 }, (_, chunk) =>
            toHex(hashes.subarray(chunk * 32, chunk * 32 + 32)),
          ),
        }
      }),
      cbor: toHex(bytes),
      root: toHex(manifestRoot(bytes)),
    }
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

/** The control messages (`spec/transfer.md` §3, §5), as the sender and receiver write them. */
function messages(root: Uint8Array, size: number) {
  const id = INPUTS.transferId
  const values: Record<string, Record<string, unknown>> = {
    msg: { t: 'msg', id: INPUTS.messageId, text: 'hello' },
    offer: { t: 'offer', id, root, size },
    offerReply: { state: 'offering' },
    getManifest: { t: 'get', id, nonce: INPUTS.nonce, manifest: true },
    getChunks: {
      t: 'get',
      id,
      nonce: INPUTS.nonce + 1,
      chunks: [
        [0, 0, 1],
        [1, 0, 2],
      ],
    },
    part: { t: 'part', id, nonce: INPUTS.nonce },
    answerActive: { t: 'answer', id, state: 'active' },
    answerFailed: {
      t: 'answer',
      id,
      state: 'failed',
      code: 'TRANSFER_BAD_PATH',
      message: 'refusing path "../x": a component is ..',
    },
    cancel: { t: 'cancel', id },
    acknowledgement: {},
  }
  return Object.fromEntries(
    Object.entries(values).map(([name, value]) => [
      name,
      { value: vectorJson(value), cbor: toHex(encodeCbor(value)) },
    ]),
  )
}

/**
 * One frame of each kind as a {@link MuxCore} sends it: ours are polled after each call, the peer's
 * streams (for CREDIT and STOP) are opened by feeding it their OPEN frames.
 */
function frames(offer: Uint8Array, part: Uint8Array) {
  const core = new MuxCore()
  const next = () => {
    const frame = nextFrame(core)
    if (frame === null) throw new Error('the core sent nothing')
    return frame
  }
  const out: Record<string, Uint8Array> = {}
  core.request(offer, 0, transferConstants.DEFAULT_REQUEST_TIMEOUT_MS)
  out.request = next()
  core.respond(1, encodeCbor({}))
  out.response = next()
  core.respondError(2, 'TRANSFER_NOT_FOUND', 'no such transfer')
  out.error = next()
  const stream = core.open(part)
  out.open = next()
  core.write(stream, new TextEncoder().encode('hello pairctl\n'))
  out.data = next()
  core.end(stream)
  out.end = next()
  const cancelled = core.open(part)
  next()
  core.reset(cancelled, 'TRANSFER_CANCELLED', 'the sender cancelled this transfer')
  out.reset = next()
  core.receive(Uint8Array.from([0x04, 0, 0, 0, 1, 0xa0]), 0)
  core.consume(1, transferConstants.STREAM_WINDOW / 2)
  out.credit = next()
  core.receive(Uint8Array.from([0x04, 0, 0, 0, 2, 0xa0]), 0)
  core.stop(2, 'TRANSFER_UNREQUESTED', 'no such request')
  out.stop = next()
  return Object.fromEntries(Object.entries(out).map(([name, frame]) => [name, toHex(frame)]))
}

/** Everything spec/vectors/transfer.json holds, computed with lib/transfer from {@link INPUTS}. */
export async function computeVectors() {
  const manifest = await manifestVector()
  const root = Buffer.from(manifest.root, 'hex')
  const part = encodeCbor({ t: 'part', id: INPUTS.transferId, nonce: INPUTS.nonce })
  const size = manifest.cbor.length / 2
  const offer = encodeCbor({ t: 'offer', id: INPUTS.transferId, root, size })
  return {
    description:
      "pairctl stream frames and file-transfer vectors (spec/transfer.md). Hex strings are byte strings; in message values a byte string is h'<hex>'. A file content is its UTF-8 text, or {pattern: n}: n bytes, byte i = i mod 251.",
    frames: frames(offer, part),
    errorBody: toHex(encodeErrorBody('TRANSFER_NOT_FOUND', 'no such transfer')),
    messages: messages(root, size),
    manifest: { chunkSize: transferConstants.CHUNK_SIZE, rootLabel: ROOT_LABEL, ...manifest },
  }
}

if (process.argv[1]?.endsWith('vectors.ts')) console.log(JSON.stringify(await computeVectors(), null, 2))
