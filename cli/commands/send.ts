import type { Argv } from 'yargs'
import { MESSAGE_TEXT_MAX_BYTES } from '../../lib/control/constants.js'
import { messageSizeRule, utf8Length } from '../../lib/control/protocol.js'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { CliError } from '../errors.js'
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
      .positional('device', {
        type: 'string',
        demandOption: true,
        describe: 'Device ID, its first 4 or more characters, or its name',
      })
      .positional('text', {
        type: 'string',
        array: true,
        demandOption: true,
        default: undefined,
        describe: `The message, 1 to ${MESSAGE_TEXT_MAX_BYTES} bytes (words are joined by spaces)`,
      })
      .example('$0 send bob hello there', 'to the paired device named "bob"')
      .example('$0 --instance alice send TIY7 "see you at 5"', 'to the device whose ID starts with TIY7'),
  async run(args, ctx) {
    const text = args.text.join(' ')
    const bytes = utf8Length(text)
    if (bytes === 0 || bytes > MESSAGE_TEXT_MAX_BYTES)
      throw CliError.usage(`the message ${messageSizeRule(bytes)}`)
    const { to } = await withDaemon(ctx, (client) =>
      client.request('messages.send', { device: args.device, text }),
    )
    ctx.out.emit({ type: 'sent', to, text }, () => `sent to ${formatDevice(to)}`)
    return ExitCode.OK
  },
}
