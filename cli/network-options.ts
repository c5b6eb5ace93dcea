import { resolve } from 'node:path'
import type { Argv } from 'yargs'
import {
  BootstrapAddress,
  bootstrapFromEnv,
  type InstanceConfig,
  loadConfig,
  saveConfig,
} from '../lib/node/config.js'
import type { NodeOptions } from '../lib/node/options.js'
import type { Context } from './context.js'
import { CliError } from './errors.js'

/** Flags of every command that may run a node (`start`, `bootstrap`, embedded `generate` / `join`). */
export interface NetworkArgs {
  port?: number
  host?: string
  bootstrap?: string[]
  name?: string
  'port-mapping'?: boolean
  'lan-discovery'?: boolean
  relay?: string[]
  downloads?: string
  receive?: 'accept' | 'ask'
}

/** `--port N`: a whole number from 0 to 65535, else a usage error naming the flag and the range. */
export function parsePort(text: unknown): number {
  const word = String(text)
  if (!/^\d{1,5}$/.test(word) || Number(word) > 65535)
    throw CliError.usage(`--port must be a whole number from 0 to 65535 (0: any free port), not "${word}"`)
  return Number(word)
}

/** `--bootstrap HOST:PORT …`: each checked, else a usage error with an example. */
export function parseBootstrap(values: unknown): string[] {
  const nodes = (Array.isArray(values) ? values : [values]).map(String)
  const bad = nodes.find((node) => !BootstrapAddress.safeParse(node).success)
  if (bad !== undefined)
    throw CliError.usage(
      `--bootstrap takes HOST:PORT with a port from 1 to 65535 (e.g. 192.0.2.7:49737), not "${bad}"`,
    )
  return nodes
}

/** Adds the {@link NetworkArgs} flags. */
export function networkOptions<T>(yargs: Argv<T>) {
  return yargs
    .option('port', {
      requiresArg: true,
      coerce: parsePort,
      describe: 'UDP/TCP port to listen on, 0-65535 (default: any free port)',
    })
    .option('host', { type: 'string', describe: 'Address to bind (default: all interfaces)' })
    .option('bootstrap', {
      type: 'string',
      array: true,
      coerce: parseBootstrap,
      describe: 'DHT bootstrap node HOST:PORT, repeatable (default: $PAIRCTL_BOOTSTRAP or pairctl config)',
    })
    .option('name', { type: 'string', describe: 'Name shown to the other device (default: host name)' })
    .option('port-mapping', {
      type: 'boolean',
      describe:
        'Ask the router for a port mapping (UPnP/NAT-PMP/PCP); on by default, --no-port-mapping refuses',
    })
    .option('lan-discovery', {
      type: 'boolean',
      describe:
        'Find pairctl devices on this network over mDNS, so no bootstrap node is needed there; on by default, --no-lan-discovery refuses',
    })
    .option('downloads', {
      type: 'string',
      describe: 'Directory received files go to (default: <instance dir>/downloads)',
    })
    .option('receive', {
      choices: ['accept', 'ask'] as const,
      describe: 'Files offered by paired devices: accept at once (default) or ask (pairctl inbox)',
    })
    .option('relay', {
      type: 'string',
      array: true,
      describe: 'Relay HOST:PORT to be reachable through when not directly (repeatable)',
    })
}

/**
 * The node options for the instance of `ctx` (`spec/cli.md` §5): each setting from its flag, else (for
 * bootstrap nodes) `$PAIRCTL_BOOTSTRAP`, else the instance's configuration.
 */
export async function nodeOptions(args: NetworkArgs, ctx: Context): Promise<NodeOptions> {
  const config = await loadConfig(ctx.dir)
  const name = args.name ?? config.name
  return {
    dir: ctx.dir,
    instance: ctx.instance,
    host: args.host ?? config.host,
    port: args.port ?? config.port,
    bootstrap: configuredBootstrap(args, config),
    deviceInfo: name === undefined ? undefined : { name, type: 'desktop' },
    portMapping: args['port-mapping'] ?? true,
    lanDiscovery: args['lan-discovery'],
    downloads: args.downloads === undefined ? undefined : resolve(args.downloads),
    receive: args.receive,
    relays: args.relay ?? [],
  }
}

/** The bootstrap nodes this instance uses: flag, else `$PAIRCTL_BOOTSTRAP`, else the configuration. */
export function configuredBootstrap(args: NetworkArgs, config: InstanceConfig): string[] {
  return args.bootstrap ?? bootstrapFromEnv() ?? config.bootstrap ?? []
}

/**
 * Stores the settings given as flags in the instance's configuration, so a later `start`, `generate`
 * or `join` uses them without the flags; returns the keys that changed.
 */
export async function rememberFlags(args: NetworkArgs, ctx: Context): Promise<string[]> {
  const config = await loadConfig(ctx.dir)
  const given = { name: args.name, host: args.host, port: args.port, bootstrap: args.bootstrap }
  const changed = Object.entries(given).filter(
    ([key, value]) =>
      value !== undefined && JSON.stringify(value) !== JSON.stringify(config[key as keyof InstanceConfig]),
  )
  if (changed.length === 0) return []
  await saveConfig(ctx.dir, { ...config, ...Object.fromEntries(changed) })
  return changed.map(([key]) => key)
}

/** Says which flags were remembered, and how to change them. */
export async function rememberAndSay(args: NetworkArgs, ctx: Context): Promise<void> {
  const changed = await rememberFlags(args, ctx)
  if (changed.length > 0)
    ctx.out.note(
      `remembered ${changed.join(', ')} for this instance (see: pairctl config list${instanceFlag(ctx)})\n`,
    )
}

/** ` --instance NAME` for hints, or nothing for the default instance. */
export function instanceFlag(ctx: { instance: string }): string {
  return ctx.instance === 'default' ? '' : ` --instance ${ctx.instance}`
}

/** The same flags as command-line words, for the detached daemon child. */
export function networkFlags(args: NetworkArgs): string[] {
  const flags: string[] = []
  if (args.port !== undefined) flags.push('--port', String(args.port))
  if (args.host !== undefined) flags.push('--host', args.host)
  for (const node of args.bootstrap ?? []) flags.push('--bootstrap', node)
  if (args.name !== undefined) flags.push('--name', args.name)
  if (args['port-mapping'] === false) flags.push('--no-port-mapping')
  if (args['lan-discovery'] !== undefined)
    flags.push(args['lan-discovery'] ? '--lan-discovery' : '--no-lan-discovery')
  if (args.downloads !== undefined) flags.push('--downloads', resolve(args.downloads))
  if (args.receive !== undefined) flags.push('--receive', args.receive)
  for (const relay of args.relay ?? []) flags.push('--relay', relay)
  return flags
}

/**
 * A usage-checked whole number for flag `--name` in `[min, max]`, for yargs' `coerce` (`spec/cli.md` §4):
 * the message names the flag, the range and what was typed.
 */
export function wholeNumber(flag: string, min: number, max: number, unit = '') {
  return (text: unknown): number => {
    const word = String(text)
    const value = Number(word)
    if (!/^\d+$/.test(word) || value < min || value > max)
      throw CliError.usage(`--${flag} must be a whole number from ${min} to ${max}${unit}, not "${word}"`)
    return value
  }
}
