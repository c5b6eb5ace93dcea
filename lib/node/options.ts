import { z } from 'zod'
import { PairctlError } from '../errors.js'

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
      `no paired device matches "${text}"; list them with: pairctl devices`,
    )
  }
}

const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^\s:[\]]+):\d{1,5}$/, 'HOST:PORT')

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
  port: z.number().int().min(0).max(65535).default(0),
  /** DHT bootstrap nodes, `HOST:PORT`. Empty: the node starts a DHT of its own. */
  bootstrap: z.array(hostPort).default([]),
  /** What the peer is shown when pairing. */
  deviceInfo: z.object({ name: z.string().min(1).max(64), type: z.string().min(1).max(64) }).optional(),
  /** Relays `HOST:PORT` to hold a reservation on, first preferred (`spec/relay.md` §8). Empty: look in the DHT. */
  relays: z.array(hostPort).default([]),
  /** Ask the router for a port mapping (UPnP / NAT-PMP / PCP). Off by default: it talks to the LAN. */
  portMapping: z.boolean().default(false),
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
  throw NodeError.badOption(`option ${issue?.path.join('.')}: ${issue?.message}`)
}
