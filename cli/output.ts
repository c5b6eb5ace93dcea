import { PairctlError } from '../lib/errors.js'

/** Where a command writes: stdout for results, stderr for errors; JSON lines or plain words. */
export interface Streams {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
}

/**
 * Command output (`spec/control.md` §8). With `--json` every result and every progress event is one JSON
 * object on its own line of stdout, and an error is `{"type":"error","code","message"}` on stdout too, so
 * a script reads one stream; without it, people get sentences on stdout and errors on stderr.
 */
export class Output {
  constructor(
    readonly json: boolean,
    private readonly streams: Streams = { stdout: process.stdout, stderr: process.stderr },
  ) {}

  /** A machine-readable record (JSON mode) or its human rendering. */
  emit(record: object, human: () => string | null): void {
    if (this.json) this.streams.stdout.write(`${JSON.stringify(record)}\n`)
    else this.say(human())
  }

  /** Plain words for a person; nothing in JSON mode. */
  say(text: string | null): void {
    if (!this.json && text !== null) this.streams.stdout.write(`${text}\n`)
  }

  /** A failure: the code and the message (which carries the next step). */
  error(err: unknown): void {
    const code = err instanceof PairctlError ? err.code : 'INTERNAL'
    const message = err instanceof Error ? err.message : String(err)
    if (this.json) this.streams.stdout.write(`${JSON.stringify({ type: 'error', code, message })}\n`)
    else this.streams.stderr.write(`pairctl: ${message}\n`)
  }
}
