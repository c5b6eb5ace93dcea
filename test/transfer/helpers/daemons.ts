import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { ControlClient } from '../../../lib/control/client.js'
import { CONTROL_SOCKET_FILE } from '../../../lib/control/constants.js'
import type { TransferInfo } from '../../../lib/control/protocol.js'
import { isRunning } from '../../../lib/identity/index.js'
import { jsonLines, runCli, startBootstrap, startCli, tempHome } from '../../cli/helpers/cli.js'
import { loopback } from '../../cli/helpers/pairing.js'

type Test = Parameters<typeof tempHome>[0] & { teardown(fn: () => void): void }

/** Two paired `pairctl` daemons, `alice` and `bob`, as separate processes on loopback. */
export interface Daemons {
  home: string
  pids: Record<'alice' | 'bob', number>
  /** `pairctl start` of `name` again (after it was killed); resolves with its pid. */
  start(name: 'alice' | 'bob'): Promise<number>
  /** A control connection to `name`'s daemon, closed at teardown. */
  connect(name: 'alice' | 'bob'): Promise<ControlClient>
  /** SIGKILL of `name`'s daemon; resolves once the process is gone. */
  kill(name: 'alice' | 'bob'): Promise<void>
}

/** The directory of `instance` under `home`. */
export function instanceDir(home: string, instance: string): string {
  return join(home, 'instances', instance)
}

/**
 * Starts a bootstrap node and two daemons, `alice` and `bob`, each with a private instance directory
 * under one temporary home; they are not paired yet. `prepare` runs on the home before they start.
 */
export async function startDaemons(t: Test, prepare?: (home: string) => Promise<void>): Promise<Daemons> {
  const home = await tempHome(t)
  await prepare?.(home)
  const bootstrap = await startBootstrap(t, home)
  const pids = { alice: 0, bob: 0 }
  t.teardown(() => {
    for (const pid of Object.values(pids))
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
  })
  const start = async (name: 'alice' | 'bob') => {
    const args = ['start', '--instance', name, '--name', name, '--json', ...loopback(bootstrap)]
    const started = await runCli(home, args, 60_000)
    if (started.code !== 0) throw new Error(`start ${name}: ${started.stdout}${started.stderr}`)
    pids[name] = jsonLines(started.stdout)[0]!.pid as number
    return pids[name]
  }
  const clients: ControlClient[] = []
  t.teardown(() => {
    for (const client of clients) void client.close()
  })
  const connect = async (name: 'alice' | 'bob') => {
    const client = await ControlClient.connect(join(instanceDir(home, name), CONTROL_SOCKET_FILE), name)
    clients.push(client)
    return client
  }
  const kill = async (name: 'alice' | 'bob') => {
    process.kill(pids[name], 'SIGKILL')
    while (isRunning(pids[name])) await sleep(20)
  }
  await start('alice')
  await start('bob')
  return { home, pids, start, connect, kill }
}

/**
 * Pairs alice (`pairctl generate`) with bob (`pairctl join <code>`) through their daemons, as a user
 * types it; resolves once both commands succeeded.
 */
export async function pair(t: Test, daemons: Daemons): Promise<void> {
  const generate = startCli(t, daemons.home, ['--instance', 'alice', 'generate', '--json'])
  const { code } = await generate.waitFor((record) => record.type === 'code', 60_000)
  const joined = await runCli(daemons.home, ['--instance', 'bob', 'join', String(code), '--json'], 60_000)
  if (joined.code !== 0) throw new Error(`join: ${joined.stdout}${joined.stderr}`)
  const generated = await generate.exited
  if (generated.code !== 0) throw new Error(`generate: ${generated.stdout}${generated.stderr}`)
}

/** {@link startDaemons}, then {@link pair}; resolves once alice sees bob online. */
export async function pairedDaemons(t: Test): Promise<Daemons> {
  const daemons = await startDaemons(t)
  await pair(t, daemons)
  await linked(daemons, 'alice')
  return daemons
}

/** Resolves once `name`'s daemon reports its paired device online. */
export async function linked(daemons: Daemons, name: 'alice' | 'bob'): Promise<void> {
  const client = await daemons.connect(name)
  for (;;) {
    const status = await client.request('status', {})
    if (status.paired[0]?.online === true) return
    await sleep(100)
  }
}

/** The first `transfers.changed` event of `client` that `match` accepts. */
export async function transferEvent(
  client: ControlClient,
  match: (info: TransferInfo) => boolean,
): Promise<TransferInfo> {
  const events = client.events()
  const { transfers } = await client.request('transfers.list', {})
  const now = transfers.find(match)
  if (now !== undefined) return now
  for await (const { event, data } of events)
    if (event === 'transfers.changed' && match(data as TransferInfo)) return data as TransferInfo
  throw new Error('the daemon closed the connection')
}
