import createDebug from 'debug'
import type { AddressCandidate, AddressManager } from '../addresses/index.js'
import { isLoopback } from '../dht/address.js'
import { type Mapping, PortMapper } from '../portmap/index.js'

const debug = createDebug('pairctl:node')

/** Port mapping running in the background for a node. */
export interface PortMapping {
  /** Settles (never rejects) once the first mappings were granted or every method failed. */
  settled: Promise<void>
  /** Deletes the mappings. */
  close(): Promise<void>
}

/**
 * Whether a node bound to `host` asks the router for mappings: not when bound to loopback (nothing
 * outside the host could use the mapping, and a test node must not talk to the LAN's router).
 */
export function mapsFrom(host: string): boolean {
  return !isLoopback(host)
}

/**
 * Asks the router for TCP and UDP mappings of the node's ports in the background and feeds what it
 * grants to the address book (source `upnp` / `natpmp` / `pcp`), keeping it current as leases are
 * renewed (new expiry, possibly a new external port) or lost (withdrawn). Failures are logged, never
 * fatal: most routers refuse or lack all three protocols.
 */
export function mapPorts(addresses: AddressManager, ports: { tcp: number; udp: number }): PortMapping {
  const closing = new AbortController()
  const mapper = PortMapper.create({ signal: closing.signal })
  const settled = mapper
    .then((m) => mapAll(m, addresses, ports))
    .catch((err) => debug('port mapping failed: %s', err.message))
  return {
    settled,
    async close() {
      closing.abort()
      await mapper.then((m) => m.close()).catch(() => undefined)
    },
  }
}

async function mapAll(mapper: PortMapper, addresses: AddressManager, ports: { tcp: number; udp: number }) {
  const granted = new Map<string, AddressCandidate>()
  mapper.on('renewed', (mapping) => track(addresses, granted, mapping))
  mapper.on('lost', (mapping, err) => {
    debug('lost mapping of %s %d: %s', mapping.protocol, mapping.internalPort, err.message)
    untrack(addresses, granted, mapping)
  })
  for (const protocol of ['tcp', 'udp'] as const) {
    const mapping = await mapper.map({ protocol, internalPort: ports[protocol] })
    debug(
      'mapped %s %d → %s:%d (%s)',
      protocol,
      ports[protocol],
      mapping.externalHost,
      mapping.externalPort,
      mapping.method,
    )
    track(addresses, granted, mapping)
  }
}

/**
 * Puts a mapping's external address in the book, replacing what the same internal port had before. A
 * renewal of the same address only refreshes its expiry: no `change`, so the records are republished
 * when the mapped address changes (a restarted router granting another port), not at every check.
 */
function track(addresses: AddressManager, granted: Map<string, AddressCandidate>, mapping: Mapping): void {
  const previous = granted.get(keyOf(mapping))
  const candidate = candidateOf(mapping)
  if (previous?.host !== candidate.host || previous.port !== candidate.port)
    untrack(addresses, granted, mapping)
  granted.set(keyOf(mapping), candidate)
  addresses.add(candidate)
}

function untrack(addresses: AddressManager, granted: Map<string, AddressCandidate>, mapping: Mapping): void {
  const previous = granted.get(keyOf(mapping))
  if (previous === undefined) return
  granted.delete(keyOf(mapping))
  addresses.remove(previous)
}

function keyOf(mapping: Mapping): string {
  return `${mapping.protocol}/${mapping.internalPort}`
}

function candidateOf(mapping: Mapping): AddressCandidate {
  return {
    host: mapping.externalHost,
    port: mapping.externalPort,
    protocol: mapping.protocol,
    source: mapping.method,
    expiresAt: Number.isFinite(mapping.expiresAt) ? mapping.expiresAt : undefined,
  }
}
