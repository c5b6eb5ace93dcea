import { NATPMP_OP } from './constants.js'
import { PortmapError } from './errors.js'
import {
  decodeNatPmpResponse,
  encodeNatPmpExternalAddressRequest,
  encodeNatPmpMapRequest,
  type NatPmpResponse,
  natPmpResultName,
} from './natpmp.js'
import { udpExchange } from './transport.js'
import type { GatewayEndpoint, Grant, MethodDriver, ResolvedMapRequest, TransportProtocol } from './types.js'

type Success<Op extends NatPmpResponse['op']> = Extract<NatPmpResponse, { op: Op }>

/** NAT-PMP client (RFC 6886): external address, map, delete. spec/portmap.md §3. */
export class NatPmpClient implements MethodDriver {
  readonly method = 'natpmp'

  constructor(private readonly gateway: GatewayEndpoint) {}

  /** RFC 6886 §3.2. A reserved or private address is returned as is. */
  async externalAddress(signal?: AbortSignal): Promise<string> {
    const reply = await this.request(encodeNatPmpExternalAddressRequest(), NATPMP_OP.externalAddress, signal)
    return (reply as Success<'externalAddress'>).externalAddress
  }

  /** RFC 6886 §3.3; the gateway may grant another port and a shorter lifetime. */
  async map(req: ResolvedMapRequest, signal?: AbortSignal): Promise<Grant> {
    const reply = (await this.exchangeMap(req, signal)) as Success<'map'>
    if (reply.lifetimeS === 0) throw PortmapError.malformed('natpmp', 'mapping granted with lifetime 0')
    const externalHost = await this.externalAddress(signal)
    return {
      ...req,
      externalHost,
      externalPort: reply.externalPort,
      lifetimeS: reply.lifetimeS,
      epoch: reply.epoch,
    }
  }

  /** RFC 6886 §3.4: lifetime 0 and external port 0 delete the mapping. */
  async unmap(grant: Grant, signal?: AbortSignal): Promise<void> {
    await this.exchangeMap({ ...grant, externalPort: 0, lifetimeS: 0 }, signal)
  }

  private exchangeMap(req: ResolvedMapRequest, signal: AbortSignal | undefined): Promise<NatPmpResponse> {
    const op = req.protocol === 'udp' ? NATPMP_OP.mapUdp : NATPMP_OP.mapTcp
    return this.request(encodeNatPmpMapRequest(req), op, signal, (r) =>
      matchesMap(r, req.protocol, req.internalPort),
    )
  }

  private async request(
    bytes: Uint8Array,
    op: number,
    signal: AbortSignal | undefined,
    matches: (r: NatPmpResponse) => boolean = () => true,
  ): Promise<NatPmpResponse> {
    const reply = await udpExchange({
      method: 'natpmp',
      ...this.gateway,
      signal,
      build: () => [bytes],
      decode: (data) => acceptReply(decodeNatPmpResponse(data), op, matches),
    })
    if (!reply) throw PortmapError.timeout('natpmp', `opcode ${op}`)
    if (reply.op === 'error')
      throw PortmapError.refused('natpmp', reply.resultCode, natPmpResultName(reply.resultCode))
    return reply
  }
}

function acceptReply(
  reply: NatPmpResponse | null,
  op: number,
  matches: (r: NatPmpResponse) => boolean,
): NatPmpResponse | null {
  if (!reply) return null
  if (reply.op === 'error') return reply.requestOp === op ? reply : null
  return replyOpcode(reply) === op && matches(reply) ? reply : null
}

function replyOpcode(reply: Exclude<NatPmpResponse, { op: 'error' }>): number {
  if (reply.op === 'externalAddress') return NATPMP_OP.externalAddress
  return reply.protocol === 'udp' ? NATPMP_OP.mapUdp : NATPMP_OP.mapTcp
}

function matchesMap(reply: NatPmpResponse, protocol: TransportProtocol, internalPort: number): boolean {
  return reply.op === 'map' && reply.protocol === protocol && reply.internalPort === internalPort
}
