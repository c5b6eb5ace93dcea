import { readFileSync } from 'node:fs'
import { sha256 } from '@noble/hashes/sha2.js'
import { decode as cborDecode } from 'cbor-x'
import t from 'tap'
import { decodeManifest, MuxCore, transferConstants } from '../../lib/transfer/index.js'
import { Answer, Cancel, Get, Offer, PartHeader, StateReply } from '../../lib/transfer/wire.js'
import { nextFrame } from './helpers/frames.js'
import { computeVectors, contentOf } from './helpers/vectors.js'

const stored = JSON.parse(readFileSync(new URL('../../spec/vectors/transfer.json', import.meta.url), 'utf8'))
const hex = (text: string) => Uint8Array.from(Buffer.from(text, 'hex'))
const concat = (...parts: Uint8Array[]) => Uint8Array.from(Buffer.concat(parts))
const u32 = (value: number) => {
  const bytes = new Uint8Array(4)
  new DataView(bytes.buffer).setUint32(0, value)
  return bytes
}

/** A message value of the vector file with its `h'<hex>'` strings turned back into byte strings. */
function fromVectorJson(value: unknown): unknown {
  if (typeof value === 'string' && value.startsWith("h'")) return hex(value.slice(2, -1))
  if (Array.isArray(value)) return value.map(fromVectorJson)
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fromVectorJson(v)]))
  return value
}

/**
 * Deterministic CBOR as `spec/README.md` §CBOR defines it, written here from RFC 8949 rather than with
 * lib/cbor: shortest heads, map keys in the bytewise order of their encodings.
 */
function cbor(value: unknown): Uint8Array {
  const head = (major: number, n: number) => {
    if (n < 24) return Uint8Array.of((major << 5) | n)
    if (n < 0x100) return Uint8Array.of((major << 5) | 24, n)
    if (n < 0x10000) return Uint8Array.of((major << 5) | 25, n >> 8, n & 0xff)
    return concat(Uint8Array.of((major << 5) | 26), u32(n))
  }
  if (value === true) return Uint8Array.of(0xf5)
  if (value === false) return Uint8Array.of(0xf4)
  if (typeof value === 'number') return head(0, value)
  if (typeof value === 'string') {
    const utf8 = new TextEncoder().encode(value)
    return concat(head(3, utf8.length), utf8)
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value)
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(cbor))
  const entries = Object.entries(value as object).map(([k, v]) => [cbor(k), cbor(v)] as const)
  entries.sort(([a], [b]) => Buffer.compare(a, b))
  return concat(head(5, entries.length), ...entries.flat())
}

t.test('lib/transfer reproduces spec/vectors/transfer.json exactly', async (t) => {
  t.same(await computeVectors(), stored)
})

t.test('frames, rebuilt from the layout of spec/transfer.md §2.1', async (t) => {
  const frame = (kind: number, id: number, payload: Uint8Array = new Uint8Array(0)) =>
    Buffer.from(concat(Uint8Array.of(kind), u32(id), payload)).toString('hex')
  const error = (code: string, message: string) => cbor({ code, message })
  const messages = stored.messages
  t.equal(stored.errorBody, Buffer.from(error('TRANSFER_NOT_FOUND', 'no such transfer')).toString('hex'))
  t.same(stored.frames, {
    request: frame(0x01, 1, hex(messages.offer.cbor)),
    response: frame(0x02, 1, hex(messages.acknowledgement.cbor)),
    error: frame(0x03, 2, hex(stored.errorBody)),
    open: frame(0x04, 1, hex(messages.part.cbor)),
    data: frame(0x05, 1, new TextEncoder().encode('hello pairctl\n')),
    end: frame(0x07, 1),
    reset: frame(0x08, 2, error('TRANSFER_CANCELLED', 'the sender cancelled this transfer')),
    credit: frame(0x06, 1, u32(transferConstants.STREAM_WINDOW / 2)),
    stop: frame(0x09, 2, error('TRANSFER_UNREQUESTED', 'no such request')),
  })
})

t.test('a core takes the vector frames as the spec says', async (t) => {
  const frames = Object.fromEntries(
    Object.entries(stored.frames as Record<string, string>).map(([name, text]) => [name, hex(text)]),
  )
  const events = (core: MuxCore, ...input: Uint8Array[]) => {
    for (const frame of input) core.receive(frame, 0)
    const out: unknown[] = []
    for (let event = core.nextEvent(); event !== null; event = core.nextEvent()) out.push(event)
    return out
  }
  const peer = new MuxCore()
  t.same(events(peer, frames.request!, frames.open!, frames.data!, frames.end!), [
    { type: 'request', id: 1, body: hex(stored.messages.offer.cbor) },
    { type: 'stream-open', stream: 1, header: hex(stored.messages.part.cbor) },
    { type: 'stream-data', stream: 1, data: new TextEncoder().encode('hello pairctl\n') },
    { type: 'stream-end', stream: 1 },
  ])
  const asker = new MuxCore()
  asker.request(new Uint8Array([0xa0]), 0, 1000)
  asker.request(new Uint8Array([0xa0]), 0, 1000)
  const answered = events(asker, frames.response!, frames.error!) as { type: string; error?: unknown }[]
  t.same(answered[0], { type: 'response', id: 1, body: Uint8Array.of(0xa0) })
  t.match(answered[1], { type: 'request-failed', id: 2, error: { code: 'TRANSFER_NOT_FOUND' } })
  const opener = new MuxCore({ window: 1 })
  opener.open(new Uint8Array([0xa0]))
  opener.open(new Uint8Array([0xa0]))
  opener.write(1, new Uint8Array(3))
  while (opener.pollTransmit() !== null);
  t.same(events(opener, frames.credit!), [], 'a CREDIT is no event')
  const afterCredit = nextFrame(opener)
  t.equal(afterCredit?.length, 5 + 2, 'the CREDIT frame let the two bytes left go')
  t.match(events(opener, frames.stop!), [
    { type: 'stream-reset', stream: 2, incoming: false, error: { code: 'TRANSFER_UNREQUESTED' } },
  ])
  const resetPeer = new MuxCore()
  resetPeer.receive(frames.open!, 0)
  resetPeer.receive(concat(Uint8Array.of(0x04), u32(2), Uint8Array.of(0xa0)), 0)
  events(resetPeer)
  t.match(events(resetPeer, frames.reset!), [
    { type: 'stream-reset', stream: 2, incoming: true, error: { code: 'TRANSFER_CANCELLED' } },
  ])
})

t.test('control messages: deterministic CBOR of their values, and the wire schemas take them', async (t) => {
  const schemas = {
    offer: Offer,
    offerReply: StateReply,
    getManifest: Get,
    getChunks: Get,
    part: PartHeader,
    answerActive: Answer,
    answerFailed: Answer,
    cancel: Cancel,
  } as const
  for (const [name, { value, cbor: encoded }] of Object.entries(
    stored.messages as Record<string, { value: unknown; cbor: string }>,
  )) {
    const expected = fromVectorJson(value)
    t.equal(Buffer.from(cbor(expected)).toString('hex'), encoded, `${name}: bytes`)
    t.same(cborDecode(hex(encoded)), expected, `${name}: decodes to its value`)
    const schema = schemas[name as keyof typeof schemas]
    if (schema !== undefined) t.ok(schema.safeParse(expected).success, `${name}: its schema accepts it`)
  }
  t.equal(
    stored.messages.offer.value.size,
    stored.manifest.cbor.length / 2,
    'the offer declares the manifest length',
  )
})

t.test('manifest and root, recomputed from spec/transfer.md §4', async (t) => {
  const { manifest } = stored
  t.equal(manifest.chunkSize, 1024 * 1024)
  t.equal(manifest.rootLabel, 'pairctl transfer manifest v1')
  const files = (manifest.files as { path: string; mode: number; size: number; content: never }[]).map(
    (file) => {
      const content = contentOf(file.content)
      const hashes: Uint8Array[] = []
      for (let at = 0; at < content.length; at += manifest.chunkSize)
        hashes.push(sha256(content.subarray(at, at + manifest.chunkSize)))
      return { path: file.path, size: content.length, mode: file.mode, hashes }
    },
  )
  t.same(
    manifest.files.map((file: { chunkHashes: string[] }) => file.chunkHashes),
    files.map((file) => file.hashes.map((hash) => Buffer.from(hash).toString('hex'))),
    'per-chunk SHA-256, the last chunk short, none for an empty file',
  )
  const bytes = cbor({
    v: 1,
    chunkSize: manifest.chunkSize,
    dirs: manifest.dirs,
    files: files.map((file) => ({ ...file, hashes: concat(...file.hashes) })),
  })
  t.equal(Buffer.from(bytes).toString('hex'), manifest.cbor, 'manifest bytes')
  const root = sha256(concat(new TextEncoder().encode(manifest.rootLabel), bytes))
  t.equal(Buffer.from(root).toString('hex'), manifest.root, 'root = SHA-256(label || manifest)')
  t.equal(stored.messages.offer.value.root, `h'${manifest.root}'`, 'the offer commits to that root')
  t.equal(decodeManifest(bytes).files.length, 3, 'the receiver accepts the manifest')
})
