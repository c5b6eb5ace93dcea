/**
 * The transfer protocol's requests and stream headers (`spec/transfer.md` §5), CBOR maps routed by `t`.
 * @module
 */
import { z } from 'zod'
import { MAX_FILES, MAX_MANIFEST_BYTES } from './constants.js'
import { TransferError } from './errors.js'
import { TRANSFER_STATES } from './store.js'

const bytes = (length: number) =>
  z.instanceof(Uint8Array).refine((value) => value.length === length, `${length} bytes`)
const u32 = z.number().int().min(0).max(0xffffffff)

/** Bytes of a transfer id. */
export const TRANSFER_ID_LENGTH = 16

/** Sender → receiver: the offer, committing to the manifest's root and size. */
export const Offer = z.strictObject({
  t: z.literal('offer'),
  id: bytes(TRANSFER_ID_LENGTH),
  root: bytes(32),
  size: z.number().int().min(1).max(MAX_MANIFEST_BYTES),
})
/** The receiver's answer to an offer, and its `answer` requests: where the transfer is on its side. */
export const StateReply = z.strictObject({ state: z.enum(TRANSFER_STATES) })

/** Receiver → sender: a part of the offer to send on a new stream tagged `nonce`. */
export const Get = z.strictObject({
  t: z.literal('get'),
  id: bytes(TRANSFER_ID_LENGTH),
  nonce: u32,
  /** The manifest (true) or chunk ranges `[file, first chunk, count]`. */
  manifest: z.boolean().optional(),
  chunks: z
    .array(z.tuple([u32, u32, u32]))
    .max(MAX_FILES)
    .optional(),
})
export type Get = z.output<typeof Get>

/** Receiver → sender: the transfer's state changed on the receiver's side. */
export const Answer = z.strictObject({
  t: z.literal('answer'),
  id: bytes(TRANSFER_ID_LENGTH),
  state: z.enum(TRANSFER_STATES),
  code: z.string().max(64).optional(),
  message: z.string().max(1024).optional(),
})

/** Sender → receiver: the sender cancelled. */
export const Cancel = z.strictObject({ t: z.literal('cancel'), id: bytes(TRANSFER_ID_LENGTH) })

/** The header of a stream carrying a requested part. */
export const PartHeader = z.strictObject({ t: z.literal('part'), id: bytes(TRANSFER_ID_LENGTH), nonce: u32 })

/** Validates a decoded request body; `STREAM_PROTOCOL` on mismatch. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.output<T> {
  const parsed = schema.safeParse(body)
  if (!parsed.success) throw TransferError.protocol(parsed.error.issues[0]?.message ?? 'bad request')
  return parsed.data
}
