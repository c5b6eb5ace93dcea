import type { Argv } from 'yargs'
import { loadOrCreateIdentity } from '../../lib/identity/index.js'
import type { Command } from '../command.js'
import { ExitCode } from '../exit-codes.js'

/** `pairctl id`: prints this instance's device ID, creating the identity on first use. */
export const idCommand: Command<object> = {
  command: 'id',
  describe: "Print this device's ID (creates the identity on first use)",
  builder: (yargs: Argv) =>
    yargs.example('$0 id --instance alice --json', 'prints {"type":"id","deviceId":"…"}'),
  async run(_args, ctx) {
    const identity = await loadOrCreateIdentity(ctx.dir)
    ctx.out.emit({ type: 'id', deviceId: identity.deviceId }, () => identity.deviceId)
    return ExitCode.OK
  },
}
