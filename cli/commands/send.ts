import { resolve } from 'node:path'
import type { Argv } from 'yargs'
import { MESSAGE_TEXT_MAX_BYTES } from '../../lib/control/constants.js'
import { messageSizeRule, utf8Length } from '../../lib/control/protocol.js'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import { formatDevice } from '../format.js'
import { requestAndFollow } from '../transfer-view.js'

interface SendArgs {
  device: string
  text?: string[]
  file?: string[]
}

/**
 * `pairctl send <device> <text…>`: a message, reported sent once the device acknowledged it;
 * `pairctl send <device> --file PATH [--file PATH…]`: files and directories as one offer, with progress.
 */
export const sendCommand: Command<SendArgs> = {
  command: 'send <device> [text..]',
  describe: 'Send a message, or files with --file, to a paired device (needs the daemon: pairctl start)',
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
        default: undefined,
        describe: `The message, 1 to ${MESSAGE_TEXT_MAX_BYTES} bytes (words are joined by spaces)`,
      })
      .option('file', {
        type: 'string',
        array: true,
        describe: 'A file or directory to send (repeatable; all in one offer)',
      })
      .example('$0 send bob hello there', 'to the paired device named "bob"')
      .example('$0 --instance alice send TIY7 "see you at 5"', 'to the device whose ID starts with TIY7')
      .example('$0 send laptop --file report.pdf --file photos', 'send a file and a directory'),
  async run(args, ctx) {
    const files = args.file ?? []
    const text = (args.text ?? []).join(' ')
    if (files.length > 0 && text !== '') throw CliError.usage('send either a message or --file, not both')
    if (files.length > 0)
      return withDaemon(ctx, (client) =>
        requestAndFollow(ctx, client, () =>
          client.request('transfers.send', {
            device: args.device,
            files: files.map((file) => resolve(file)),
          }),
        ),
      )
    const bytes = utf8Length(text)
    if (bytes === 0 || bytes > MESSAGE_TEXT_MAX_BYTES)
      throw CliError.usage(`the message ${messageSizeRule(bytes)}; to send files, pass --file PATH`)
    const { to } = await withDaemon(ctx, (client) =>
      client.request('messages.send', { device: args.device, text }),
    )
    ctx.out.emit({ type: 'sent', to, text }, () => `sent to ${formatDevice(to)} (acknowledged)`)
    return ExitCode.OK
  },
}
