/** Property tests of transfer requests, manifests and stream frames (`spec/transfer.md` §2, §4, §5). */
import { readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../lib/cbor.js'
import { CHUNK_SIZE, FRAME, MAX_INCOMING_STREAMS } from '../../lib/transfer/constants.js'
import { TransferError } from '../../lib/transfer/errors.js'
import { decodeManifest, encodeManifest, type Manifest } from '../../lib/transfer/manifest.js'
import { encodeErrorBody, encodeFrame, MuxCore, type MuxEvent } from '../../lib/transfer/mux-core.js'
import { TRANSFER_STATES, type TransferRecord, TransferStore } from '../../lib/transfer/store.js'
import { Answer, Cancel, Get, Offer, PartHeader, parseBody } from '../../lib/transfer/wire.js'
import {
  cborFieldMutationOf,
  cborValue,
  garbageOr,
  looksInternal,
  outcome,
  runs,
  sameValue,
  scratchDirs,
  stateFileCorruptions,
} from '../fuzz/helpers/arbitraries.js'

const id = fc.uint8Array({ minLength: 16, maxLength: 16 })
const u32 = fc.nat(0xffffffff)
const state = fc.constantFrom(...TRANSFER_STATES)
const requests: [z.ZodType, fc.Arbitrary<Record<string, unknown>>][] = [
  [
    Offer,
    fc.record({
      t: fc.constant('offer'),
      id,
      root: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      size: fc.integer({ min: 1, max: 1 << 26 }),
    }),
  ],
  [
    Get,
    fc.record(
      {
        t: fc.constant('get'),
        id,
        nonce: u32,
        manifest: fc.boolean(),
        chunks: fc.array(fc.tuple(u32, u32, u32), { maxLength: 5 }),
      },
      { requiredKeys: ['t', 'id', 'nonce'] },
    ),
  ],
  [
    Answer,
    fc.record(
      {
        t: fc.constant('answer'),
        id,
        state,
        code: fc.string({ maxLength: 64 }),
        message: fc.string({ maxLength: 100 }),
      },
      { requiredKeys: ['t', 'id', 'state'] },
    ),
  ],
  [Cancel, fc.record({ t: fc.constant('cancel'), id })],
  [PartHeader, fc.record({ t: fc.constant('part'), id, nonce: u32 })],
]

t.test('every transfer request round-trips through CBOR and its schema', async (t) => {
  for (const [schema, arbitrary] of requests)
    fc.assert(
      fc.property(arbitrary, (body) =>
        sameValue(parseBody(schema, decodeCbor(schema, encodeCbor(body))), body),
      ),
      runs(100),
    )
  t.pass('100 of each request kind round-tripped')
})

t.test('wrong-typed request bodies are STREAM_PROTOCOL, never another error', async (t) => {
  const samples = requests.flatMap(([, arbitrary]) => fc.sample(arbitrary, { numRuns: 2, seed: 5 }))
  let refused = 0
  fc.assert(
    fc.property(
      fc.oneof(
        cborFieldMutationOf(samples).map((bytes) => decodeCbor(z.unknown(), bytes)),
        cborValue,
      ),
      fc.nat(requests.length - 1),
      (body, which) => {
        const result = outcome(() => parseBody(requests[which]![0], body), TransferError, ['STREAM_PROTOCOL'])
        if (result === 'STREAM_PROTOCOL') refused++
        return result === 'ok' || result === 'STREAM_PROTOCOL'
      },
    ),
    runs(2000),
  )
  t.ok(refused > 1000, `most were refused (${refused} of 2000)`)
})

/** A manifest of distinct plain names (so every path is valid) with one hash per chunk. */
const manifest: fc.Arbitrary<Manifest> = fc
  .uniqueArray(fc.stringMatching(/^[a-z][a-z0-9]{0,7}$/), { minLength: 1, maxLength: 6 })
  .chain((names) =>
    fc.record({
      v: fc.constant(1 as const),
      chunkSize: fc.constant(CHUNK_SIZE),
      files: fc.tuple(
        ...names.slice(1).map((name) =>
          fc
            .record({ size: fc.integer({ min: 0, max: 3 * CHUNK_SIZE }), mode: fc.nat(0o777) })
            .map(({ size, mode }) => ({
              path: `${names[0]}/${name}`,
              size,
              mode,
              hashes: new Uint8Array(Math.ceil(size / CHUNK_SIZE) * 32).fill(7),
            })),
        ),
      ),
      dirs: fc.constant([names[0]!]),
    }),
  )

t.test(
  'manifests round-trip; garbage and wrong-typed ones are TRANSFER_BAD_OFFER or TRANSFER_BAD_PATH',
  async (t) => {
    fc.assert(
      fc.property(manifest, (m) => sameValue(decodeManifest(encodeManifest(m)), m)),
      runs(200),
    )
    const samples = fc.sample(manifest, { numRuns: 4, seed: 6 })
    const codes = ['TRANSFER_BAD_OFFER', 'TRANSFER_BAD_PATH']
    let refused = 0
    fc.assert(
      fc.property(
        fc.oneof(garbageOr(samples.map(encodeManifest), 300), cborFieldMutationOf(samples)),
        (bytes) => {
          const result = outcome(() => decodeManifest(bytes), TransferError, codes)
          if (codes.includes(result)) refused++
          return result === 'ok' || codes.includes(result)
        },
      ),
      runs(2000),
    )
    t.ok(refused > 1000, `most were refused (${refused} of 2000)`)
  },
)

/** Frames of every kind as a peer sends them: the mutation corpus for the multiplexer. */
const frames = [
  encodeFrame(FRAME.request, 1, encodeCbor({ t: 'cancel', id: new Uint8Array(16) })),
  encodeFrame(FRAME.response, 1, encodeCbor({ state: 'offered' })),
  encodeFrame(FRAME.error, 1, encodeErrorBody('TRANSFER_NOT_FOUND', 'no such transfer')),
  encodeFrame(FRAME.open, 2, encodeCbor({ t: 'part', id: new Uint8Array(16), nonce: 1 })),
  encodeFrame(FRAME.data, 2, new Uint8Array(100).fill(1)),
  encodeFrame(FRAME.credit, 1, Uint8Array.of(0, 0, 16, 0)),
  encodeFrame(FRAME.end, 2),
  encodeFrame(FRAME.reset, 2, encodeErrorBody('STREAM_RESET', 'gone')),
  encodeFrame(FRAME.stop, 1, encodeErrorBody('STREAM_RESET', 'stop')),
]

t.test(
  'a multiplexer fed garbage frames never throws, fails typed, and holds at most 64 incoming streams',
  async (t) => {
    let failed = 0
    fc.assert(
      fc.property(fc.array(garbageOr(frames, 200), { minLength: 1, maxLength: 120 }), (input) => {
        const mux = new MuxCore()
        const ours = mux.open(encodeCbor({ t: 'part', id: new Uint8Array(16), nonce: 9 }))
        mux.write(ours, new Uint8Array(10))
        mux.request(encodeCbor({ t: 'cancel', id: new Uint8Array(16) }), 0, 1000)
        const open = new Set<number>()
        let typed = true
        let peak = 0
        for (const frame of input) {
          mux.receive(frame, 0)
          while (mux.pollTransmit() !== null);
          for (let event: MuxEvent | null = mux.nextEvent(); event !== null; event = mux.nextEvent()) {
            if (event.type === 'stream-open') open.add(event.stream)
            if (event.type === 'stream-end' || (event.type === 'stream-reset' && event.incoming))
              open.delete(event.stream)
            if (event.type === 'error') {
              failed++
              typed &&= event.error.code.startsWith('STREAM_') && !looksInternal(event.error.message)
            }
          }
          peak = Math.max(peak, open.size)
        }
        return typed && peak <= MAX_INCOMING_STREAMS
      }),
      runs(400),
    )
    t.ok(failed > 0, `garbage failed links (${failed} of 400 runs), with typed errors only`)
  },
)

const hex = (length: number) =>
  fc.uint8Array({ minLength: length / 2, maxLength: length / 2 }).map((b) => Buffer.from(b).toString('hex'))
const transferRecord: fc.Arbitrary<TransferRecord> = fc.record(
  {
    v: fc.constant(1 as const),
    id: hex(32),
    direction: fc.constantFrom('send' as const, 'receive' as const),
    deviceId: fc.string({ maxLength: 40 }),
    state: fc.constantFrom(...TRANSFER_STATES),
    root: hex(64),
    label: fc.string({ maxLength: 40 }),
    files: fc.nat(),
    bytes: fc.maxSafeNat(),
    createdAt: fc.maxSafeInteger(),
    verified: fc.array(fc.base64String({ maxLength: 12 }), { maxLength: 3 }),
    placed: fc.array(fc.nat(), { maxLength: 3 }),
    told: fc.boolean(),
  },
  {
    requiredKeys: [
      'v',
      'id',
      'direction',
      'deviceId',
      'state',
      'root',
      'label',
      'files',
      'bytes',
      'createdAt',
    ],
  },
)

t.test(
  'transfer records reload as saved; a corrupt one is set aside byte for byte, the others still load',
  async (t) => {
    const dirs = await scratchDirs(t, 'transfers')
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(transferRecord, { maxLength: 3, selector: (r) => r.id }),
        async (records) => {
          const store = new TransferStore(dirs.next())
          for (const record of records) await store.save(record)
          const loaded = await store.load()
          return sameValue(
            loaded,
            [...records].sort((a, b) => a.createdAt - b.createdAt),
          )
        },
      ),
      runs(60),
    )
    const [good, bad] = fc.sample(
      fc.uniqueArray(transferRecord, { minLength: 2, maxLength: 2, selector: (r) => r.id }),
      { numRuns: 1, seed: 11 },
    )[0]!
    let setAside = 0
    await fc.assert(
      fc.asyncProperty(stateFileCorruptions(bad as unknown as Record<string, unknown>), async (text) => {
        const store = new TransferStore(dirs.next())
        await store.save(good!)
        await store.save(bad!)
        const path = join(store.dir, `${bad!.id}.json`)
        await writeFile(path, text)
        const loaded = await store.load()
        if (!loaded.some((r) => r.id === good!.id)) return false
        if (loaded.length === 2) return (await readFile(path, 'utf8')) === text // still a valid record
        setAside++
        const kept = (await readdir(store.dir)).filter((name) => name.startsWith(`${bad!.id}.json.corrupt-`))
        return (
          loaded.length === 1 &&
          kept.length === 1 &&
          (await readFile(join(store.dir, kept[0]!), 'utf8')) === text &&
          (await store.load()).length === 1
        )
      }),
      runs(150),
    )
    t.ok(setAside > 75, `most corruptions were set aside (${setAside} of 150)`)
  },
)
