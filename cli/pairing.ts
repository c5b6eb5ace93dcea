import createDebug from 'debug'
import type { ControlClient } from '../lib/control/client.js'
import { PairingEventData, type PairingProgress } from '../lib/control/protocol.js'
import { PairctlError } from '../lib/errors.js'
import { createNode } from '../lib/node/index.js'
import { parseCode } from '../lib/pairing/code.js'
import { readCode } from './code-entry.js'
import type { Context } from './context.js'
import { Countdown } from './countdown.js'
import { connectDaemon } from './daemon-client.js'
import { CliError } from './errors.js'
import { ExitCode } from './exit-codes.js'
import { formatDevice, formatProgress } from './format.js'
import { type NetworkArgs, networkFlags, nodeOptions, rememberAndSay } from './network-options.js'
import { askYesNo } from './prompt.js'

const debug = createDebug('pairctl:cli')

/** What `generate` or `join` asks for, in either mode. */
export interface PairingAsk {
  kind: 'generate' | 'join'
  /** The typed code (join); read from the terminal or standard input when absent. */
  code?: string
  words?: number
  timeoutMs?: number
  confirm: boolean
}

/** A pairing in progress, in the daemon or in this process: the same steps either way. */
interface PairingHandle {
  progress: AsyncIterable<PairingProgress>
  /** Device IDs paired before this pairing started (to say when one is paired again). */
  known: Set<string>
  /** The bootstrap nodes the other device needs too (for the `join` command the hint prints). */
  bootstrap: string[]
  answer(accept: boolean): Promise<void>
  cancel(): Promise<void>
  close(): Promise<void>
}

/**
 * Runs one pairing for the CLI (`spec/cli.md` §7): through the daemon when one runs for the instance,
 * otherwise in an embedded node that lives as long as the command. Prints every step; Ctrl-C cancels
 * (the advert is withdrawn) and exits 130.
 */
export async function runPairing(ask: PairingAsk, args: NetworkArgs, ctx: Context): Promise<number> {
  if (ask.confirm && !process.stdin.isTTY)
    throw CliError.usage('--confirm needs a terminal to answer on; run without --confirm')
  if (ask.kind === 'join') ask.code = parseCode(ask.code ?? (await readCode(ctx))).text
  await rememberAndSay(args, ctx)
  const client = await connectDaemon(ctx)
  debug('%s via %s', ask.kind, client === null ? 'an embedded node' : 'the daemon')
  if (client !== null && networkFlags(args).length > 0)
    ctx.out.note('note: the daemon of this instance is used; network flags apply when it next starts\n')
  const handle = client === null ? await embedded(ask, args, ctx) : await viaDaemon(client, ask)
  const onAbort = () => void handle.cancel()
  ctx.signal.addEventListener('abort', onAbort, { once: true })
  try {
    return await follow(handle, ask, ctx)
  } catch (err) {
    // However the cancelled run ended (its own error, or the progress cut short), Ctrl-C is what happened.
    throw ctx.signal.aborted && !(err instanceof CliError) ? CliError.pairingInterrupted() : err
  } finally {
    ctx.signal.removeEventListener('abort', onAbort)
    await handle.close()
  }
}

async function follow(handle: PairingHandle, ask: PairingAsk, ctx: Context): Promise<number> {
  const countdown = new Countdown()
  try {
    for await (const progress of handle.progress) {
      // A failure is reported once, as the error record the caller prints (`spec/cli.md` §3).
      if (progress.type === 'failed') throw new PairctlError(progress.code, progress.message)
      countdown.clear()
      show(progress, handle, ctx)
      if (progress.type === 'code') countdown.start(progress.expiresAt)
      else if (progress.type !== 'advertised') countdown.stop()
      if (progress.type === 'sas' && ask.confirm) await handle.answer(await confirmSas(progress.sas, ctx))
      if (progress.type === 'paired') return ExitCode.OK
    }
  } finally {
    countdown.stop()
  }
  throw ctx.signal.aborted
    ? CliError.pairingInterrupted()
    : new PairctlError('CONTROL_CLOSED', 'the daemon went away mid-pairing')
}

function show(progress: PairingProgress, handle: PairingHandle, ctx: Context): void {
  if (progress.type !== 'paired') {
    ctx.out.emit(progress, () => formatProgress(progress, joinFlags(handle)))
    return
  }
  const again = handle.known.has(progress.device.deviceId)
  ctx.out.emit({ ...progress, alreadyPaired: again }, () =>
    again
      ? `paired again with ${formatDevice(progress.device)} (it was already paired; the new pairing replaces the old one)`
      : formatProgress(progress),
  )
}

/** The flags the other device's `pairctl join` needs to find this one: the same bootstrap nodes. */
function joinFlags(handle: PairingHandle): string {
  return handle.bootstrap.map((node) => `--bootstrap ${node} `).join('')
}

async function confirmSas(sas: string, ctx: Context): Promise<boolean> {
  const accept = await askYesNo(`Does the other device show the code ${sas}?`, ctx.signal)
  ctx.out.say(
    accept
      ? 'confirmed here; waiting for the other device to confirm too…'
      : 'not confirmed: cancelling the pairing',
  )
  return accept
}

async function embedded(ask: PairingAsk, args: NetworkArgs, ctx: Context): Promise<PairingHandle> {
  const options = await nodeOptions(args, ctx)
  const node = await createNode(options)
  let answer: (accept: boolean) => void = () => {}
  const confirm = ask.confirm ? () => new Promise<boolean>((resolve) => (answer = resolve)) : undefined
  const request = { words: ask.words, timeoutMs: ask.timeoutMs, confirm }
  const known = new Set(node.devices().map((device) => device.deviceId))
  const run = ask.kind === 'generate' ? node.generate(request) : node.join(ask.code!, request)
  return {
    progress: run,
    known,
    bootstrap: options.bootstrap ?? [],
    answer: async (accept) => answer(accept),
    cancel: async () => run.cancel(CliError.pairingInterrupted()),
    close: () => node.close(),
  }
}

async function viaDaemon(client: ControlClient, ask: PairingAsk): Promise<PairingHandle> {
  const events = client.events()
  const [{ devices }, status] = await Promise.all([
    client.request('devices.list', {}),
    client.request('status', {}),
  ])
  const params = { timeoutMs: ask.timeoutMs, confirm: ask.confirm }
  const { sessionId } =
    ask.kind === 'generate'
      ? await client.request('pairing.generate', { ...params, words: ask.words })
      : await client.request('pairing.join', { ...params, code: ask.code! })
  return {
    progress: sessionProgress(events, sessionId),
    known: new Set(devices.map((device) => device.deviceId)),
    bootstrap: status.dht.bootstrap,
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
