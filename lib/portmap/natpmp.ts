import { NATPMP_OP, NATPMP_RESULT, NATPMP_VERSION, RESPONSE_BIT } from './constants.js'
import type { TransportProtocol } from './types.js'

/**
 * NAT-PMP codec, RFC 6886 §3. Pure functions: bytes in, values out. Decoders return `null` for a
 * datagram that is not a well-formed NAT-PMP response, so the caller drops and counts it.
 */

/**
 * A decoded NAT-PMP response (RFC 6886 §3.2, §3.3). A non-zero result code decodes as `op: 'error'`
 * whatever the length, because §3.5 lets a server send only the 8-byte header then.
 */
export type NatPmpResponse =
  | { op: 'error'; requestOp: number; resultCode: number; epoch: number }
  | { op: 'externalAddress'; resultCode: number; epoch: number; externalAddress: string }
  | {
      op: 'map'
      protocol: TransportProtocol
      resultCode: number
      epoch: number
      internalPort: number
      externalPort: number
      lifetimeS: number
    }

/** External address request: version 0, opcode 0 (RFC 6886 §3.2). */
export function encodeNatPmpExternalAddressRequest(): Uint8Array {
  return Uint8Array.of(NATPMP_VERSION, NATPMP_OP.externalAddress)
}

/**
 * Mapping request (RFC 6886 §3.3). Lifetime 0 with external port 0 deletes the mapping (§3.4).
 */
export function encodeNatPmpMapRequest(req: {
  protocol: TransportProtocol
  internalPort: number
  externalPort: number
  lifetimeS: number
}): Uint8Array {
  const out = new Uint8Array(12)
  const view = new DataView(out.buffer)
  out[0] = NATPMP_VERSION
  out[1] = mapOpcode(req.protocol)
  view.setUint16(4, req.internalPort)
  view.setUint16(6, req.externalPort)
  view.setUint32(8, req.lifetimeS)
  return out
}

/** Decodes a response; `null` if it is not a NAT-PMP response of a known opcode and exact size. */
export function decodeNatPmpResponse(bytes: Uint8Array): NatPmpResponse | null {
  if (bytes.length < 8 || bytes[0] !== NATPMP_VERSION) return null
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const op = bytes[1]! - RESPONSE_BIT
  const resultCode = view.getUint16(2)
  const epoch = view.getUint32(4)
  if (op < 0 || op > NATPMP_OP.mapTcp) return null
  if (resultCode !== NATPMP_RESULT.success) return { op: 'error', requestOp: op, resultCode, epoch }
  if (op === NATPMP_OP.externalAddress && bytes.length === 12) {
    return { op: 'externalAddress', resultCode, epoch, externalAddress: bytes.subarray(8, 12).join('.') }
  }
  if ((op === NATPMP_OP.mapUdp || op === NATPMP_OP.mapTcp) && bytes.length === 16) {
    const protocol = op === NATPMP_OP.mapUdp ? 'udp' : 'tcp'
    const [internalPort, externalPort] = [view.getUint16(8), view.getUint16(10)]
    return {
      op: 'map',
      protocol,
      resultCode,
      epoch,
      internalPort,
      externalPort,
      lifetimeS: view.getUint32(12),
    }
  }
  return null
}

/** Name of a NAT-PMP result code for messages (RFC 6886 §3.5). */
export function natPmpResultName(code: number): string {
  const entry = Object.entries(NATPMP_RESULT).find(([, value]) => value === code)
  return entry ? entry[0] : 'unknown'
}

function mapOpcode(protocol: TransportProtocol): number {
  return protocol === 'udp' ? NATPMP_OP.mapUdp : NATPMP_OP.mapTcp
}
