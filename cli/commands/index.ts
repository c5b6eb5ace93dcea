import type { Command } from '../command.js'
import { bootstrapCommand } from './bootstrap.js'
import { completionCommand } from './completion.js'
import { configCommand } from './config.js'
import { devicesCommand } from './devices.js'
import { idCommand } from './id.js'
import { listenCommand } from './listen.js'
import { generateCommand, joinCommand, pairCommand } from './pair.js'
import { relayCommand } from './relay.js'
import { sendCommand } from './send.js'
import { startCommand } from './start.js'
import { statusCommand } from './status.js'
import { stopCommand } from './stop.js'
import { acceptCommand, cancelCommand, inboxCommand, rejectCommand, transfersCommand } from './transfers.js'
import { unpairCommand } from './unpair.js'

/** Every `pairctl` subcommand, in the order `--help` lists them. */
// biome-ignore lint/suspicious/noExplicitAny: each command has its own argument type
export const COMMANDS: Command<any>[] = [
  idCommand,
  generateCommand,
  joinCommand,
  pairCommand,
  startCommand,
  stopCommand,
  statusCommand,
  devicesCommand,
  unpairCommand,
  sendCommand,
  transfersCommand,
  inboxCommand,
  acceptCommand,
  rejectCommand,
  cancelCommand,
  listenCommand,
  configCommand,
  bootstrapCommand,
  completionCommand,
  relayCommand,
]
