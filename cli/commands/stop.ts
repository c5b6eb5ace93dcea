import { setTimeout as sleep } from 'node:timers/promises'
import type { Argv } from 'yargs'
import { ControlError } from '../../lib/control/errors.js'
import { isRunning } from '../../lib/identity/index.js'
import type { Command } from '../command.js'
import { withDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'

const STOP_TIMEOUT_MS = 15_000

/** `pairctl stop`: asks the instance's daemon to stop and waits until its process has exited. */
export const stopCommand: Command<object> = {
  command: 'stop',
  describe: 'Stop the daemon of this instance',
  builder: (yargs: Argv) =>
    yargs
      .example('$0 stop', 'stop the daemon of the default instance')
      .example('$0 --instance alice stop --json', '{"type":"stopped","pid":…}'),
  async run(_args, ctx) {
    const pid = await withDaemon(ctx, async (client) => {
      await client.request('daemon.stop', {})
      return client.hello.pid
    })
    await waitForExit(pid, ctx.signal)
    ctx.out.emit({ type: 'stopped', pid }, () => `daemon stopped (pid ${pid})`)
    return ExitCode.OK
  },
}

async function waitForExit(pid: number, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + STOP_TIMEOUT_MS
  while (isRunning(pid)) {
    if (Date.now() > deadline)
      throw new ControlError(
        'CONTROL_STOP_TIMEOUT',
        `the daemon (pid ${pid}) did not exit; kill it with: kill ${pid}`,
      )
    await sleep(50, undefined, { signal })
  }
}
