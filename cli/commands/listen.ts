import type { Argv } from 'yargs'
import { MessageInfo, PeerStatus } from '../../lib/control/protocol.js'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import { formatMessage, formatPeer } from '../format.js'

interface ListenArgs {
  count?: number
}

/**
 * `pairctl listen [--count N]`: prints messages from paired devices, and devices going online or offline,
 * as the daemon reports them, until Ctrl-C (or after N messages).
 */
export const listenCommand: Command<ListenArgs> = {
  command: 'listen',
  describe: 'Print messages from paired devices (and devices going online/offline) until Ctrl-C',
  builder: (yargs: Argv) =>
    yargs.option('count', { type: 'number', describe: 'Exit 0 after this many messages' }),
  async run(args, ctx) {
    if (args.count !== undefined && (!Number.isInteger(args.count) || args.count < 1))
      throw CliError.usage('--count must be a positive integer')
    return withDaemon(ctx, async (client) => {
      const events = client.events()
      ctx.signal.addEventListener('abort', () => void events.return?.(), { once: true })
      ctx.out.emit({ type: 'listening' }, () => 'listening for messages (Ctrl-C to stop)…')
      let received = 0
      for await (const { event, data } of events) {
        received += show(ctx.out, event, data)
        if (args.count !== undefined && received >= args.count) return ExitCode.OK
      }
      if (ctx.signal.aborted) throw ctx.signal.reason
      return ExitCode.OK
    })
  },
}

/** Prints one event; returns 1 for a message, 0 otherwise. */
function show(
  out: { emit(record: object, human: () => string): void },
  event: string,
  data: unknown,
): number {
  if (event === 'messages.received') {
    const message = MessageInfo.parse(data)
    out.emit({ type: 'message', ...message }, () => formatMessage(message))
    return 1
  }
  if (event === 'devices.online' || event === 'devices.offline') {
    const peer = PeerStatus.parse(data)
    out.emit({ type: event === 'devices.online' ? 'online' : 'offline', device: peer }, () =>
      formatPeer(peer),
    )
  }
  return 0
}
