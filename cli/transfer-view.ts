/**
 * How `pairctl` shows file transfers (`spec/transfer.md` §7): one line per transfer, a live progress bar
 * on a terminal, and the following of one transfer's events through the daemon. Names come from the
 * peer, so every control character is escaped before it reaches a terminal.
 * @module
 */
import type { ControlClient } from '../lib/control/client.js'
import { TransferInfo } from '../lib/control/protocol.js'
import type { Context } from './context.js'
import { ExitCode, type ExitCodeValue } from './exit-codes.js'

const BAR_WIDTH = 24
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it escapes
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g

/** `text` with every control and bidi-override character as a `\u{…}` escape. */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
}

/** A byte count for people: `512 B`, `3.4 MiB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let value = bytes
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024
    unit++
  }
  return unit === 0 ? `${bytes} B` : `${value.toFixed(1)} ${units[unit]}`
}

/** One transfer on one line (`pairctl transfers`, `pairctl inbox`). */
export function formatTransfer(transfer: TransferInfo): string {
  const arrow = transfer.direction === 'send' ? 'to' : 'from'
  const files = `${transfer.files} file${transfer.files === 1 ? '' : 's'}`
  const error =
    transfer.error === null ? '' : ` (${transfer.error.code}: ${printable(transfer.error.message)})`
  return (
    `${transfer.id.slice(0, 8)}  ${transfer.state.padEnd(9)} ${transfer.direction.padEnd(7)} ` +
    `"${printable(transfer.label)}" ${files}, ${formatBytes(transfer.transferred)} / ${formatBytes(transfer.bytes)} ` +
    `${arrow} ${transfer.deviceId}  root ${transfer.root.slice(0, 16)}…${error}`
  )
}

/** The progress bar line: bar, percentage, bytes, rate and ETA. */
export function formatBar(transfer: TransferInfo): string {
  const fraction = transfer.bytes === 0 ? 1 : transfer.transferred / transfer.bytes
  const filled = Math.round(fraction * BAR_WIDTH)
  const eta = transfer.etaSeconds === null ? '' : `  ETA ${transfer.etaSeconds} s`
  return (
    `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` +
    `${formatBytes(transfer.transferred)} / ${formatBytes(transfer.bytes)}  ${formatBytes(transfer.rate)}/s${eta}  ` +
    `${transfer.state} "${printable(transfer.label)}"`
  )
}

/** States a transfer never leaves. */
const FINAL = new Set(['done', 'rejected', 'cancelled', 'failed'])

/**
 * Shows `transfer` and its changes until it ends: JSON lines `{"type":"progress",…}` and a final
 * `{"type":"<state>",…}`; on a terminal a bar redrawn in place; otherwise one line per state change.
 * Returns the exit code for its final state (Ctrl-C: 130, the transfer goes on in the daemon).
 */
export async function followTransfer(
  ctx: Context,
  events: AsyncIterableIterator<{ event: string; data: unknown }>,
  first: TransferInfo,
): Promise<ExitCodeValue> {
  const view = new TransferView(ctx)
  view.show(first)
  if (FINAL.has(first.state)) return view.end(first)
  ctx.signal.addEventListener('abort', () => void events.return?.(), { once: true })
  for await (const { event, data } of events) {
    if (event !== 'transfers.changed') continue
    const transfer = TransferInfo.parse(data)
    if (transfer.id !== first.id) continue
    view.show(transfer)
    if (FINAL.has(transfer.state)) return view.end(transfer)
  }
  view.interrupted(first.id)
  return ExitCode.INTERRUPTED
}

/** Draws one followed transfer. */
class TransferView {
  readonly #tty: boolean
  #lastState = ''

  constructor(private readonly ctx: Context) {
    this.#tty = !ctx.out.json && process.stdout.isTTY === true
  }

  show(transfer: TransferInfo): void {
    if (this.ctx.out.json) {
      if (!FINAL.has(transfer.state)) this.ctx.out.emit({ type: 'progress', transfer }, () => null)
      return
    }
    if (this.#tty) process.stdout.write(`\r\u001b[K${formatBar(transfer)}`)
    else if (transfer.state !== this.#lastState) this.ctx.out.say(formatTransfer(transfer))
    this.#lastState = transfer.state
  }

  end(transfer: TransferInfo): ExitCodeValue {
    if (this.#tty) process.stdout.write('\n')
    this.ctx.out.emit({ type: transfer.state, transfer }, () => null)
    if (transfer.state === 'done') return ExitCode.OK
    if (!this.ctx.out.json && transfer.error !== null)
      process.stderr.write(`pairctl: ${transfer.error.code}: ${printable(transfer.error.message)}\n`)
    return transfer.state === 'failed' ? ExitCode.FAILED : ExitCode.CANCELLED
  }

  interrupted(id: string): void {
    if (this.#tty) process.stdout.write('\n')
    this.ctx.out.say(
      `stopped watching; the transfer goes on in the daemon (pairctl cancel ${id.slice(0, 8)})`,
    )
  }
}

/** Follows the transfer a request returns, subscribing before the request so no event is missed. */
export async function requestAndFollow(
  ctx: Context,
  client: ControlClient,
  request: () => Promise<{ transfer: TransferInfo }>,
): Promise<ExitCodeValue> {
  const events = client.events()
  const { transfer } = await request()
  return followTransfer(ctx, events, transfer)
}
