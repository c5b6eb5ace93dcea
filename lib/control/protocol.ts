import { z } from 'zod'
import { MAX_WORDS, MIN_WORDS } from '../pairing/constants.js'

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

/** The `error` member of a failed response. */
export const ErrorBody = z.strictObject({ code: z.string().max(64), message: z.string().max(4096) })

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
  dht: z.object({ routingTableSize: z.number().int(), bootstrap: z.array(z.string()) }),
  paired: z.array(PeerStatus),
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
    path: z.enum(['direct', 'mapped', 'holepunch', 'relay']).optional(),
  }),
  z.object({ type: z.literal('verifying') }),
  z.object({ type: z.literal('sas'), sas: z.string() }),
  z.object({ type: z.literal('attempt-failed'), remaining: z.number().int() }),
  z.object({ type: z.literal('paired'), device: DeviceInfo }),
  z.object({ type: z.literal('failed'), code: z.string(), message: z.string() }),
])
export type PairingProgress = z.output<typeof PairingProgress>

/** Event `pairing`: a progress step of session `sessionId`. */
export const PairingEventData = z.object({ sessionId: z.string(), progress: PairingProgress })

const empty = z.strictObject({})
const sessionRef = z.strictObject({ sessionId: z.string().max(64) })
const pairingOptions = {
  confirm: z.boolean().optional(),
  timeoutMs: z.number().int().positive().max(3_600_000).optional(),
}

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
      words: z.number().int().min(MIN_WORDS).max(MAX_WORDS).optional(),
      ...pairingOptions,
    }),
    result: z.object({ sessionId: z.string() }),
  },
  'pairing.join': {
    params: z.strictObject({ code: z.string().min(1).max(512), ...pairingOptions }),
    result: z.object({ sessionId: z.string() }),
  },
  'messages.send': {
    params: z.strictObject({ device: z.string().max(128), text: z.string().min(1).max(16_384) }),
    result: z.object({ to: DeviceInfo }),
  },
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
