import type { Argv } from 'yargs'
import type { DeviceInfo, PeerStatus } from '../../lib/control/protocol.js'
import { deviceInfo } from '../../lib/node/devices.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import type { Command } from '../command.js'
import { connectDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { formatDevice, formatPeer } from '../format.js'
import { instanceFlag } from '../network-options.js'

/**
 * `pairctl devices`: the paired devices, from the daemon when it runs (with their online state, as in
 * `status`), else from the instance's store.
 */
export const devicesCommand: Command<object> = {
  command: 'devices',
  describe: 'List paired devices',
  builder: (yargs: Argv) =>
    yargs
      .example('$0 devices', 'one line per device: name, ID, type, when paired, online')
      .example('$0 --instance bob devices --json', '{"type":"devices","devices":[…]}'),
  async run(_args, ctx) {
    const client = await connectDaemon(ctx)
    const devices: (DeviceInfo | PeerStatus)[] =
      client === null
        ? (await PairedDeviceStore.open(ctx.dir)).list().map(deviceInfo)
        : (await client.request('status', {})).paired
    await client?.close()
    ctx.out.emit({ type: 'devices', devices }, () =>
      devices.length === 0
        ? `no paired devices yet (pair one with: pairctl generate${instanceFlag(ctx)})`
        : devices
            .map((device) => ('online' in device ? formatPeer(device) : formatDevice(device)))
            .join('\n'),
    )
    return ExitCode.OK
  },
}
