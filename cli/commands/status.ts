import type { Argv } from 'yargs'
import type { Status } from '../../lib/control/protocol.js'
import { loadOrCreateIdentity } from '../../lib/identity/index.js'
import { deviceInfo } from '../../lib/node/devices.js'
import { PairedDeviceStore } from '../../lib/pairing/store.js'
import type { Command } from '../command.js'
import type { Context } from '../context.js'
import { connectDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { formatStatus } from '../format.js'
import { packageVersion } from '../version.js'

/**
 * `pairctl status`: the daemon's view when it runs (`{"type":"status","running":true,…}`), otherwise
 * what the instance directory says, with `"running":false` and no daemon fields (`spec/cli.md` §3).
 */
export const statusCommand: Command<object> = {
  command: 'status',
  describe: 'Show device ID, addresses, NAT type, DHT and paired devices',
  builder: (yargs: Argv) =>
    yargs
      .example('$0 status', 'daemon, addresses, NAT type, paired devices and whether they are online')
      .example('$0 --instance alice status --json', '{"type":"status","running":true,…}'),
  async run(_args, ctx) {
    const client = await connectDaemon(ctx)
    if (client === null) {
      const offline = await offlineStatus(ctx)
      ctx.out.emit({ type: 'status', running: false, ...offline }, () =>
        formatStatus(
          { ...offline, pid: 0, name: '', listen: [], external: [], natType: '', dht: noDht },
          false,
        ),
      )
      return ExitCode.OK
    }
    const status = await client.request('status', {})
    await client.close()
    ctx.out.emit({ type: 'status', running: true, ...status }, () => formatStatus(status, true))
    return ExitCode.OK
  },
}

const noDht = { routingTableSize: 0, bootstrap: [] }

/** What the files say without a daemon: identity and paired devices, online unknown (null). */
async function offlineStatus(
  ctx: Context,
): Promise<Pick<Status, 'deviceId' | 'instance' | 'version' | 'paired'>> {
  const identity = await loadOrCreateIdentity(ctx.dir)
  const store = await PairedDeviceStore.open(ctx.dir)
  return {
    deviceId: identity.deviceId,
    instance: ctx.instance,
    version: packageVersion(),
    paired: store.list().map((device) => ({ ...deviceInfo(device), online: null, lastSeen: null })),
  }
}
