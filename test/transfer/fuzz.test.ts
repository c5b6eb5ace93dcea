/** Property tests of transfer requests, manifests and stream frames (`spec/transfer.md` §2, §4, §5). */
import fc from 'fast-check'
import t from 'tap'
import { z } from 'zod'
import { decodeCbor, encodeCbor } from '../../lib/cbor.js'
import { CHUNK_SIZE, FRAME, MAX_INCOMING_STREAMS } from '../../lib/transfer/constants.js'
import { TransferError } from '../../lib/transfer/errors.js'
import { decodeManifest, encodeManifest, type Manifest } from '../../lib/transfer/manifest.js'
import { encodeErrorBody, encodeFrame, MuxCore, type MuxEvent } from '../../lib/transfer/mux-core.js'
import { TRANSFER_STATES } from '../../lib/transfer/store.js'
import { Answer, Cancel, Get, Offer, PartHeader, parseBody } from '../../lib/transfer/wire.js'
import {
  cborFieldMutationOf,
  cborValue,
  garbageOr,
  looksInternal,
  outcome,
  runs,
  sameValue,
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
