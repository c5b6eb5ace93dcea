import { z } from 'zod'
import { PairctlError } from '../errors.js'
import { BootstrapAddress } from './config.js'

/** Errors of `lib/node` (`spec/control.md` §6). */
export class NodeError extends PairctlError {
  static badOption(message: string): NodeError {
    return new NodeError('NODE_BAD_OPTION', message)
  }

  static closed(): NodeError {
    return new NodeError('NODE_CLOSED', 'the node is closed')
  }

  static unknownDevice(text: string): NodeError {
    return new NodeError(
      'NODE_UNKNOWN_DEVICE',
      `no paired device matches "${text}" (give a device ID, at least 4 leading characters of one, or a name)`,
    )
  }
}

/** How long `join` keeps looking for the code's advertisement when the caller gives no timeout. */
export const DEFAULT_JOIN_TIMEOUT_MS = 30_000

/** Options of {@link createNode}, validated at the library boundary. */
export const NodeOptions = z.object({
  /** Instance name under `home` (default `default`); ignored when `dir` is given. */
  instance: z.string().optional(),
  /** The instance directory itself (identity, paired devices, lock, control socket). */
  dir: z.string().optional(),
  /** `$PAIRCTL_HOME` override. */
  home: z.string().optional(),
  /** Address the UDP (DHT) and TCP (pairing) sockets bind to; tests use 127.0.0.1. */
  host: z.string().default('0.0.0.0'),
  /** UDP port of the DHT node (0: any). The TCP listener takes the same number when free. */
  port: z
    .number({ error: 'must be a whole number from 0 to 65535' })
    .int('must be a whole number from 0 to 65535')
    .min(0, 'must be a whole number from 0 to 65535')
    .max(65535, 'must be a whole number from 0 to 65535')
    .default(0),
  /** DHT bootstrap nodes, `HOST:PORT`. Empty: the node starts a DHT of its own. */
  bootstrap: z.array(BootstrapAddress).default([]),
  /** What the peer is shown when pairing. */
  deviceInfo: z.object({ name: z.string().min(1).max(64), type: z.string().min(1).max(64) }).optional(),
  /**
   * Ask the router for a port mapping (UPnP / NAT-PMP / PCP), released at close and made again after
   * the router restarts (`spec/portmap.md` §6). On by default; never for a loopback `host`, which no
   * router forwards to.
   */
  portMapping: z.boolean().default(true),
  /**
   * Find pairctl nodes on the LAN over multicast DNS and join the DHT through them
   * (`spec/discovery.md`), so that devices of one network pair with no bootstrap node. On by default
   * (every IPv4 interface for a wildcard `host`, the interface of a specific one); for a loopback
   * `host` only when set to `true`.
   */
  lanDiscovery: z.boolean().optional(),
  /** The mDNS port, 5353; tests pass another so that they meet no real responder. */
  mdnsPort: z.number().int().min(1).max(65535).default(5353),
  /** Where received files go (`spec/transfer.md` §6); default `<instance dir>/downloads`. */
  downloads: z.string().min(1).optional(),
  /** Offers from paired devices: `accept` (default) starts them at once, `ask` keeps them in the inbox. */
  receive: z.enum(['accept', 'ask']).default('accept'),
  /** Relays `HOST:PORT` to hold a reservation on, first preferred (`spec/relay.md` §8). Empty: look in the DHT. */
  relays: z.array(BootstrapAddress).default([]),
  /** Take the instance lock (default). Off only for a second, read-only view of an instance. */
  lock: z.boolean().default(true),
  signal: z.instanceof(AbortSignal).optional(),
})
export type NodeOptions = z.input<typeof NodeOptions>
export type ResolvedNodeOptions = z.output<typeof NodeOptions>

/** Validates options; a violation is `NODE_BAD_OPTION` naming the field. */
export function resolveNodeOptions(options: NodeOptions): ResolvedNodeOptions {
  const parsed = NodeOptions.safeParse(options)
  if (parsed.success) return parsed.data
  const issue = parsed.error.issues[0]
  const [name, index] = issue?.path ?? []
  const which =
    typeof index === 'number' ? `entry ${index + 1} of option ${String(name)}` : `option ${String(name)}`
  const value = typeof index === 'number' ? ` ("${String(options.bootstrap?.[index])}")` : ''
  throw NodeError.badOption(`${which}${value} ${issue?.message}`)
}
