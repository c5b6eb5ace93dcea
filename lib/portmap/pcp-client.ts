import { randomBytes } from 'node:crypto'
import { ipv4ToMapped } from './address.js'
import { IP_PROTOCOL, PCP_OP, PCP_RESULT, PCP_VERSION } from './constants.js'
import { PortmapError } from './errors.js'
import { NatPmpClient } from './natpmp-client.js'
import { decodePcpResponse, encodePcpMapRequest, type PcpResponse, pcpResultName } from './pcp.js'
import { udpExchange } from './transport.js'
import type { GatewayEndpoint, Grant, MethodDriver, ResolvedMapRequest } from './types.js'

type MapReply = PcpResponse & { map: NonNullable<PcpResponse['map']> }

/**
 * PCP client, MAP opcode only (RFC 6887 §11). spec/portmap.md §4. One nonce per (protocol, internal
 * port), kept for renewals and the delete, as §11.2.1 requires.
 */
export class PcpClient implements MethodDriver {
  readonly method = 'pcp'
  private readonly nonces = new Map<string, Uint8Array>()
  private lastExternalAddress: string | undefined

  constructor(private readonly gateway: GatewayEndpoint) {}

  /**
   * PCP has no address-only request. We answer from the last MAP reply, else ask NAT-PMP opcode 0 on
   * the same server port (RFC 6887 Appendix A: PCP servers commonly also speak NAT-PMP).
   */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    return this.lastExternalAddress ?? new NatPmpClient(this.gateway).externalAddress(signal)
  }

  /** MAP with the suggested port and no suggested address (`::ffff:0.0.0.0`), RFC 6887 §11.1. */
  async map(req: ResolvedMapRequest, signal?: AbortSignal): Promise<Grant> {
    const reply = await this.exchange(req, signal)
    const externalHost = reply.map.externalAddress
    if (!externalHost || reply.lifetimeS === 0)
      throw PortmapError.malformed('pcp', 'no IPv4 address or lifetime 0')
    this.lastExternalAddress = externalHost
    const { lifetimeS, epoch } = reply
    return { ...req, externalHost, externalPort: reply.map.externalPort, lifetimeS, epoch }
  }

  /** MAP with lifetime 0 and the mapping's nonce deletes it (RFC 6887 §15). */
  async unmap(grant: Grant, signal?: AbortSignal): Promise<void> {
    await this.exchange({ ...grant, lifetimeS: 0 }, signal)
    this.nonces.delete(nonceKey(grant))
  }

  private async exchange(req: ResolvedMapRequest, signal: AbortSignal | undefined): Promise<MapReply> {
    const nonce = this.nonceFor(req)
    const reply = await udpExchange({
      method: 'pcp',
      ...this.gateway,
      signal,
      build: (localAddress) => [encodeRequest(req, nonce, localAddress)],
      decode: (data) => acceptReply(decodePcpResponse(data), req, nonce),
    })
    if (!reply) throw PortmapError.timeout('pcp', 'MAP')
    if (reply.resultCode !== PCP_RESULT.success || !reply.map) {
      throw PortmapError.refused('pcp', reply.resultCode, pcpResultName(reply.resultCode))
    }
    return reply as MapReply
  }

  private nonceFor(req: ResolvedMapRequest): Uint8Array {
    const key = nonceKey(req)
    const nonce = this.nonces.get(key) ?? new Uint8Array(randomBytes(12))
    this.nonces.set(key, nonce)
    return nonce
  }
}

function encodeRequest(req: ResolvedMapRequest, nonce: Uint8Array, localAddress: string): Uint8Array {
  return encodePcpMapRequest({
    lifetimeS: req.lifetimeS,
    clientAddress: ipv4ToMapped(localAddress),
    nonce,
    protocol: req.protocol,
    internalPort: req.internalPort,
    suggestedExternalPort: req.externalPort,
    suggestedExternalAddress: ipv4ToMapped('0.0.0.0'),
  })
}

/**
 * A reply is ours when it is a MAP reply echoing our nonce, protocol and port (RFC 6887 §11.3), or
 * an error without payload (UNSUPP_VERSION from a NAT-PMP-only server, RFC 6887 Appendix A).
 */
function acceptReply(
  reply: PcpResponse | null,
  req: ResolvedMapRequest,
  nonce: Uint8Array,
): PcpResponse | null {
  if (!reply) return null
  if (reply.version !== PCP_VERSION || !reply.map)
    return reply.resultCode !== PCP_RESULT.success ? reply : null
  const m = reply.map
  const ours = m.protocol === IP_PROTOCOL[req.protocol] && m.internalPort === req.internalPort
  return reply.opcode === PCP_OP.map && ours && Buffer.from(m.nonce).equals(nonce) ? reply : null
}

function nonceKey(req: { protocol: string; internalPort: number }): string {
  return `${req.protocol}:${req.internalPort}`
}
