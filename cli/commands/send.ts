import type { Argv } from 'yargs'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { formatDevice } from '../format.js'

interface SendArgs {
  device: string
  text: string[]
}

/** `pairctl send <device> <text…>`: a message to an online paired device, through the daemon. */
export const sendCommand: Command<SendArgs> = {
  command: 'send <device> <text..>',
  describe: 'Send a text message to an online paired device (needs the daemon: pairctl start)',
  builder: (yargs: Argv) =>
    yargs
      .positional('device', { type: 'string', demandOption: true, describe: 'device ID, ID prefix or name' })
      .positional('text', { type: 'string', array: true, demandOption: true }),
  async run(args, ctx) {
    const text = args.text.join(' ')
    const { to } = await withDaemon(ctx, (client) =>
      client.request('messages.send', { device: args.device, text }),
    )
    ctx.out.emit({ type: 'sent', to, text }, () => `sent to ${formatDevice(to)}`)
    return ExitCode.OK
  },
}
