import createDebug from 'debug'
import type { AddressManager } from '../addresses/index.js'
import { PortMapper } from '../portmap/index.js'

const debug = createDebug('pairctl:node')

/**
 * Asks the router for TCP and UDP mappings of the node's ports in the background and feeds what it
 * grants to the address book (source `upnp` / `natpmp` / `pcp`). Failures are logged, never fatal: most
 * routers refuse or lack all three protocols. Returns the function that deletes the mappings.
 */
export function mapPorts(
  addresses: AddressManager,
  ports: { tcp: number; udp: number },
): () => Promise<void> {
  const closing = new AbortController()
  const mapper = PortMapper.create({ signal: closing.signal })
  void mapper
    .then((m) => mapAll(m, addresses, ports))
    .catch((err) => debug('port mapping failed: %s', err.message))
  return async () => {
    closing.abort()
    await mapper.then((m) => m.close()).catch(() => undefined)
  }
}

async function mapAll(mapper: PortMapper, addresses: AddressManager, ports: { tcp: number; udp: number }) {
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
    addresses.add({
      host: mapping.externalHost,
      port: mapping.externalPort,
      protocol,
      source: mapping.method,
      expiresAt: Number.isFinite(mapping.expiresAt) ? mapping.expiresAt : undefined,
    })
  }
}
