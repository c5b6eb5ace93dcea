import createDebug from 'debug'
import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'
import { hostPort } from '../format.js'
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
      .option('port', { type: 'number', demandOption: true, describe: 'UDP port (0: any free port)' })
      .option('host', {
        type: 'string',
        default: '0.0.0.0',
        describe: 'Address to bind (default: every interface address, each reply from the one asked)',
      })
      .option('bootstrap', {
        type: 'string',
        array: true,
        describe: 'Other bootstrap nodes HOST:PORT to join',
      })
      .example('$0 bootstrap --port 49737', 'serve the DHT and STUN on UDP 49737'),
  async run(args, ctx) {
    const [{ DhtNode }, { StunServer }] = await Promise.all([
      import('../../lib/dht/node.js'),
      import('../../lib/stun/index.js'),
    ])
    const node = await DhtNode.create({
      host: args.host,
      port: args.port,
      bootstrap: args.bootstrap ?? [],
      mode: 'server',
    })
    try {
      const port = node.address().port
      // One STUN server per local address: a multi-homed node answers on each (`spec/dht.md` §11.1).
      const servers = new Map<string, InstanceType<typeof StunServer>>()
      const stunAt = (local: { host: string; port: number }) => {
        const key = hostPort(local.host, local.port)
        const server = servers.get(key) ?? new StunServer({ primary: local })
        servers.set(key, server)
        return server
      }
      node.onForeignDatagram((data, from, reply, local) => {
        const answer = stunAt(local).handle(data, from)
        if (answer !== null) reply(answer)
      })
      const addresses = node.addresses().map((address) => hostPort(address.host, address.port))
      ctx.out.emit(
        { type: 'listening', host: args.host, port, addresses },
        () => `bootstrap node: DHT and STUN on udp ${hostPort(args.host, port)} (${addresses.join(', ')})`,
      )
      await untilAborted(ctx.signal)
      debug(
        'stats at exit: %o, stun %o',
        node.stats(),
        [...servers.values()].map((server) => server.counters),
      )
    } finally {
      await node.close()
    }
    return ExitCode.OK
  },
}
