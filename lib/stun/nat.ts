/**
 * NAT behaviour discovery (RFC 5780 §4.3 mapping, §4.4 filtering). The tests are sequences of
 * Binding transactions from one local socket; the transactions themselves come from an injected
 * {@link BindingProbe}, so this logic runs over real sockets ({@link classifyNat}) or an in-memory
 * simulated NAT alike. Spec: `spec/stun.md` §8.
 * @module
 */
import type { Endpoint, FamilyEndpoint } from './address.js'
import type { ChangeRequest } from './attributes.js'
import type { BindingResult } from './binding.js'
import { StunError } from './errors.js'
import { sameEndpoint } from './transaction.js'

/** RFC 4787 §4.1 mapping behaviour, or `unknown` when the server cannot tell (no OTHER-ADDRESS, loss). */
export type MappingBehaviour =
  | 'endpoint-independent'
  | 'address-dependent'
  | 'address-and-port-dependent'
  | 'unknown'

/** RFC 4787 §5 filtering behaviour, or `unknown` when the server cannot honour CHANGE-REQUEST. */
export type FilteringBehaviour = MappingBehaviour

/** What {@link classifyNatWith} found. */
export interface NatClassification {
  mapping: MappingBehaviour
  filtering: FilteringBehaviour
  /** The mapped address of test I (the one to advertise for this socket). */
  mappedAddress: FamilyEndpoint
  /** false when the mapped address equals the local one (no NAT), undefined when the local address is unknown. */
  natPresent: boolean | undefined
  /** The server's OTHER-ADDRESS, if it has one. */
  otherAddress?: FamilyEndpoint
}

/**
 * One Binding transaction from the classification's socket. Resolves `null` when no response came
 * (a filtering test's negative answer); rejects with {@link StunError} on anything else.
 */
export type BindingProbe = (server: Endpoint, changeRequest?: ChangeRequest) => Promise<BindingResult | null>

/** Runs RFC 5780 §4.3 and §4.4 against `server`; `local` is the socket's address when known. */
export async function classifyNatWith(
  server: Endpoint,
  probe: BindingProbe,
  local?: Endpoint,
): Promise<NatClassification> {
  const first = await probe(server)
  if (!first) throw StunError.timeout(`${server.host}:${server.port}`)
  const natPresent = local && isSpecific(local.host) ? !sameEndpoint(first.mapped, local) : undefined
  const result: NatClassification = {
    mapping: 'unknown',
    filtering: 'unknown',
    mappedAddress: first.mapped,
    natPresent,
  }
  const other = first.otherAddress
  if (!other) return result
  result.otherAddress = other
  // Filtering first: the mapping tests send to the other address, which would open the NAT's
  // filter for it and make an address-dependent filter look endpoint-independent.
  result.filtering = await filteringBehaviour(server, probe)
  result.mapping =
    natPresent === false ? 'endpoint-independent' : await mappingBehaviour(server, other, first, probe)
  return result
}

/** RFC 5780 §4.3: test II to (other IP, primary port), test III to (other IP, other port). */
async function mappingBehaviour(
  server: Endpoint,
  other: Endpoint,
  first: BindingResult,
  probe: BindingProbe,
): Promise<MappingBehaviour> {
  if (sameHost(other, server)) return 'unknown' // needs a second IP to vary the destination address
  const second = await probe({ host: other.host, port: server.port })
  if (!second) return 'unknown'
  if (sameEndpoint(second.mapped, first.mapped)) return 'endpoint-independent'
  const third = await probe({ host: other.host, port: other.port })
  if (!third) return 'unknown'
  return sameEndpoint(third.mapped, second.mapped) ? 'address-dependent' : 'address-and-port-dependent'
}

/** RFC 5780 §4.4: test II asks for a reply from the other IP and port, test III from the other port. */
async function filteringBehaviour(server: Endpoint, probe: BindingProbe): Promise<FilteringBehaviour> {
  const both = await changedProbe(server, { ip: true, port: true }, probe)
  if (both === 'refused') return 'unknown'
  if (both === 'answered') return 'endpoint-independent'
  const port = await changedProbe(server, { port: true }, probe)
  if (port === 'refused') return 'unknown'
  return port === 'answered' ? 'address-dependent' : 'address-and-port-dependent'
}

/** A CHANGE-REQUEST probe: answered, silent, or refused by the server (it cannot change, 420/400). */
async function changedProbe(
  server: Endpoint,
  change: ChangeRequest,
  probe: BindingProbe,
): Promise<'answered' | 'silent' | 'refused'> {
  try {
    return (await probe(server, change)) ? 'answered' : 'silent'
  } catch (error) {
    if (error instanceof StunError && error.code === 'STUN_ERROR_RESPONSE') return 'refused'
    throw error
  }
}

function sameHost(a: Endpoint, b: Endpoint): boolean {
  return sameEndpoint({ host: a.host, port: 0 }, { host: b.host, port: 0 })
}

function isSpecific(host: string): boolean {
  return host !== '0.0.0.0' && host !== '::'
}
