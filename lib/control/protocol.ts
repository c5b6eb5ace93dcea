import { z } from 'zod'
import { CONNECTION_PATHS } from '../pairing/connect.js'
import { MAX_TTL_MS, MAX_WORDS, MIN_WORDS } from '../pairing/constants.js'
import { MAX_JOIN_TIMEOUT_MS, MESSAGE_TEXT_MAX_BYTES } from './constants.js'

/**
 * Message and method schemas of the control API (`spec/control.md` §3-5). Both ends validate every
 * message with these: the daemon what clients send, clients what the daemon answers.
 * @module
 */

const id = z.union([z.number().int(), z.string().max(64)])

/** A client's request (`spec/control.md` §3.1). */
export const RequestMessage = z.strictObject({
  id,
  method: z.string().max(64),
  params: z.record(z.string(), z.unknown()).optional(),
})
export type RequestMessage = z.output<typeof RequestMessage>

/** Longest `message` of an error response; clients refuse longer ones (`ErrorBody`). */
export const MAX_ERROR_MESSAGE_LENGTH = 4096

/** The `error` member of a failed response. */
export const ErrorBody = z.strictObject({
  code: z.string().max(64),
  message: z.string().max(MAX_ERROR_MESSAGE_LENGTH),
})

/**
 * The daemon's answer to one request (`spec/control.md` §3.2): `result` or `error`, never both. `id` is
 * null only for an error answering a message too malformed to carry an id.
 */
export const ResponseMessage = z.union([
  z.strictObject({ id, result: z.unknown() }),
  z.strictObject({ id: id.nullable(), error: ErrorBody }),
])
export type ResponseMessage = z.output<typeof ResponseMessage>

/** An unsolicited message from the daemon (`spec/control.md` §3.3). */
export const EventMessage = z.strictObject({ event: z.string().max(64), data: z.unknown() })

/** Anything the daemon sends. */
export const ServerMessage = z.union([ResponseMessage, EventMessage])
export type ServerMessage = z.output<typeof ServerMessage>

/** The first event on every connection (`spec/control.md` §2). */
export const Hello = z.object({
  protocol: z.number().int(),
  version: z.string(),
  instance: z.string(),
  deviceId: z.string(),
  pid: z.number().int(),
})
export type Hello = z.output<typeof Hello>

/** An address with the way it was learnt (`spec/control.md` §4.1). */
export const AddressInfo = z.object({
  host: z.string(),
  port: z.number().int().min(0).max(65535),
  protocol: z.enum(['udp', 'tcp']),
  source: z.string(),
})
export type AddressInfo = z.output<typeof AddressInfo>

/** How a connection got there (`spec/holepunch.md` §6). */
const ConnectionPathSchema = z.enum(CONNECTION_PATHS)

/** A device this instance is paired with. */
export const DeviceInfo = z.object({
  deviceId: z.string(),
  name: z.string(),
  type: z.string(),
  /** ISO 8601 time of the pairing. */
  pairedAt: z.string(),
})
export type DeviceInfo = z.output<typeof DeviceInfo>

/**
 * A paired device in `status` and in `device-online` / `device-offline` events (`spec/control.md` §4.1):
 * `online` is true while an authenticated link to it is open, null when no daemon tracks it (unknown, not
 * false); `lastSeen` (ISO 8601) is now while online, else when its last link closed, or null.
 */
export const PeerStatus = DeviceInfo.extend({
  online: z.boolean().nullable(),
  lastSeen: z.string().nullable(),
  /** How the open link got there (`spec/holepunch.md` §6); only while online. */
  path: ConnectionPathSchema.optional(),
  /** True while the open link runs through a relay (`spec/relay.md` §8.2). */
  relayed: z.boolean().optional(),
})
export type PeerStatus = z.output<typeof PeerStatus>

/** A text message received from a paired device (event `message`, `spec/presence.md` §5). */
export const MessageInfo = z.object({
  deviceId: z.string(),
  name: z.string(),
  text: z.string(),
  /** ISO 8601, the receiver's clock. */
  receivedAt: z.string(),
})
export type MessageInfo = z.output<typeof MessageInfo>

/** A file transfer (`spec/transfer.md` §6.1), in `transfers.*` results and events. */
export const TransferInfo = z.object({
  id: z.string(),
  direction: z.enum(['send', 'receive']),
  deviceId: z.string(),
  state: z.enum(['offering', 'pending', 'active', 'paused', 'done', 'rejected', 'cancelled', 'failed']),
  /** Hex of the root the sender committed to, shown on both sides. */
  root: z.string(),
  label: z.string(),
  files: z.number().int(),
  bytes: z.number().int(),
  transferred: z.number().int(),
  /** Bytes per second over the last seconds. */
  rate: z.number(),
  etaSeconds: z.number().nullable(),
  /** Receiver: the directory the files go to. */
  target: z.string().nullable(),
  createdAt: z.string(),
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** Sender: chunk bytes this process sent for the transfer, a chunk sent again counting again. */
  sentBytes: z.number().int().optional(),
  /** Sender: chunks this process sent more than once. */
  resentChunks: z.number().int().optional(),
})
export type TransferInfo = z.output<typeof TransferInfo>

/** Result of `status`. */
export const Status = z.object({
  deviceId: z.string(),
  instance: z.string(),
  name: z.string(),
  pid: z.number().int(),
  version: z.string(),
  listen: z.array(AddressInfo),
  external: z.array(AddressInfo),
  natType: z.string(),
  dht: z.object({
    routingTableSize: z.number().int(),
    bootstrap: z.array(z.string()),
    /** LAN discovery (`spec/discovery.md`): interface addresses and pairctl nodes found; null: off. */
    lan: z
      .object({ interfaces: z.array(z.string()), peers: z.number().int() })
      .nullable()
      .optional(),
  }),
  paired: z.array(PeerStatus),
  /** Where received files go (`spec/transfer.md` §6); absent when no daemon runs. */
  downloads: z.string().optional(),
})
export type Status = z.output<typeof Status>

/**
 * One step of a pairing, in order (`spec/control.md` §5). The same events come from an embedded node and,
 * tagged with a `sessionId`, from the daemon.
 */
export const PairingProgress = z.discriminatedUnion('type', [
  z.object({ type: z.literal('code'), code: z.string(), expiresAt: z.string() }),
  z.object({ type: z.literal('advertised'), addresses: z.array(z.string()) }),
  z.object({ type: z.literal('searching') }),
  z.object({ type: z.literal('found'), addresses: z.array(z.string()) }),
  z.object({
    type: z.literal('peer-connected'),
    address: z.string(),
    /** How the connection got there (`spec/holepunch.md` §6), when the side knows. */
    path: ConnectionPathSchema.optional(),
    /** The connection runs through a relay (`spec/relay.md` §8.2). */
    relayed: z.boolean().optional(),
  }),
  z.object({ type: z.literal('verifying') }),
  z.object({ type: z.literal('sas'), sas: z.string() }),
  z.object({
    type: z.literal('attempt-failed'),
    remaining: z.number().int(),
    /** `wrong-code`: a wrong guess; `abandoned`: a joiner got the share and left (spec/pairing.md §7.2). */
    reason: z.enum(['wrong-code', 'abandoned']).optional(),
  }),
  z.object({ type: z.literal('paired'), device: DeviceInfo }),
  z.object({ type: z.literal('failed'), code: z.string(), message: z.string() }),
])
export type PairingProgress = z.output<typeof PairingProgress>

/** Event `pairing`: a progress step of session `sessionId`. */
export const PairingEventData = z.object({ sessionId: z.string(), progress: PairingProgress })

/** The UTF-8 size of `text`. */
export function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8')
}

/** The text of `messages.send`: 1 to {@link MESSAGE_TEXT_MAX_BYTES} bytes of UTF-8. */
export const MessageText = z.string().superRefine((text, ctx) => {
  const bytes = utf8Length(text)
  if (bytes === 0 || bytes > MESSAGE_TEXT_MAX_BYTES)
    ctx.addIssue({ code: 'custom', message: messageSizeRule(bytes) })
})

/** The message-size rule in words, with the size of the offending text. */
export function messageSizeRule(bytes: number): string {
  return `must be 1 to ${MESSAGE_TEXT_MAX_BYTES} bytes of UTF-8 text; this one is ${bytes} bytes`
}

const empty = z.strictObject({})
const sessionRef = z.strictObject({ sessionId: z.string().max(64) })
/** A whole number in `[min, max]`; every violation gets one message naming the range. */
function wholeNumber(min: number, max: number, what: string) {
  const message = `must be a whole number ${what} from ${min} to ${max}`
  return z.number({ error: message }).int(message).min(min, message).max(max, message)
}

const transferRef = z.strictObject({ id: z.string().min(4).max(64) })

const confirm = z.boolean().optional()

/** Every method: its params and result schemas (`spec/control.md` §4). */
export const METHODS = {
  status: { params: empty, result: Status },
  'devices.list': { params: empty, result: z.object({ devices: z.array(DeviceInfo) }) },
  'devices.remove': {
    params: z.strictObject({ device: z.string().max(128) }),
    result: z.object({ removed: DeviceInfo }),
  },
  'pairing.generate': {
    params: z.strictObject({
      words: wholeNumber(MIN_WORDS, MAX_WORDS, 'of words').optional(),
      timeoutMs: wholeNumber(1000, MAX_TTL_MS, 'of milliseconds').optional(),
      confirm,
    }),
    result: z.object({ sessionId: z.string() }),
  },
  'pairing.join': {
    params: z.strictObject({
      code: z.string().min(1, 'must not be empty').max(512, 'must be at most 512 characters'),
      timeoutMs: wholeNumber(1000, MAX_JOIN_TIMEOUT_MS, 'of milliseconds').optional(),
      confirm,
    }),
    result: z.object({ sessionId: z.string() }),
  },
  'messages.send': {
    params: z.strictObject({ device: z.string().max(128), text: MessageText }),
    result: z.object({ to: DeviceInfo }),
  },
  'transfers.send': {
    params: z.strictObject({
      device: z.string().max(128),
      /** Absolute paths of files and directories, as the daemon sees them. */
      files: z.array(z.string().min(1).max(4096)).min(1).max(1024),
    }),
    result: z.object({ transfer: TransferInfo }),
  },
  'transfers.list': { params: empty, result: z.object({ transfers: z.array(TransferInfo) }) },
  'transfers.accept': { params: transferRef, result: z.object({ transfer: TransferInfo }) },
  'transfers.reject': { params: transferRef, result: z.object({ transfer: TransferInfo }) },
  'transfers.cancel': { params: transferRef, result: z.object({ transfer: TransferInfo }) },
  'pairing.confirm': { params: sessionRef.extend({ accept: z.boolean() }), result: empty },
  'pairing.cancel': { params: sessionRef, result: empty },
  'daemon.stop': { params: empty, result: empty },
} as const

export type MethodName = keyof typeof METHODS
export type MethodParams<M extends MethodName> = z.input<(typeof METHODS)[M]['params']>
export type MethodResult<M extends MethodName> = z.output<(typeof METHODS)[M]['result']>

/** The daemon side: one async function per method. */
export type MethodHandlers = {
  [M in MethodName]: (params: z.output<(typeof METHODS)[M]['params']>) => Promise<MethodResult<M>>
}

/** True when `name` is a method of this protocol version. */
export function isMethodName(name: string): name is MethodName {
  return Object.hasOwn(METHODS, name)
}
