import type { Argv } from 'yargs'
import { ControlError } from '../../lib/control/errors.js'
import { MessageInfo, PeerStatus } from '../../lib/control/protocol.js'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { formatMessage, formatPeer } from '../format.js'
import { wholeNumber } from '../network-options.js'
import type { Output } from '../output.js'

interface ListenArgs {
  count?: number
}

/**
 * `pairctl listen [--count N]`: prints messages from paired devices, and devices going online or offline,
 * as the daemon reports them, until Ctrl-C (or after N messages). The daemon stopping is an error
 * (`CONTROL_DAEMON_STOPPED`, exit 6): a script must not mistake it for a normal end.
 */
export const listenCommand: Command<ListenArgs> = {
  command: 'listen',
  describe: 'Print messages from paired devices (and devices going online/offline) until Ctrl-C',
  builder: (yargs: Argv) =>
    yargs
      .option('count', {
        requiresArg: true,
        coerce: wholeNumber('count', 1, Number.MAX_SAFE_INTEGER),
        describe: 'Exit 0 after this many messages (default: run until Ctrl-C)',
      })
      .example('$0 listen', 'print messages as they arrive')
      .example('$0 --instance bob listen --count 1 --json', 'wait for one message, as a JSON line'),
  async run(args, ctx) {
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
      throw new ControlError(
        'CONTROL_DAEMON_STOPPED',
        `the daemon of instance "${ctx.instance}" stopped; no more messages will arrive`,
      )
    })
  },
}

/** Prints one event; returns 1 for a message, 0 otherwise. */
function show(out: Output, event: string, data: unknown): number {
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
