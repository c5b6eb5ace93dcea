import type { Argv } from 'yargs'
import type { TransferInfo } from '../../lib/control/protocol.js'
import { TransferError } from '../../lib/transfer/errors.js'
import type { Command } from '../command.js'
import type { Context } from '../context.js'
import { withDaemon } from '../daemon-client.js'
import { ExitCode } from '../exit-codes.js'
import { followTransfer, formatTransfer, requestAndFollow } from '../transfer-view.js'

interface IdArgs {
  id: string
}

/** Prints transfers, one per line, or one JSON object with them. */
function list(ctx: Context, transfers: TransferInfo[], empty: string): void {
  ctx.out.emit({ type: 'transfers', transfers }, () =>
    transfers.length === 0 ? empty : transfers.map(formatTransfer).join('\n'),
  )
}

/** `pairctl transfers [id]`: every transfer, or follow one (live progress). */
export const transfersCommand: Command<Partial<IdArgs>> = {
  command: 'transfers [id]',
  describe: 'List file transfers (active, paused, finished), or follow one with its ID',
  builder: (yargs: Argv) => yargs.positional('id', { type: 'string', describe: 'transfer ID or prefix' }),
  run: (args, ctx) =>
    withDaemon(ctx, async (client) => {
      const events = client.events()
      const { transfers } = await client.request('transfers.list', {})
      if (args.id === undefined) {
        list(ctx, transfers, 'no transfers')
        return ExitCode.OK
      }
      const found = transfers.filter((t) => t.id === args.id || t.id.startsWith(args.id!))
      if (found.length !== 1) throw TransferError.notFound(args.id)
      return followTransfer(ctx, events, found[0]!)
    }),
}

/** `pairctl inbox`: offers waiting for `pairctl accept` or `pairctl reject`. */
export const inboxCommand: Command<object> = {
  command: 'inbox',
  describe: 'List file offers waiting for pairctl accept <id> or pairctl reject <id>',
  builder: (yargs: Argv) => yargs,
  run: (_args, ctx) =>
    withDaemon(ctx, async (client) => {
      const { transfers } = await client.request('transfers.list', {})
      const waiting = transfers.filter((t) => t.direction === 'receive' && t.state === 'pending')
      list(ctx, waiting, 'no offers waiting')
      return ExitCode.OK
    }),
}

/** `pairctl accept <id>`: accepts an offer (or retries a paused one) and shows its progress. */
export const acceptCommand: Command<IdArgs> = {
  command: 'accept <id>',
  describe: 'Accept a file offer from the inbox and show its progress',
  builder: (yargs: Argv) => yargs.positional('id', { type: 'string', demandOption: true }),
  run: (args, ctx) =>
    withDaemon(ctx, (client) =>
      requestAndFollow(ctx, client, () => client.request('transfers.accept', { id: args.id })),
    ),
}

/** `pairctl reject <id>`: refuses an offer. */
export const rejectCommand: Command<IdArgs> = {
  command: 'reject <id>',
  describe: 'Reject a file offer (or abandon an incoming transfer)',
  builder: (yargs: Argv) => yargs.positional('id', { type: 'string', demandOption: true }),
  run: (args, ctx) =>
    withDaemon(ctx, async (client) => {
      const { transfer } = await client.request('transfers.reject', { id: args.id })
      ctx.out.emit({ type: 'rejected', transfer }, () => formatTransfer(transfer))
      return ExitCode.OK
    }),
}

/** `pairctl cancel <id>`: cancels an outgoing transfer. */
export const cancelCommand: Command<IdArgs> = {
  command: 'cancel <id>',
  describe: 'Cancel a file transfer you are sending',
  builder: (yargs: Argv) => yargs.positional('id', { type: 'string', demandOption: true }),
  run: (args, ctx) =>
    withDaemon(ctx, async (client) => {
      const { transfer } = await client.request('transfers.cancel', { id: args.id })
      ctx.out.emit({ type: 'cancelled', transfer }, () => formatTransfer(transfer))
      return ExitCode.OK
    }),
}
