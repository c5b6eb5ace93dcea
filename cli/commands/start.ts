import { spawn } from 'node:child_process'
import { open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Argv } from 'yargs'
import { ControlError } from '../../lib/control/errors.js'
import { ensureDir, writeAtomic } from '../../lib/identity/index.js'
import type { Command } from '../command.js'
import type { Context } from '../context.js'
import { connectDaemon, STARTING_FILE } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import {
  type NetworkArgs,
  networkFlags,
  networkOptions,
  nodeOptions,
  rememberAndSay,
  rememberFlags,
} from '../network-options.js'
import { untilAborted } from '../signals.js'
import { packageVersion } from '../version.js'

/** File the detached daemon writes its output to, in the instance directory; the previous run's is `.1`. */
export const DAEMON_LOG = 'daemon.log'
/** How long `start` waits for a detached daemon to answer on its socket. */
const START_TIMEOUT_MS = 60_000

interface StartArgs extends NetworkArgs {
  foreground: boolean
}

/** `pairctl start`: runs the instance's daemon, detached unless `--foreground`. */
export const startCommand: Command<StartArgs> = {
  command: 'start',
  describe: 'Start the daemon for this instance (detached; --foreground to stay attached)',
  builder: (yargs: Argv) =>
    networkOptions(yargs)
      .option('foreground', {
        type: 'boolean',
        default: false,
        describe: 'Run in this process, log to stdout',
      })
      .example('$0 start', 'start the daemon in the background; flags given once are remembered')
      .example('$0 --instance alice start --foreground', 'run alice in the terminal, Ctrl-C stops it'),
  async run(args, ctx) {
    const running = await connectDaemon(ctx)
    if (running !== null) {
      await running.close()
      throw ControlError.daemonRunning(ctx.instance, running.hello.pid)
    }
    return args.foreground ? runForeground(args, ctx) : detach(args, ctx)
  },
}

/**
 * Runs the daemon here. Until its control socket answers, a `daemon.starting` file names this process,
 * so that commands typed meanwhile wait for the socket instead of failing on the instance lock.
 */
async function runForeground(args: StartArgs, ctx: Context): Promise<typeof ExitCode.OK> {
  const { createNode, startDaemon } = await import('../../lib/node/index.js')
  const options = await nodeOptions(args, ctx)
  await ensureDir(ctx.dir)
  const starting = join(ctx.dir, STARTING_FILE)
  await writeAtomic(starting, `${process.pid}\n`)
  const node = await createNode(options).catch(async (err) => {
    await unlink(starting).catch(() => {})
    throw err
  })
  try {
    const daemon = await startDaemon(node, packageVersion()).finally(() => unlink(starting).catch(() => {}))
    await rememberFlags(args, ctx)
    const status = node.status(packageVersion())
    ctx.out.emit(
      { type: 'started', pid: process.pid, deviceId: node.deviceId, socket: daemon.socketPath, status },
      () =>
        [
          `pairctl daemon for instance "${ctx.instance}" running (pid ${process.pid})`,
          `  device ID ${node.deviceId}`,
          ...status.listen.map((a) => `  listening ${a.protocol} ${a.host}:${a.port}`),
          `  control socket ${daemon.socketPath}`,
        ].join('\n'),
    )
    await Promise.race([daemon.stopRequested, untilAborted(ctx.signal)])
    ctx.out.emit({ type: 'stopping' }, () => 'stopping…')
    await daemon.close()
  } finally {
    await unlink(starting).catch(() => {})
    await node.close()
  }
  return ExitCode.OK
}

/**
 * Starts `pairctl start --foreground` as a detached child logging to a fresh daemon.log (the previous
 * run's kept as daemon.log.1); waits until it answers.
 */
async function detach(args: StartArgs, ctx: Context): Promise<typeof ExitCode.OK> {
  await ensureDir(ctx.dir)
  const logPath = join(ctx.dir, DAEMON_LOG)
  await rename(logPath, `${logPath}.1`).catch(() => undefined)
  const log = await open(logPath, 'w', 0o600)
  const argv = [...process.execArgv, process.argv[1]!, 'start', '--foreground', '--instance', ctx.instance]
  const child = spawn(process.execPath, [...argv, ...networkFlags(args)], {
    detached: true,
    stdio: ['ignore', log.fd, log.fd],
  })
  await log.close()
  let exited: number | null = null
  child.once('exit', (code) => (exited = code ?? 1))
  child.unref()
  const pid = await waitForSocket(ctx, () => exited, logPath)
  // Remembered once they worked: a port that was in use is not kept.
  await rememberAndSay(args, ctx)
  ctx.out.emit({ type: 'started', pid, log: logPath }, () => `daemon started (pid ${pid}); log: ${logPath}`)
  return ExitCode.OK
}

async function waitForSocket(ctx: Context, exitCode: () => number | null, logPath: string): Promise<number> {
  const deadline = Date.now() + START_TIMEOUT_MS
  while (Date.now() < deadline) {
    const client = await connectDaemon(ctx, { wait: false }).catch(() => null)
    if (client !== null) {
      await client.close()
      return client.hello.pid
    }
    const code = exitCode()
    if (code !== null) throw await startFailed(logPath, `exited with code ${code}`)
    await sleep(50, undefined, { signal: ctx.signal })
  }
  throw await startFailed(logPath, `did not answer within ${START_TIMEOUT_MS / 1000} s`)
}

async function startFailed(logPath: string, what: string): Promise<ControlError> {
  const tail = (await readFile(logPath, 'utf8').catch(() => '')).trim().split('\n').slice(-5).join('\n')
  return new ControlError('CONTROL_START_FAILED', `the daemon ${what}; last lines of ${logPath}:\n${tail}`)
}
