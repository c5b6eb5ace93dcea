/**
 * The Binding method from the client's side: building the request (RFC 8489 §6.1, RFC 5780 §7.2
 * CHANGE-REQUEST) and reading the answer (RFC 8489 §14.1/§14.2, RFC 5780 §7.3/§7.4).
 * Spec: `spec/stun.md` §5.
 * @module
 */
import { randomBytes } from '../crypto/index.js'
import { decodeAddress, type Endpoint, type FamilyEndpoint } from './address.js'
import { type ChangeRequest, decodeText, encodeChangeRequest, encodeText } from './attributes.js'
import { Attr, SOFTWARE, StunClass, StunMethod, TRANSACTION_ID_LENGTH } from './constants.js'
import { StunError } from './errors.js'
import { addFingerprint, addMessageIntegrity } from './integrity.js'
import {
  type DecodedMessage,
  encodeMessage,
  findAttribute,
  type StunAttribute,
  significantAttributes,
} from './message.js'

/** Options of {@link createBindingRequest}. */
export interface BindingRequestOptions {
  /** 12 bytes; random (RFC 8489 §6: cryptographically random) when unset. */
  transactionId?: Uint8Array
  /** RFC 5780 §7.2: ask the server to answer from its other IP and/or port. */
  changeRequest?: ChangeRequest
  /** SOFTWARE value (RFC 8489 §14.14); default `pairctl`, `null` for none. */
  software?: string | null
  /** Short-term credentials: adds USERNAME and MESSAGE-INTEGRITY (RFC 8489 §9.1). */
  credentials?: { username: string; key: Uint8Array }
}

/** A Binding Request with SOFTWARE, optional CHANGE-REQUEST, and FINGERPRINT (for demultiplexing). */
export function createBindingRequest(options: BindingRequestOptions = {}): {
  bytes: Uint8Array
  transactionId: Uint8Array
} {
  const transactionId = options.transactionId ?? randomBytes(TRANSACTION_ID_LENGTH)
  const attributes: StunAttribute[] = []
  const software = options.software === undefined ? SOFTWARE : options.software
  if (software !== null) attributes.push({ type: Attr.software, value: encodeText(software) })
  if (options.changeRequest && (options.changeRequest.ip || options.changeRequest.port)) {
    attributes.push({ type: Attr.changeRequest, value: encodeChangeRequest(options.changeRequest) })
  }
  if (options.credentials)
    attributes.push({ type: Attr.username, value: encodeText(options.credentials.username) })
  let bytes = encodeMessage({ method: StunMethod.binding, cls: StunClass.request, transactionId, attributes })
  if (options.credentials) bytes = addMessageIntegrity(bytes, options.credentials.key)
  return { bytes: addFingerprint(bytes), transactionId }
}

/** What a Binding success response says. */
export interface BindingResult {
  /** XOR-MAPPED-ADDRESS, or MAPPED-ADDRESS from servers that only send that (RFC 8489 §14.1). */
  mapped: FamilyEndpoint
  /** RFC 5780 §7.3: where the response was sent from. */
  responseOrigin?: FamilyEndpoint
  /** RFC 5780 §7.4 OTHER-ADDRESS (or RFC 3489 CHANGED-ADDRESS): the server's alternate address. */
  otherAddress?: FamilyEndpoint
  /** The server's SOFTWARE. */
  software?: string
  /** From the first transmission to the response, in ms (includes retransmission waits). */
  rttMs: number
  /** Where the response actually came from (differs from the server with CHANGE-REQUEST). */
  from: Endpoint
}

/** Reads a Binding success response; throws `STUN_MALFORMED` when it has no usable mapped address. */
export function readBindingResponse(response: DecodedMessage, from: Endpoint, rttMs: number): BindingResult {
  if (response.method !== StunMethod.binding || response.cls !== StunClass.successResponse) {
    throw StunError.malformed('not a Binding success response')
  }
  const message = { ...response, attributes: significantAttributes(response.attributes) }
  const result: BindingResult = { mapped: mappedAddress(message), rttMs, from }
  const origin = findAttribute(message, Attr.responseOrigin)
  if (origin) result.responseOrigin = decodeAddress(origin.value)
  const other = findAttribute(message, Attr.otherAddress) ?? findAttribute(message, Attr.changedAddress)
  if (other) result.otherAddress = decodeAddress(other.value)
  const software = findAttribute(message, Attr.software)
  if (software) result.software = decodeText(software.value)
  return result
}

function mappedAddress(message: DecodedMessage): FamilyEndpoint {
  const xor = findAttribute(message, Attr.xorMappedAddress)
  if (xor) return decodeAddress(xor.value, message.transactionId)
  const plain = findAttribute(message, Attr.mappedAddress)
  if (plain) return decodeAddress(plain.value)
  throw StunError.malformed('Binding response without XOR-MAPPED-ADDRESS or MAPPED-ADDRESS')
}
