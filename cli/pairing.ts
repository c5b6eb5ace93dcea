import createDebug from 'debug'
import type { ControlClient } from '../lib/control/client.js'
import { PairingEventData, type PairingProgress } from '../lib/control/protocol.js'
import { PairctlError } from '../lib/errors.js'
import { createNode } from '../lib/node/index.js'
import { parseCode } from '../lib/pairing/code.js'
import type { Context } from './context.js'
import { connectDaemon } from './daemon-client.js'
import { CliError } from './errors.js'
import { ExitCode } from './exit-codes.js'
import { formatProgress } from './format.js'
import { type NetworkArgs, networkFlags, nodeOptions } from './network-options.js'
import { askYesNo } from './prompt.js'

const debug = createDebug('pairctl:cli')

/** What `generate` or `join` asks for, in either mode. */
export interface PairingAsk {
  kind: 'generate' | 'join'
  code?: string
  words?: number
  timeoutMs?: number
  confirm: boolean
}

/** A pairing in progress, in the daemon or in this process: the same steps either way. */
interface PairingHandle {
  progress: AsyncIterable<PairingProgress>
  answer(accept: boolean): Promise<void>
  cancel(): Promise<void>
  close(): Promise<void>
}

/**
 * Runs one pairing for the CLI (`spec/control.md` §8): through the daemon when one runs for the instance,
 * otherwise in an embedded node that lives as long as the command. Prints every step; Ctrl-C cancels
 * (the advert is withdrawn) and exits 130.
 */
export async function runPairing(ask: PairingAsk, args: NetworkArgs, ctx: Context): Promise<number> {
  if (ask.code !== undefined) ask.code = parseCode(ask.code).text
  if (ask.confirm && !process.stdin.isTTY)
    throw CliError.usage('--confirm needs a terminal to answer on; run without --confirm')
  const client = await connectDaemon(ctx)
  debug('%s via %s', ask.kind, client === null ? 'an embedded node' : 'the daemon')
  if (client !== null && networkFlags(args).length > 0)
    ctx.out.say('note: the daemon of this instance is used; network flags only apply to "pairctl start"')
  const handle = client === null ? await embedded(ask, args, ctx) : await viaDaemon(client, ask)
  const onAbort = () => void handle.cancel()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await follow(handle, ask, ctx)
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
    await handle.close()
  }
}

async function follow(handle: PairingHandle, ask: PairingAsk, ctx: Context): Promise<number> {
  for await (const progress of handle.progress) {
    ctx.out.emit(progress, () => formatProgress(progress))
    if (progress.type === 'sas' && ask.confirm) await handle.answer(await confirmSas(progress.sas, ctx))
    if (progress.type === 'paired') return ExitCode.OK
    if (progress.type === 'failed') throw new PairctlError(progress.code, progress.message)
  }
  throw ctx.signal.aborted
    ? ctx.signal.reason
    : new PairctlError('CONTROL_CLOSED', 'the daemon went away mid-pairing')
}

async function confirmSas(sas: string, ctx: Context): Promise<boolean> {
  const accept = await askYesNo(`Does the other device show the code ${sas}?`, ctx.signal)
  if (!accept) ctx.out.say('not confirmed: cancelling the pairing')
  return accept
}

async function embedded(ask: PairingAsk, args: NetworkArgs, ctx: Context): Promise<PairingHandle> {
  const node = await createNode(nodeOptions(args, ctx))
  let answer: (accept: boolean) => void = () => {}
  const confirm = ask.confirm ? () => new Promise<boolean>((resolve) => (answer = resolve)) : undefined
  const request = { words: ask.words, timeoutMs: ask.timeoutMs, confirm }
  const run = ask.kind === 'generate' ? node.generate(request) : node.join(ask.code!, request)
  return {
    progress: run,
    answer: async (accept) => answer(accept),
    cancel: async () => run.cancel(CliError.interrupted()),
    close: () => node.close(),
  }
}

async function viaDaemon(client: ControlClient, ask: PairingAsk): Promise<PairingHandle> {
  const events = client.events()
  const params = { timeoutMs: ask.timeoutMs, confirm: ask.confirm }
  const { sessionId } =
    ask.kind === 'generate'
      ? await client.request('pairing.generate', { ...params, words: ask.words })
      : await client.request('pairing.join', { ...params, code: ask.code! })
  return {
    progress: sessionProgress(events, sessionId),
    answer: async (accept) => void (await client.request('pairing.confirm', { sessionId, accept })),
    cancel: async () => void (await client.request('pairing.cancel', { sessionId }).catch(() => undefined)),
    close: () => client.close(),
  }
}

async function* sessionProgress(events: AsyncIterable<{ event: string; data: unknown }>, sessionId: string) {
  for await (const { event, data } of events) {
    const parsed = event === 'pairing' ? PairingEventData.safeParse(data) : null
    if (parsed?.success && parsed.data.sessionId === sessionId) yield parsed.data.progress
  }
}
