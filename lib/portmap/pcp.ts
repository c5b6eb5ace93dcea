import { mappedToIpv4 } from './address.js'
import {
  IP_PROTOCOL,
  PCP_HEADER_SIZE,
  PCP_MAP_SIZE,
  PCP_MAX_SIZE,
  PCP_NONCE_SIZE,
  PCP_OP,
  PCP_RESULT,
  PCP_VERSION,
  RESPONSE_BIT,
} from './constants.js'
import type { TransportProtocol } from './types.js'

/**
 * PCP codec for the MAP opcode, RFC 6887 §7 (common header) and §11 (MAP). Pure functions. Decoding
 * returns `null` for anything that is not a PCP response we could act on; options after the MAP payload
 * are skipped (we send none, and §7.3 lets us ignore optional ones we did not ask for).
 */

/** A MAP request: addresses are 16-byte IPv4-mapped (see `address.ts`). */
export interface PcpMapRequest {
  lifetimeS: number
  clientAddress: Uint8Array
  nonce: Uint8Array
  protocol: TransportProtocol
  internalPort: number
  suggestedExternalPort: number
  suggestedExternalAddress: Uint8Array
}

/** A decoded response. `map` is present when the opcode is MAP and the payload is complete. */
export interface PcpResponse {
  version: number
  opcode: number
  resultCode: number
  lifetimeS: number
  epoch: number
  map?: {
    nonce: Uint8Array
    protocol: number
    internalPort: number
    externalPort: number
    /** Dotted IPv4, or `null` when the server assigned a non-IPv4-mapped address. */
    externalAddress: string | null
  }
}

/** Encodes a MAP request, 60 bytes (RFC 6887 §7.1 + §11.1). Lifetime 0 deletes (§15). */
export function encodePcpMapRequest(req: PcpMapRequest): Uint8Array {
  if (req.nonce.length !== PCP_NONCE_SIZE) throw new TypeError('PCP nonce must be 12 bytes')
  const out = new Uint8Array(PCP_HEADER_SIZE + PCP_MAP_SIZE)
  const view = new DataView(out.buffer)
  out[0] = PCP_VERSION
  out[1] = PCP_OP.map
  view.setUint32(4, req.lifetimeS)
  out.set(req.clientAddress, 8)
  out.set(req.nonce, 24)
  out[36] = IP_PROTOCOL[req.protocol]
  view.setUint16(40, req.internalPort)
  view.setUint16(42, req.suggestedExternalPort)
  out.set(req.suggestedExternalAddress, 44)
  return out
}

/**
 * Decodes a response (RFC 6887 §7.2). A version other than 2 still decodes (header fields only) so the
 * caller can see UNSUPP_VERSION from a NAT-PMP-only server (RFC 6887 Appendix A).
 */
export function decodePcpResponse(bytes: Uint8Array): PcpResponse | null {
  if (bytes.length < 4 || bytes.length > PCP_MAX_SIZE || (bytes[1]! & RESPONSE_BIT) === 0) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const head = { version: bytes[0]!, opcode: bytes[1]! & ~RESPONSE_BIT, resultCode: bytes[3]! }
  if (head.version !== PCP_VERSION) return { ...head, lifetimeS: 0, epoch: 0 }
  if (bytes.length < PCP_HEADER_SIZE || bytes.length % 4 !== 0) return null
  const response: PcpResponse = { ...head, lifetimeS: view.getUint32(4), epoch: view.getUint32(8) }
  if (head.opcode !== PCP_OP.map) return response
  if (bytes.length < PCP_HEADER_SIZE + PCP_MAP_SIZE) return null
  return { ...response, map: decodeMapPayload(bytes.subarray(PCP_HEADER_SIZE), view) }
}

function decodeMapPayload(payload: Uint8Array, view: DataView): PcpResponse['map'] {
  return {
    nonce: payload.slice(0, PCP_NONCE_SIZE),
    protocol: payload[12]!,
    internalPort: view.getUint16(PCP_HEADER_SIZE + 16),
    externalPort: view.getUint16(PCP_HEADER_SIZE + 18),
    externalAddress: mappedToIpv4(payload.subarray(20, 36)),
  }
}

/** Name of a PCP result code for messages (RFC 6887 §7.4). */
export function pcpResultName(code: number): string {
  const entry = Object.entries(PCP_RESULT).find(([, value]) => value === code)
  return entry ? entry[0] : 'unknown'
}
