import createDebug from 'debug'
import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { hostPort } from '../format.js'
import { untilAborted } from '../signals.js'

const debug = createDebug('pairctl:relay')

interface RelayArgs {
  port: number
  host?: string
  bootstrap?: string[]
  'connections-per-ip'?: number
  'circuits-per-ip'?: number
  'max-circuits'?: number
  'bytes-per-second'?: number
  'circuit-lifetime'?: number
  'idle-timeout'?: number
  'reservation-lifetime'?: number
  'upgrades-per-ip'?: number
  'upgrade-timeout'?: number
}

/** The limit flags: name, RelayLimits field, and the factor from the flag's unit to the field's. */
const LIMIT_FLAGS = [
  ['connections-per-ip', 'connectionsPerIp', 1, 'WebSocket connections from one IP address'],
  ['circuits-per-ip', 'circuitsPerIp', 1, 'circuits with an end at one IP address'],
  ['max-circuits', 'maxCircuits', 1, 'circuits in all'],
  ['bytes-per-second', 'bytesPerSecond', 1, 'bytes per second per circuit and direction'],
  ['circuit-lifetime', 'circuitLifetimeMs', 1000, 'seconds a circuit may last'],
  ['idle-timeout', 'idleTimeoutMs', 1000, 'seconds without data before a circuit is closed'],
  ['reservation-lifetime', 'reservationLifetimeMs', 1000, 'seconds a reservation lasts unless renewed'],
  [
    'upgrades-per-ip',
    'upgradesPerIp',
    1,
    'connections from one IP address still before their WebSocket upgrade',
  ],
  ['upgrade-timeout', 'upgradeTimeoutMs', 1000, 'seconds a connection may take to send its upgrade request'],
] as const

/**
 * `pairctl relay`: a WebSocket relay (`spec/relay.md`) splicing devices that cannot reach each other
 * directly; with `--bootstrap` it announces itself in the DHT so nodes find it without a flag.
 */
export const relayCommand: Command<RelayArgs> = {
  command: 'relay',
  describe: 'Run a relay for devices that cannot reach each other directly (end-to-end encrypted)',
  builder: (yargs: Argv) => {
    let built = yargs
      .option('port', { type: 'number', demandOption: true, describe: 'TCP port (0: any free port)' })
      .option('host', { type: 'string', describe: 'Address to bind (default: all interfaces)' })
      .option('bootstrap', {
        type: 'string',
        array: true,
        describe: 'DHT bootstrap node HOST:PORT to announce the relay through (repeatable)',
      })
    for (const [flag, , , describe] of LIMIT_FLAGS) built = built.option(flag, { type: 'number', describe })
    return built.example('$0 relay --port 4433 --bootstrap 203.0.113.1:49737', 'relay on TCP 4433, announced')
  },
  async run(args, ctx) {
    const [{ RelayServer, DEFAULT_LIMITS }, { announceRelay }] = await Promise.all([
      import('../../lib/relay/index.js'),
      import('../../lib/relay/announcer.js'),
    ])
    const limits = { ...DEFAULT_LIMITS }
    for (const [flag, field, factor] of LIMIT_FLAGS)
      if (args[flag] !== undefined) limits[field] = args[flag]! * factor
    const server = await RelayServer.listen({
      ...(args.host === undefined ? {} : { host: args.host }),
      port: args.port,
      limits,
      onEvent: (event) => debug('%o', event),
    })
    try {
      const { host, port } = server.address()
      const bootstrap = args.bootstrap ?? []
      const announcer = bootstrap.length === 0 ? null : await announceRelay({ host, port, bootstrap })
      try {
        const announced = announcer?.addresses.map((a) => hostPort(a.host, a.port)) ?? []
        ctx.out.emit({ type: 'listening', host, port, announced }, () =>
          [
            `relay: WebSocket on tcp ${hostPort(host, port)}`,
            ...(announced.length ? [`announced in the DHT as ${announced.join(', ')}`] : []),
          ].join('\n'),
        )
        await untilAborted(ctx.signal)
        debug('counters at exit: %o', server.core.counters)
      } finally {
        await announcer?.close()
      }
    } finally {
      await server.close()
    }
    return ExitCode.OK
  },
}
