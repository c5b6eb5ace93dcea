import createDebug from 'debug'
import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { hostPort } from '../format.js'
import { parseBootstrap, parsePort } from '../network-options.js'
import { untilAborted } from '../signals.js'

const debug = createDebug('pairctl:bootstrap')

interface BootstrapArgs {
  port: number
  host: string
  bootstrap?: string[]
}

/**
 * `pairctl bootstrap`: a long-lived public DHT node (no identity, no pairing) that also answers STUN
 * Binding requests on the same UDP port (`spec/dht.md` §3.4), so a node learns its external address
 * from the node it bootstraps through.
 */
export const bootstrapCommand: Command<BootstrapArgs> = {
  command: 'bootstrap',
  describe: 'Run a public DHT bootstrap node that also answers STUN on the same UDP port',
  builder: (yargs: Argv) =>
    yargs
      .option('port', {
        requiresArg: true,
        coerce: parsePort,
        demandOption: true,
        describe: 'UDP port, 0-65535 (0: any free port)',
      })
      .option('host', {
        type: 'string',
        default: '0.0.0.0',
        describe: 'Address to bind (default: every interface address, each reply from the one asked)',
      })
      .option('bootstrap', {
        type: 'string',
        array: true,
        coerce: parseBootstrap,
        describe: 'Other bootstrap nodes HOST:PORT to join',
      })
      .example('$0 bootstrap --port 49737', 'serve the DHT and STUN on UDP 49737'),
  async run(args, ctx) {
    const { startBootstrapNode } = await import('../../lib/node/bootstrap.js')
    const node = await startBootstrapNode({ host: args.host, port: args.port, bootstrap: args.bootstrap })
    try {
      const addresses = node.addresses().map((address) => hostPort(address.host, address.port))
      ctx.out.emit(
        { type: 'listening', host: args.host, port: node.port, addresses },
        () =>
          `bootstrap node: DHT and STUN on udp ${hostPort(args.host, node.port)} (${addresses.join(', ')})`,
      )
      await untilAborted(ctx.signal)
      debug('stats at exit: %o', node.stats())
    } finally {
      await node.close()
    }
    return ExitCode.OK
  },
}
