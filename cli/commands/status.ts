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

/** `pairctl status`: the daemon's view when it runs, otherwise what the instance directory says. */
export const statusCommand: Command<object> = {
  command: 'status',
  describe: 'Show device ID, addresses, NAT type, DHT and paired devices',
  builder: (yargs: Argv) => yargs,
  async run(_args, ctx) {
    const client = await connectDaemon(ctx)
    const status = client === null ? await offlineStatus(ctx) : await client.request('status', {})
    await client?.close()
    ctx.out.emit({ running: client !== null, ...status }, () => formatStatus(status, client !== null))
    return ExitCode.OK
  },
}

async function offlineStatus(ctx: Context): Promise<Status> {
  const identity = await loadOrCreateIdentity(ctx.dir)
  const store = await PairedDeviceStore.open(ctx.dir)
  return {
    deviceId: identity.deviceId,
    instance: ctx.instance,
    name: '-',
    pid: 0,
    version: packageVersion(),
    listen: [],
    external: [],
    natType: 'unknown',
    dht: { routingTableSize: 0, bootstrap: [] },
    paired: store.list().map((device) => ({ ...deviceInfo(device), online: null, lastSeen: null })),
  }
}
