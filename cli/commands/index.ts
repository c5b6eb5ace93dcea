import type { Command } from '../command.js'
import { idCommand } from './id.js'

/** Every `pairctl` subcommand, in the order `--help` lists them. */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own argument type
export const COMMANDS: Command<any>[] = [idCommand]
