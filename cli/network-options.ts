import type { Argv } from 'yargs'
import type { NodeOptions } from '../lib/node/options.js'
import type { Context } from './context.js'

/** Flags of every command that may run a node (`start`, `bootstrap`, embedded `generate` / `join`). */
export interface NetworkArgs {
  port?: number
  host?: string
  bootstrap?: string[]
  name?: string
  'port-mapping'?: boolean
  relay?: string[]
}

/** Adds the {@link NetworkArgs} flags. */
export function networkOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('port', { type: 'number', describe: 'UDP/TCP port to listen on (default: any free port)' })
    .option('host', { type: 'string', describe: 'Address to bind (default: all interfaces)' })
    .option('bootstrap', {
      type: 'string',
      array: true,
      describe: 'DHT bootstrap node HOST:PORT (repeatable)',
    })
    .option('name', { type: 'string', describe: 'Name shown to the other device (default: host name)' })
    .option('port-mapping', {
      type: 'boolean',
      describe: 'Ask the router for a port mapping (UPnP/NAT-PMP/PCP)',
    })
    .option('relay', {
      type: 'string',
      array: true,
      describe: 'Relay HOST:PORT to be reachable through when not directly (repeatable)',
    })
}

/** The node options the flags describe, for the instance of `ctx`. */
export function nodeOptions(args: NetworkArgs, ctx: Context): NodeOptions {
  return {
    dir: ctx.dir,
    instance: ctx.instance,
    host: args.host,
    port: args.port,
    bootstrap: args.bootstrap ?? [],
    deviceInfo: args.name === undefined ? undefined : { name: args.name, type: 'desktop' },
    portMapping: args['port-mapping'] ?? false,
    relays: args.relay ?? [],
  }
}

/** The same flags as command-line words, for the detached daemon child. */
export function networkFlags(args: NetworkArgs): string[] {
  const flags: string[] = []
  if (args.port !== undefined) flags.push('--port', String(args.port))
  if (args.host !== undefined) flags.push('--host', args.host)
  for (const node of args.bootstrap ?? []) flags.push('--bootstrap', node)
  if (args.name !== undefined) flags.push('--name', args.name)
  if (args['port-mapping']) flags.push('--port-mapping')
  for (const relay of args.relay ?? []) flags.push('--relay', relay)
  return flags
}
