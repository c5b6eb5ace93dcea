/**
 * An in-memory NAT (RFC 4787 mapping and filtering behaviours) between a client transaction and a
 * {@link StunServer} core, on a virtual clock, so RFC 5780 classification is tested for every
 * combination without sockets.
 */
import {
  type BindingProbe,
  ClientTransaction,
  createBindingRequest,
  type Endpoint,
  readBindingResponse,
  type StunServer,
} from '../../../lib/stun/index.js'

export type Behaviour = 'endpoint-independent' | 'address-dependent' | 'address-and-port-dependent'

/** The part of a remote endpoint a behaviour looks at: nothing, the IP, or IP and port. */
function remoteKey(behaviour: Behaviour, remote: Endpoint): string {
  if (behaviour === 'endpoint-independent') return '*'
  return behaviour === 'address-dependent' ? remote.host : `${remote.host}:${remote.port}`
}

/** A NAT with one public IP that allocates ports from 40000 up. */
export class SimulatedNat {
  readonly #mappings = new Map<string, number>()
  readonly #permissions = new Map<number, Set<string>>()
  #nextPort = 40000

  constructor(
    readonly publicIp: string,
    readonly mapping: Behaviour,
    readonly filtering: Behaviour,
  ) {}

  /** Translates an outbound packet; records the filtering permission it opens. */
  outbound(internal: Endpoint, destination: Endpoint): Endpoint {
    const key = `${internal.host}:${internal.port}|${remoteKey(this.mapping, destination)}`
    const port = this.#mappings.get(key) ?? this.#nextPort++
    this.#mappings.set(key, port)
    const permissions = this.#permissions.get(port) ?? new Set()
    permissions.add(remoteKey(this.filtering, destination))
    this.#permissions.set(port, permissions)
    return { host: this.publicIp, port }
  }

  /** Whether an inbound packet from `remote` to public `port` passes the filter. */
  inbound(port: number, remote: Endpoint): boolean {
    return this.#permissions.get(port)?.has(remoteKey(this.filtering, remote)) ?? false
  }
}

/** A probe from `internal` through `nat` (or straight, when null) to the server core, virtual time. */
export function simulatedProbe(
  nat: SimulatedNat | null,
  server: StunServer,
  internal: Endpoint,
): BindingProbe {
  let now = 0
  return async (destination, changeRequest) => {
    const { bytes, transactionId } = createBindingRequest({ changeRequest })
    const acceptAnySource = Boolean(changeRequest?.ip || changeRequest?.port)
    const tx = new ClientTransaction(
      { request: bytes, transactionId, destination, rto: 100, acceptAnySource },
      now,
    )
    while (!tx.done) {
      for (let out = tx.pollTransmit(now); out; out = tx.pollTransmit(now)) {
        const external = nat ? nat.outbound(internal, out.to) : internal
        const reply = server.respond(out.bytes, external, out.to)
        if (reply && (!nat || nat.inbound(external.port, reply.source)))
          tx.receive(reply.bytes, reply.source, now)
      }
      tx.handleTimeout(now)
      if (!tx.done) now = tx.pollTimeout() ?? now
    }
    const event = tx.nextEvent()!
    if (event.type === 'response') return readBindingResponse(event.message, event.from, event.rttMs)
    if (event.error.code === 'STUN_TIMEOUT') return null
    throw event.error
  }
}
