import { join } from 'node:path'
import { wordlist } from '@scure/bip39/wordlists/english.js'
import { loadOrCreateIdentity } from '../../../lib/identity/index.js'
import { PairedDeviceStore } from '../../../lib/pairing/store.js'
import { jsonLines, runCli } from './cli.js'

/** Network flags that keep a node on loopback and point it at the test's bootstrap node. */
export const loopback = (bootstrap: string) => ['--host', '127.0.0.1', '--bootstrap', bootstrap]

/** Read in-process from the instance directory (the CLI's `id` is tested in basics.test.ts). */
export async function deviceIdOf(home: string, instance: string): Promise<string> {
  return (await loadOrCreateIdentity(join(home, 'instances', instance))).deviceId
}

/** Read in-process from the instance's store file, what `pairctl devices` shows without a daemon. */
export async function storedDevices(home: string, instance: string): Promise<string[]> {
  return (await PairedDeviceStore.open(join(home, 'instances', instance)))
    .list()
    .map((device) => device.deviceId)
}

/** `pairctl devices --json` (from the daemon when one runs). */
export async function devicesOf(home: string, instance: string): Promise<string[]> {
  const result = await runCli(home, ['devices', '--instance', instance, '--json'])
  const [record] = jsonLines(result.stdout)
  return (record!.devices as { deviceId: string }[]).map((device) => device.deviceId)
}

/** The same code with its last (secret) word replaced by another word. */
export function wrongCode(code: string): string {
  const words = code.split('-')
  const last = words.pop()!
  const other = wordlist.find((word) => word.slice(0, 4) !== last.slice(0, 4))!
  return [...words, other].join('-')
}
