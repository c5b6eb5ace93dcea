import type { Argv } from 'yargs'
import type { DeviceInfo } from '../../lib/control/protocol.js'
import { ensureDir, lockInstance } from '../../lib/identity/index.js'
import { deviceInfo, findDevice } from '../../lib/node/devices.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import type { Command } from '../command.js'
import type { Context } from '../context.js'
import { connectDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { formatDevice } from '../format.js'

interface UnpairArgs {
  device: string
}

/** `pairctl unpair <device>`: forgets a paired device (by ID, ID prefix or name). */
export const unpairCommand: Command<UnpairArgs> = {
  command: 'unpair <device>',
  describe: 'Forget a paired device (device ID, a unique ID prefix, or its name)',
  builder: (yargs: Argv) =>
    yargs
      .positional('device', {
        type: 'string',
        demandOption: true,
        describe: 'Device ID, its first 4 or more characters, or its name',
      })
      .example('$0 unpair bob', 'forget the device named "bob"')
      .example('$0 unpair TIY7', 'forget the device whose ID starts with TIY7'),
  async run(args, ctx) {
    const client = await connectDaemon(ctx)
    const removed =
      client === null
        ? await removeLocally(ctx, args.device)
        : (await client.request('devices.remove', { device: args.device })).removed
    await client?.close()
    ctx.out.emit({ type: 'unpaired', removed }, () => `unpaired ${formatDevice(removed)}`)
    return ExitCode.OK
  },
}

/** Without a daemon: under the instance lock, so no embedded pairing writes the store meanwhile. */
async function removeLocally(ctx: Context, text: string): Promise<DeviceInfo> {
  await ensureDir(ctx.dir)
  const lock = await lockInstance(ctx.dir)
  try {
    const store = await PairedDeviceStore.open(ctx.dir)
    const device = findDevice(store.list(), text)
    await store.remove(device.deviceId)
    return deviceInfo(device)
  } finally {
    await lock.release()
  }
}
