import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ControlClient } from '../lib/control/client.js'
import { CONTROL_SOCKET_FILE } from '../lib/control/constants.js'
import { hasCode } from '../lib/errors.js'
import { isRunning } from '../lib/identity/index.js'
import type { Context } from './context.js'

/** Written by `start --foreground` until its control socket answers (`spec/cli.md` §6). */
export const STARTING_FILE = 'daemon.starting'
/** How long a command waits for a starting daemon's socket. */
const STARTING_WAIT_MS = 30_000
const POLL_MS = 100

/** The instance's control socket path. */
export function socketPath(ctx: Context): string {
  return join(ctx.dir, CONTROL_SOCKET_FILE)
}

/** The PID of a daemon of this instance that is still starting (socket not yet up), or null. */
async function startingDaemon(dir: string): Promise<number | null> {
  const text = await readFile(join(dir, STARTING_FILE), 'utf8').catch(() => '')
  const pid = Number.parseInt(text.trim(), 10)
  return Number.isSafeInteger(pid) && pid > 0 && pid !== process.pid && isRunning(pid) ? pid : null
}

/**
 * A connection to the instance's daemon, or null when none runs. While a daemon is starting (it holds
 * the instance lock but its socket is not up yet), waits for it unless `wait` is false.
 */
export async function connectDaemon(ctx: Context, { wait = true } = {}): Promise<ControlClient | null> {
  const deadline = Date.now() + STARTING_WAIT_MS
  let told = false
  for (;;) {
    try {
      return await ControlClient.connect(socketPath(ctx), ctx.instance)
    } catch (err) {
      if (!hasCode(err, 'CONTROL_NOT_RUNNING')) throw err
      const starting = wait && Date.now() < deadline ? await startingDaemon(ctx.dir) : null
      if (starting === null) return null
      if (!told) ctx.out.note(`waiting for the daemon (pid ${starting}) to finish starting…\n`)
      told = true
      await sleep(POLL_MS, undefined, { signal: ctx.signal })
    }
  }
}

/** Runs `fn` with a connection to the daemon, which must be running (`CONTROL_NOT_RUNNING` otherwise). */
export async function withDaemon<T>(ctx: Context, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = (await connectDaemon(ctx)) ?? (await ControlClient.connect(socketPath(ctx), ctx.instance))
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}
