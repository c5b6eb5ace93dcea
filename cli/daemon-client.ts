import { join } from 'node:path'
import { ControlClient } from '../lib/control/client.js'
import { CONTROL_SOCKET_FILE } from '../lib/control/constants.js'
import { hasCode } from '../lib/errors.js'
import type { Context } from './context.js'

/** The instance's control socket path. */
export function socketPath(ctx: Context): string {
  return join(ctx.dir, CONTROL_SOCKET_FILE)
}

/** A connection to the instance's daemon, or null when none runs. */
export async function connectDaemon(ctx: Context): Promise<ControlClient | null> {
  try {
    return await ControlClient.connect(socketPath(ctx), ctx.instance)
  } catch (err) {
    if (hasCode(err, 'CONTROL_NOT_RUNNING')) return null
    throw err
  }
}

/** Runs `fn` with a connection to the daemon, which must be running (`CONTROL_NOT_RUNNING` otherwise). */
export async function withDaemon<T>(ctx: Context, fn: (client: ControlClient) => Promise<T>): Promise<T> {
  const client = await ControlClient.connect(socketPath(ctx), ctx.instance)
  try {
    return await fn(client)
  } finally {
    await client.close()
  }
}
