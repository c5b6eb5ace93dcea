import type { Argv } from 'yargs'
import {
  CONFIG_KEYS,
  type ConfigKey,
  isConfigKey,
  loadConfig,
  saveConfig,
  withoutValue,
  withValue,
} from '../../lib/node/config.js'
import type { Command } from '../command.js'
import { CliError } from '../errors.js'
import { ExitCode } from '../exit-codes.js'
import { printable } from '../text.js'

interface KeyArgs {
  key: string
}

interface SetArgs extends KeyArgs {
  value: string[]
}

const KEYS_TEXT = `keys: ${CONFIG_KEYS.join(', ')}`

function configKey(text: string): ConfigKey {
  if (!isConfigKey(text)) throw CliError.usage(`unknown configuration key "${printable(text)}"; ${KEYS_TEXT}`)
  return text
}

function show(value: unknown): string {
  if (value === undefined) return '(not set)'
  return Array.isArray(value) ? value.join(' ') : String(value)
}

const keyPositional = (yargs: Argv) =>
  yargs.positional('key', { type: 'string', demandOption: true, choices: CONFIG_KEYS, describe: 'Setting' })

const getCommand: Command<KeyArgs> = {
  command: 'get <key>',
  describe: 'Print one setting',
  builder: (yargs: Argv) =>
    keyPositional(yargs).example('$0 config get bootstrap', 'prints e.g. 192.0.2.7:49737'),
  async run(args, ctx) {
    const key = configKey(args.key)
    const value = (await loadConfig(ctx.dir))[key]
    ctx.out.emit({ type: 'config', key, value: value ?? null }, () => show(value))
    return ExitCode.OK
  },
}

const setCommand: Command<SetArgs> = {
  command: 'set <key> <value..>',
  describe: 'Change one setting (bootstrap takes one or more HOST:PORT)',
  builder: (yargs: Argv) =>
    keyPositional(yargs)
      .positional('value', {
        type: 'string',
        array: true,
        demandOption: true,
        default: undefined,
        describe: 'New value',
      })
      .example('$0 config set bootstrap 192.0.2.7:49737', 'generate, join and start use this DHT node')
      .example('$0 --instance alice config set name alice', 'the name the other device is shown'),
  async run(args, ctx) {
    const key = configKey(args.key)
    const config = withValue(await loadConfig(ctx.dir), key, args.value)
    await saveConfig(ctx.dir, config)
    ctx.out.emit({ type: 'config', key, value: config[key] ?? null }, () => `${key} = ${show(config[key])}`)
    return ExitCode.OK
  },
}

const unsetCommand: Command<KeyArgs> = {
  command: 'unset <key>',
  describe: 'Remove one setting (back to its default)',
  builder: (yargs: Argv) => keyPositional(yargs).example('$0 config unset host', 'bind all interfaces again'),
  async run(args, ctx) {
    const key = configKey(args.key)
    await saveConfig(ctx.dir, withoutValue(await loadConfig(ctx.dir), key))
    ctx.out.emit({ type: 'config', key, value: null }, () => `${key} unset`)
    return ExitCode.OK
  },
}

const listCommand: Command<object> = {
  command: 'list',
  describe: 'Print every setting',
  builder: (yargs: Argv) => yargs.example('$0 --instance alice config list --json', 'one JSON object'),
  async run(_args, ctx) {
    const config = await loadConfig(ctx.dir)
    const values = Object.fromEntries(CONFIG_KEYS.map((key) => [key, config[key] ?? null]))
    ctx.out.emit({ type: 'config-list', values }, () =>
      CONFIG_KEYS.map((key) => `${key.padEnd(10)} ${show(config[key])}`).join('\n'),
    )
    return ExitCode.OK
  },
}

/** `pairctl config get|set|unset|list`: the instance's remembered settings (`spec/cli.md` §5). */
export const configCommand: Command<object> = {
  command: 'config',
  describe: 'Show or change settings of this instance (bootstrap, name, host, port)',
  builder: (yargs: Argv) =>
    yargs
      .demandCommand(1, 'name a subcommand: config get, set, unset or list')
      .example('$0 config set bootstrap 192.0.2.7:49737', 'remember a DHT bootstrap node'),
  subcommands: [getCommand, setCommand, unsetCommand, listCommand],
  run: async () => ExitCode.USAGE,
}
